"""Helpers of the workspace endpoint tests (importable; the fixtures are in conftest.py)."""

from __future__ import annotations

from rest_framework.test import APIClient

from accounts.models import User
from tests import factories
from workspaces.models import Workspace


def jwt_client(user: User, workspace: Workspace) -> APIClient:
    return factories.bearer_client(factories.internal_token(user, workspace))


def detail(response: object) -> object:
    return response.json()["detail"]  # type: ignore[attr-defined]
