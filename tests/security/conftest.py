"""Helpers for the end-to-end attack tests: every request goes over the HTTP stack with a real
credential (an identity-provider token signed by the local provider, an internal token from
``/auth/exchange``, or an API key)."""

from __future__ import annotations

from typing import Any

from rest_framework.test import APIClient

from tests.factories import bearer_client
from tests.oidc_provider import LocalOidcProvider


def idp_client(provider: LocalOidcProvider, sub: str, email: str, **token: Any) -> APIClient:
    """A client that presents the identity provider's access token for ``sub``."""
    return bearer_client(provider.token(sub, email=email, **token))


def exchanged_client(idp: APIClient, workspace_id: Any) -> APIClient:
    """A client with the internal token that ``idp``'s holder gets from ``/auth/exchange``."""
    response = idp.post("/api/v1/auth/exchange", {"workspace_id": str(workspace_id)},
                        format="json")
    assert response.status_code == 200, response.content
    return bearer_client(response.json()["access_token"])
