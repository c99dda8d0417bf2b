"""Fixtures of the search tests: the search indexes on PostgreSQL, a cold suggestion cache and
the catalog (``tests.search.catalog``) seeded for tenants A and B.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator

import pytest
from django.core.cache import cache
from django.db import connection

from tasks.search.numbers import forget_number_index_state
from tests.factories import Tenant
from tests.search.catalog import Catalog, seed_catalog

search_migration = importlib.import_module("tasks.migrations.0003_search_indexes")
search_rows_migration = importlib.import_module("tasks.migrations.0009_search_rows")
search_insert_migration = importlib.import_module("tasks.migrations.0010_search_insert_trigger")


@pytest.fixture(scope="session", autouse=True)
def search_indexes(django_db_setup, django_db_blocker) -> Iterator[None]:
    """On PostgreSQL, give the test database (built without migrations) the search indexes, the
    numeric side table and the search rows with their triggers (one insert trigger for both,
    ``0010``), as production has them.
    """
    with django_db_blocker.unblock():
        if connection.vendor == "postgresql":
            with connection.schema_editor() as editor:
                search_migration.create_indexes(None, editor)
                search_rows_migration.create(None, editor)
                search_insert_migration.create(None, editor)
        forget_number_index_state()
    yield


@pytest.fixture(autouse=True)
def clear_search_cache() -> Iterator[None]:
    """Suggestions are cached per environment; every test starts (and ends) cold."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def catalog(tenant_a: Tenant, tenant_b: Tenant) -> Catalog:
    return seed_catalog(tenant_a, tenant_b)
