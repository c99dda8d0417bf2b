"""The hot statements are prepared on the server (PostgreSQL), as ``DB_PREPARED_STATEMENTS``
promises: Django connects with ``prepare_threshold=None`` unless told otherwise, which would
silently keep every statement unprepared."""

from __future__ import annotations

import pytest
from django.db import connection

from builds.services import build_create
from tasks.models import TaskDependency

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


def test_edge_inserts_are_prepared_and_the_one_dependency_one_runs_a_generic_plan(
        tenant_a, client_a):
    """Registrations with one dependency share one statement text, which PostgreSQL runs with a
    generic plan after a few calls (no planning per registration); those with two or three
    share another (ids as one array). With ``= ANY`` for every count, the plan was made anew
    for each registration (``custom_plans`` only)."""
    build = build_create(environment=tenant_a.environment)
    base = f"/api/v1/builds/{build.pk}/tasks"
    names = [f"edge-{i}" for i in range(40)]
    for index, name in enumerate(names):
        upstream = names[max(0, index - 1 - index % 3):index]
        response = client_a.post(base, {"task_id": name, "task_name": "T", "task_data": {},
                                        "dependency_task_ids": upstream},
                                 content_type="application/json")
        assert response.status_code == 201, response.content
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement, generic_plans FROM pg_prepared_statements "
                       "WHERE statement LIKE 'INSERT INTO \"tasks_taskdependency\"%%'")
        edge_inserts = dict(cursor.fetchall())
    assert len(edge_inserts) == 2, edge_inserts
    one = next(sql for sql in edge_inserts if "ANY(" not in sql)
    assert '"task_id" = $4' in one
    # 14 registrations with one dependency: psycopg prepares the statement at the fifth,
    # PostgreSQL plans five more times before it keeps a generic plan
    assert edge_inserts[one] > 0
    expected = {(names[i - 1 - k], names[i]) for i in range(1, 40)
                for k in range(min(i, 1 + i % 3))}
    stored = set(TaskDependency.objects.values_list("dependency__task_id",
                                                    "dependent__task_id"))
    assert stored == expected
