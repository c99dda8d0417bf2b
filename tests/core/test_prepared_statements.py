"""The hot statements are prepared on the server (PostgreSQL), as ``DB_PREPARED_STATEMENTS``
promises: Django connects with ``prepare_threshold=None`` unless told otherwise, which would
silently keep every statement unprepared."""

from __future__ import annotations

import pytest
from django.db import connection

from builds.services import build_create

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def _prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def test_hot_lookups_are_prepared_after_a_few_requests(tenant_a, client_a):
    build = build_create(environment=tenant_a.environment)
    for _ in range(7):
        assert client_a.get(f"/api/v1/builds/{build.pk}").status_code == 200
    prepared = _prepared_statements()
    assert any('FROM "workspaces_apikey"' in sql for sql in prepared), prepared
    assert any('FROM "builds_build"' in sql for sql in prepared), prepared
    # Django's own (client-binding) statements are never prepared.
    assert not any("pg_prepared_statements" in sql for sql in prepared)
