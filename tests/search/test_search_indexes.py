"""The PostgreSQL accelerators (migration ``tasks/0003_search_indexes``) give the same answers as
reading the JSON, stay current as tasks and assets change, and are what the planner uses.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.http import QueryDict

from tasks.models import Task, TaskAsset
from tasks.search import numbers as search_numbers
from tasks.search.filters import TaskSearchFilterSet
from tasks.services import task_assets_upsert
from tests.search.catalog import PARAM_CASES, Catalog, mismatches

NUMERIC_CASES = [case for case in PARAM_CASES if any(f":{op}:" in case[0]
                                                     for op in (">", "<", ">=", "<="))]


@pytest.fixture
def json_only(monkeypatch) -> None:
    """Force the JSON-reading implementation of numeric clauses."""
    monkeypatch.setattr(search_numbers, "number_index_available", lambda: False)
    monkeypatch.setattr("tasks.search.conditions.number_index_available", lambda: False)


def test_numeric_clauses_without_the_side_table(catalog: Catalog, json_only: None) -> None:
    assert mismatches(catalog, NUMERIC_CASES) == []


def _side_rows(**where: object) -> list[tuple]:
    clauses = " AND ".join(f"{column} = %s" for column in where)
    with connection.cursor() as cursor:
        cursor.execute("SELECT scope, path, value FROM task_search_number "
                       f"WHERE {clauses} ORDER BY scope, path", list(where.values()))
        return [(scope, path, float(value)) for scope, path, value in cursor.fetchall()]


@pytest.mark.postgres
def test_side_table_holds_the_numeric_leaves_the_grammar_can_name(catalog: Catalog) -> None:
    assert search_numbers.number_index_available()
    t1 = catalog.tasks["t1"]
    assert _side_rows(task_id=t1.pk) == [
        ("asset.metrics", "accuracy", 0.93), ("asset.metrics", "loss", 0.2),
        ("param", "epochs", 10.0), ("param", "lr", 0.1), ("param", "nested.depth", 3.0)]
    task = Task.objects.create(environment=catalog.tenant.environment, task_id="deep",
                               task_name="Deep", task_data={
                                   "a": [[1], {"b": 2}], "x-y": 3, "s": "4", "t": True,
                                   "long": list(range(150)), "n": None})
    rows = _side_rows(task_id=task.pk)
    assert ("param", "a[1].b", 2.0) in rows and ("param", "long[99]", 99.0) in rows
    assert all(path not in {"a[0]", "x-y", "s", "t", "n", "long[100]"} for _, path, _ in rows)
    assert len(rows) == 101


@pytest.mark.postgres
def test_side_table_follows_asset_upserts_and_deletes(catalog: Catalog) -> None:
    t2 = catalog.tasks["t2"]
    assert catalog.ids(filter="asset.metrics.accuracy:>:0.9") == {"t1"}
    task_assets_upsert(task=t2, items=[
        {"type": "json", "name": "metrics", "body": {"accuracy": 0.95}}])
    assert catalog.ids(filter="asset.metrics.accuracy:>:0.9") == {"t1", "t2"}
    TaskAsset.objects.filter(task=t2).update(name="renamed")
    assert catalog.ids(filter="asset.metrics.accuracy:>:0.9") == {"t1"}
    assert catalog.ids(filter="asset.renamed.accuracy:>:0.9") == {"t2"}
    Task.objects.filter(pk=t2.pk).update(task_data={"lr": 5})
    assert catalog.ids(filter="param.lr:>:1") == {"t2"}
    t2.delete()
    assert _side_rows(task_id=t2.pk) == []
    assert catalog.ids(filter="asset.renamed.accuracy:>:0") == set()


def _plan(params: str, catalog: Catalog) -> str:
    """The plan with sequential scans disabled: a first page for the sorts (with 3,000 more
    tasks in the environment and fresh statistics), the count of every match for the filters
    (without the environment condition, which on a table this small would always win).
    """
    env = catalog.tenant.environment
    tasks = Task.objects.all()
    if "sort" in params:
        Task.objects.bulk_create([
            Task(environment=env, task_id=f"more-{i}", task_name=f"Name{i % 50}",
                 task_namespace=f"ns{i % 7}") for i in range(3000)])
        tasks = tasks.filter(environment=env)
    queryset = TaskSearchFilterSet(QueryDict(params), queryset=tasks, environment=env).qs
    queryset = queryset[:50] if "sort" in params else queryset.order_by().values("pk")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE tasks_task")
        cursor.execute("SET LOCAL enable_seqscan = off")
        sql, sql_params = queryset.query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", sql_params)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.postgres
@pytest.mark.parametrize(("params", "index"), [
    ("filter=param.model.kind:xgboost", "task_search_data_gin"),
    ("filter=param.lr:>:0.5,param.lr:<:0.51", "task_search_number_per_task"),
    ("filter=asset.metrics.accuracy:>:0.9", "task_search_number_per_task"),
    ("q=train", "task_search_name_trgm"),
    ("sort=task_name:asc", "task_search_name_sort"),
    ("sort=task_namespace:desc", "task_search_ns_sort"),
])
def test_queries_can_use_the_search_indexes(catalog: Catalog, params: str, index: str) -> None:
    assert index in _plan(params, catalog)


@pytest.mark.postgres
@pytest.mark.parametrize("params", [
    "filter=task_namespace:=:ml,param.lr:>:0.01",
    "filter=param.lr:>:0.01,param.epochs:>=:20,status:completed",
    "filter=asset.metrics.accuracy:>:0.9,param.lr:<:0.5",
])
def test_numeric_clauses_probe_per_task_so_no_plan_is_quadratic(catalog: Catalog,
                                                                 params: str) -> None:
    """Issue 10: with stale statistics the planner once nested-looped every task over the whole
    numeric range (44-59 s at 20,000 tasks). Each numeric clause is now a per-task probe that
    names no environment, so the range index cannot serve it; its one index path is the
    per-task index, and its cost is one bounded descent per candidate task, whatever the plan.
    """
    env = catalog.tenant.environment
    queryset = TaskSearchFilterSet(QueryDict(params), queryset=Task.objects.all(),
                                   environment=env).qs
    sql, _ = queryset.query.sql_with_params()
    probes = sql.count("FROM task_search_number n WHERE n.task_id = ")
    assert probes == params.count(":>") + params.count(":<")
    assert "n.environment_id" not in sql
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_hashjoin = off")
        cursor.execute("SET LOCAL enable_mergejoin = off")
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", queryset.query.sql_with_params()[1])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "task_search_number_per_task" in plan
    assert "task_search_number_lookup" not in plan


@pytest.mark.postgres
def test_a_single_asset_range_is_counted_in_the_side_table(catalog: Catalog) -> None:
    env = catalog.tenant.environment
    filterset = TaskSearchFilterSet(QueryDict("filter=asset.metrics.accuracy:>:0.9"),
                                    queryset=Task.objects.filter(environment=env),
                                    environment=env)
    assert filterset.known_total() == filterset.qs.count() == 1
