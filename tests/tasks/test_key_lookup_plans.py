"""The task lookups of every SDK call go through the task key's unique index, also on a table that
was never analysed (issue 10: a new deployment, or a server without autovacuum).

Without statistics PostgreSQL estimates one row for ``environment_id = $1`` on a table of up to
~1,500 tasks, as for the whole key, and took the smallest environment-leading index instead of
the key's: every lookup then walked all tasks of the environment. The statements below are the
ones the services send; each plan is read for the table in its never-analysed state.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import connection

from builds.models import Build
from tasks.models import Task
from tasks.services import _LIFECYCLE_TASK, _LOCKED_TASK, _edges_insert_sql
from tests.factories import make_tenant

pytestmark = pytest.mark.postgres

KEY_INDEX = "unique_task_id_per_env"


@pytest.fixture
def never_analysed(db: None) -> Any:
    """1,200 tasks in one environment (alike in every column but the key and the time, as a
    bulk load makes them, so the low-cardinality indexes deduplicate to a page or two), another
    environment's task, and the table's statistics as before any ``ANALYZE``: pg_class back to
    "never counted" and no pg_statistic rows (catalog writes in the test's transaction; the test
    user is the superuser PostgreSQL runs with here)."""
    tenant, other = make_tenant("plans"), make_tenant("plans-other")
    env = tenant.environment
    Task.objects.bulk_create([Task(environment=env, task_id=f"bulk-{i:05d}", task_name="Train",
                                   task_namespace="ml") for i in range(1200)])
    Task.objects.create(environment=other.environment, task_id="bulk-00007", task_name="Train")
    build = Build.objects.create(environment=env)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE pg_class SET relpages = 0, reltuples = -1 WHERE oid = 'tasks_task'::regclass "
            "OR oid IN (SELECT indexrelid FROM pg_index WHERE indrelid = 'tasks_task'::regclass)")
        cursor.execute("DELETE FROM pg_statistic WHERE starelid = 'tasks_task'::regclass")
    return env, build


def _scans(sql: str, params: list[Any]) -> list[tuple[str, str | None]]:
    """(node type, index name) of every node of the plan that reads ``tasks_task``."""
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    found: list[tuple[str, str | None]] = []

    def walk(node: dict[str, Any]) -> None:
        if node.get("Relation Name") == "tasks_task" or (
                node.get("Node Type", "").startswith("Bitmap Index")
                and node.get("Index Name", "").startswith(("task", "unique_task"))):
            found.append((node["Node Type"], node.get("Index Name")))
        for child in node.get("Plans", ()):
            walk(child)

    walk(plan[0]["Plan"])
    return found


def _prepared_sql(query: Any, **values: Any) -> tuple[str, list[Any]]:
    compiled = query._compiled("default")
    params = [compiled.constants[i] if name is None
              else query._fields[name].get_db_prep_value(values[name], connection)
              for i, name in enumerate(compiled.slots)]
    return compiled.sql, params


def _only_the_key_index(scans: list[tuple[str, str | None]]) -> None:
    assert scans, "no read of tasks_task in the plan"
    indexes = {index for _, index in scans if index}
    assert indexes == {KEY_INDEX}, scans
    assert all(kind != "Seq Scan" for kind, _ in scans), scans


def test_locked_task_lookup_uses_the_key_index(never_analysed: Any) -> None:
    env, _ = never_analysed
    _only_the_key_index(_scans(*_prepared_sql(_LOCKED_TASK, environment_id=env.pk,
                                              task_id="bulk-00007")))
    assert _LOCKED_TASK.first(environment_id=env.pk, task_id="bulk-00007").environment_id \
        == env.pk


def test_lifecycle_lookup_uses_the_key_index(never_analysed: Any) -> None:
    env, build = never_analysed
    _only_the_key_index(_scans(*_prepared_sql(_LIFECYCLE_TASK, environment_id=env.pk,
                                              task_id="bulk-01199", build_id=build.pk)))


def test_path_task_lookup_uses_the_key_index(never_analysed: Any) -> None:
    env, _ = never_analysed
    queryset = Task.objects.by_key(env.pk, "bulk-00007").order_by()[:1]
    _only_the_key_index(_scans(*queryset.query.sql_with_params()))
    assert [task.environment_id for task in queryset] == [env.pk]


def test_dependency_lookup_uses_the_key_index(never_analysed: Any) -> None:
    env, _ = never_analysed
    task = Task.objects.get(environment=env, task_id="bulk-00001")
    sql = _edges_insert_sql("postgresql", "= %s")
    _only_the_key_index(_scans(sql, [task.pk, False, env.pk, "bulk-00002"]))


def test_lock_completion_check_uses_the_key_index(never_analysed: Any) -> None:
    from locks.services import _COMPLETED

    env, _ = never_analysed
    _only_the_key_index(_scans(*_prepared_sql(_COMPLETED, environment_id=env.pk,
                                              task_id="bulk-00007")))
