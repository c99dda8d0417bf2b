"""User provisioning from identity-provider tokens (contract §3.4)."""

from __future__ import annotations

from typing import Any

from accounts.models import User


def user_from_oidc_claims(claims: dict[str, Any]) -> User:
    raise NotImplementedError
