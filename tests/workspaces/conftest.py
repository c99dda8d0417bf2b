"""Fixtures for the workspace endpoints: both path spellings (§1.2) and a client per role."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from tests import factories
from tests.factories import Tenant
from tests.workspaces.helpers import jwt_client
from workspaces.models import Role

PREFIXES = ["/api/v1/ui", "/api/v1"]


@pytest.fixture(params=PREFIXES, ids=["ui", "plain"])
def prefix(request: pytest.FixtureRequest) -> str:
    """Every workspace endpoint is served under ``/api/v1/ui`` and ``/api/v1``."""
    return request.param


@pytest.fixture
def member_client(tenant_a: Tenant) -> Callable[[str], APIClient]:
    """``member_client(role)``: a new user with that role in tenant A's workspace."""

    def make(role: str) -> APIClient:
        user = factories.make_user(display_name=f"A {role}")
        factories.add_member(tenant_a.workspace, user, role)
        return jwt_client(user, tenant_a.workspace)

    return make


@pytest.fixture
def owner_client(tenant_a: Tenant) -> APIClient:
    return tenant_a.jwt_client()


@pytest.fixture
def admin_member_client(member_client: Callable[[str], APIClient]) -> APIClient:
    return member_client(Role.ADMIN)


@pytest.fixture
def plain_member_client(member_client: Callable[[str], APIClient]) -> APIClient:
    return member_client(Role.MEMBER)
