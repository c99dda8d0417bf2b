"""Shared fixtures: two tenants, an API client per credential, a local OIDC provider."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.oidc import jwks_cache
from tests.factories import Tenant, make_tenant
from tests.oidc_provider import LocalOidcProvider


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``postgres`` prove concurrency guarantees; they need PostgreSQL's row locks."""
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (run with DATABASE_URL=postgres://...)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker: Any) -> None:
    """What the test database needs beyond the models, as migrations are off: the rate
    limiter's cache table (``manage.py createcachetable``) and, on PostgreSQL, the lock acquire
    function (as ``locks.0005_acquire_completion_by_key`` leaves it)."""
    import importlib

    from django.core.management import call_command
    from django.db import connection

    with django_db_blocker.unblock():
        call_command("createcachetable", verbosity=0)
        if connection.vendor == "postgresql":
            acquire = importlib.import_module("locks.migrations.0005_acquire_completion_by_key")
            with connection.cursor() as cursor:
                cursor.execute(acquire.ACQUIRE_FUNCTION)


@pytest.fixture
def tenant_a(db: None) -> Tenant:
    return make_tenant("alice")


@pytest.fixture
def tenant_b(db: None) -> Tenant:
    return make_tenant("bob")


@pytest.fixture
def client_a(tenant_a: Tenant) -> APIClient:
    """API-key client of tenant A's environment."""
    return tenant_a.key_client()


@pytest.fixture
def client_b(tenant_b: Tenant) -> APIClient:
    return tenant_b.key_client()


@pytest.fixture
def anon_client() -> APIClient:
    return APIClient()


@pytest.fixture(scope="session")
def oidc_provider_session() -> Iterator[LocalOidcProvider]:
    provider = LocalOidcProvider()
    yield provider
    provider.close()


@pytest.fixture
def oidc_provider(oidc_provider_session: LocalOidcProvider, settings: object) -> LocalOidcProvider:
    """Point the server's OIDC settings at the local provider, with a cold JWKS cache."""
    settings.OIDC_ISSUER_URL = oidc_provider_session.issuer  # type: ignore[attr-defined]
    settings.OIDC_EXTERNAL_ISSUER_URL = ""  # type: ignore[attr-defined]
    settings.OIDC_JWKS_URL = oidc_provider_session.jwks_url  # type: ignore[attr-defined]
    jwks_cache.clear()
    oidc_provider_session.recover()
    yield oidc_provider_session
    oidc_provider_session.recover()
    jwks_cache.clear()
