"""The PostgreSQL accelerators (migration ``tasks/0003_search_indexes``) give the same answers as
reading the JSON, stay current as tasks and assets change, and are what the planner uses.
"""

from __future__ import annotations

import json

import pytest
from django.db import connection, transaction
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext

from tasks.models import Task, TaskAsset
from tasks.search import numbers as search_numbers
from tasks.search import results as search_results
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


def _search_rows() -> dict[object, tuple]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, environment_id, task_namespace, task_name, created_at, status, "
                       "param_numbers FROM task_search_row")
        # Django reads jsonb as text; the numbers as floats, like ``_side_rows``.
        return {row[0]: (*row[1:-1], {path: float(value)
                                      for path, value in json.loads(row[-1]).items()})
                for row in cursor.fetchall()}


def _expected_search_rows() -> dict[object, tuple]:
    """Each task's copied columns, and its side rows of scope ``param`` as one object."""
    return {task.pk: (task.environment_id, task.task_namespace, task.task_name,
                      task.created_at, task.status,
                      {path: value for scope, path, value in _side_rows(task_id=task.pk)
                       if scope == "param"})
            for task in Task.objects.all()}


@pytest.mark.postgres
def test_search_rows_follow_their_tasks(catalog: Catalog, monkeypatch) -> None:
    """``task_search_row`` (migration ``tasks/0009_search_rows``) holds one row per task, equal
    to the task's columns and side rows through inserts, status changes, edits and deletes, so
    the searches it answers (``results._row_ids_sql``) see what the tasks hold."""
    _force_plan(monkeypatch, "rows")
    assert search_numbers.search_rows_available()
    assert _search_rows() == _expected_search_rows()
    t1, t2 = catalog.tasks["t1"], catalog.tasks["t2"]
    assert catalog.ids(filter="param.epochs:>:1,status:completed") == {"t1"}
    t1.status = "failed"
    t1.save(update_fields=["status"])
    Task.objects.filter(pk=t2.pk).update(task_data={"epochs": 50, "deep": {"x": [1.5]}},
                                         task_name="Renamed", status="completed")
    Task.objects.bulk_create([
        Task(environment=catalog.tenant.environment, task_id=f"bulk-{i}", task_name="Bulk",
             task_data={"epochs": i, "s": str(i)}, status="completed") for i in range(3)])
    assert _search_rows() == _expected_search_rows()
    assert _search_rows()[t2.pk][-1] == {"epochs": 50, "deep.x[0]": 1.5}
    assert catalog.ids(filter="param.epochs:>:1,status:completed") == {"t2", "bulk-2"}
    assert catalog.ids(filter="param.deep.x[0]:>:1,task_name:Renamed") == {"t2"}
    t2.delete()
    Task.objects.filter(task_id__startswith="bulk-").delete()
    assert _search_rows() == _expected_search_rows()
    assert t2.pk not in _search_rows()
    assert catalog.ids(filter="param.epochs:>:1,status:completed") == set()


@pytest.mark.postgres
def test_one_insert_trigger_writes_both_search_tables_from_one_walk(catalog: Catalog) -> None:
    """``tasks/0010_search_insert_trigger``: a new task's side rows and search row come from one
    statement-level trigger, for one task and for many at once, with and without numbers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT tgname FROM pg_trigger WHERE tgrelid = 'tasks_task'::regclass "
                       "AND NOT tgisinternal AND tgtype & 4 = 4 ORDER BY tgname")  # INSERT
        assert [name for (name,) in cursor.fetchall()] == ["task_search_insert"]
    environment = catalog.tenant.environment
    single = Task.objects.create(environment=environment, task_id="one", task_name="One",
                                 task_data={"a": 1, "b": {"c": [2.5, {"d": 3}]}, "s": "x"})
    Task.objects.bulk_create([
        Task(environment=environment, task_id=f"many-{i}", task_name="Many",
             task_data={"n": i, "list": [i, i + 0.5]} if i % 2 else {"text": "none"})
        for i in range(4)])
    assert _side_rows(task_id=single.pk) == [
        ("param", "a", 1.0), ("param", "b.c[0]", 2.5), ("param", "b.c[1].d", 3.0)]
    many = {task.task_id: task.pk for task in Task.objects.filter(task_name="Many")}
    assert _side_rows(task_id=many["many-1"]) == [
        ("param", "list[0]", 1.0), ("param", "list[1]", 1.5), ("param", "n", 1.0)]
    assert _side_rows(task_id=many["many-0"]) == []
    rows = _search_rows()
    assert rows[single.pk][-1] == {"a": 1.0, "b.c[0]": 2.5, "b.c[1].d": 3.0}
    assert rows[many["many-0"]][-1] == {}
    assert _search_rows() == _expected_search_rows()


@pytest.mark.postgres
def test_searches_the_search_row_cannot_answer_read_the_tasks(catalog: Catalog,
                                                             monkeypatch) -> None:
    """A clause on a column the search row does not copy (``build_name`` joins the build,
    ``version`` and ``task_id`` stay on the task) keeps the search on ``tasks_task``."""
    _force_plan(monkeypatch, "rows")
    for params in ("filter=param.lr:>:0,build_name:~:alpha", "filter=param.lr:>:0,version:1",
                   "filter=param.lr:>:0,task_id:t1"):
        plan = _matched_statement_plan(catalog, params)
        assert "task_search_row" not in plan
        assert catalog.search(**QueryDict(params).dict())["total"] == 1
    assert "task_search_row" in _matched_statement_plan(catalog, "filter=param.lr:>:0")


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
    ("q=train", "task_search_name_trgm"),
    ("sort=task_name:asc", "task_search_name_sort"),
    ("sort=task_namespace:desc", "task_search_ns_sort"),
])
def test_queries_can_use_the_search_indexes(catalog: Catalog, params: str, index: str) -> None:
    assert index in _plan(params, catalog)


COMBINED = [
    "filter=task_namespace:=:ml,param.lr:>:0.01",
    "filter=task_namespace:=:ml,param.lr:>:0.01&q=t&sort=task_name:asc&page=2&page_size=1",
    "filter=param.lr:>:0.01,param.epochs:>=:5,status:completed",
    "filter=asset.metrics.accuracy:>:0.9,param.lr:<:0.5",
    "filter=param.lr:>=:0.001,param.lr:<:1&sort=created_at:asc",
    "filter=asset.metrics.loss:<:1,build_name:~:b,asset.report.content:~:R",
]


def _force_plan(monkeypatch, plan: str) -> None:
    monkeypatch.setattr(search_results, "DRIVER_LIMIT", 10**6 if plan == "driver" else 0)
    monkeypatch.setattr(search_results, "CANDIDATE_LIMIT", 10**6 if plan == "candidates" else 0)
    monkeypatch.setattr(search_results, "ALL_VISIBLE_SHARE", 2)
    if plan != "rows":
        monkeypatch.setattr(search_results, "search_rows_available", lambda: False)


@pytest.fixture(params=["ranges", "driver", "candidates", "rows"])
def numeric_plan(request, monkeypatch) -> str:
    """The four plans of a search with numeric clauses: every range hash-joined, the smallest
    range driving (``results.DRIVER_LIMIT``), the tasks of the other clauses read once and
    the numbers read from their JSON (``results.CANDIDATE_LIMIT``), or the environment's
    search rows read once (``task_search_row``); the last two are taken only while the side
    table is not marked all-visible, which ``ALL_VISIBLE_SHARE`` above 1 makes always."""
    _force_plan(monkeypatch, request.param)
    return request.param


@pytest.mark.postgres
def test_numeric_cases_give_the_same_answers_by_either_plan(catalog: Catalog,
                                                            numeric_plan: str) -> None:
    assert mismatches(catalog, PARAM_CASES) == []


@pytest.mark.postgres
@pytest.mark.parametrize("params", COMBINED)
def test_numeric_searches_match_the_json_reading_search(catalog: Catalog, numeric_plan: str,
                                                        params: str, monkeypatch) -> None:
    """Totals, order and pages of the side-table searches equal those of the plain search that
    reads the JSON (no side table, one COUNT and an ordered sub-select)."""
    query = QueryDict(params)
    by_index = catalog.search(**query.dict())
    monkeypatch.setattr("tasks.search.conditions.number_index_available", lambda: False)
    by_json = catalog.search(**query.dict())
    assert by_index == by_json
    assert by_index["total"] > 0 or "page" in params


def _matched_statement_plan(catalog: Catalog, params: str) -> str:
    with CaptureQueriesContext(connection) as captured:
        catalog.search(**QueryDict(params).dict())
    statements = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("WITH m ")]
    assert len(statements) == 1
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT set_config('enable_nestloop', 'off', true), "
                       "set_config('jit', 'off', true)")
        cursor.execute(f"EXPLAIN {statements[0]}")
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.postgres
@pytest.mark.parametrize("params", COMBINED[:4])
def test_numeric_searches_never_rescan_a_range_per_task(catalog: Catalog, numeric_plan: str,
                                                        params: str) -> None:
    """Issue 10: with stale statistics the planner once nested-looped every task over the whole
    numeric range (44-59 s at 20,000 tasks). A search with numeric clauses is now one statement
    planned without nested loops: each range is read once from the range index and hash-joined,
    or the smallest range drives, each of its tasks fetched by primary key (the one nested loop,
    a LATERAL sub-select) and the other numeric clauses probed per task by the per-task index.
    """
    plan = _matched_statement_plan(catalog, params)
    if numeric_plan == "rows":
        # Every clause can be answered from the search row: no task and no param range is
        # read; an asset clause is still its range, hash-joined.
        assert "Nested Loop" not in plan
        assert "on task_search_row" in plan and " on tasks_task " not in plan
        assert "param_numbers" in plan
        assert ("task_search_number_lookup" in plan) == ("asset." in params)
        assert "task_search_number_per_task" not in plan
    # Nothing but numeric clauses selects the tasks of the last one: no candidates to count.
    elif numeric_plan == "ranges" or (numeric_plan == "candidates" and params == COMBINED[3]):
        assert "Nested Loop" not in plan
        assert "task_search_number_lookup" in plan
        assert "task_search_number_per_task" not in plan
    elif numeric_plan == "candidates":
        # No range is read; parameters come from the task's JSON, asset clauses are probed.
        assert "Nested Loop" not in plan
        assert "task_search_number_lookup" not in plan
        assert ("task_data #>" in plan) == ("param." in params)
        assert ("task_search_number_per_task" in plan) == ("asset." in params)
    else:
        assert plan.count("Nested Loop") == 1
        assert "tasks_task_pkey" in plan
        if params.count(":>") + params.count(":<") > 1:
            assert "task_search_number_per_task" in plan


@pytest.mark.postgres
def test_a_task_with_two_assets_of_one_name_counts_once(catalog: Catalog,
                                                        numeric_plan: str) -> None:
    t1 = catalog.tasks["t1"]
    TaskAsset.objects.create(task=t1, environment=t1.environment, asset_type="other",
                             name="metrics", body={"accuracy": 0.97})
    body = catalog.search(filter="asset.metrics.accuracy:>:0.9")
    assert body["total"] == 1 and [task["task_id"] for task in body["tasks"]] == ["t1"]


@pytest.mark.postgres
@pytest.mark.parametrize("text", ["param.lr:>:0,param.epochs:>:nan",
                                  "param.lr:>:0,created_at:>:not-a-date"])
def test_a_numeric_search_with_a_clause_that_never_matches_is_empty(
        catalog: Catalog, numeric_plan: str, text: str) -> None:
    """The never-matching clause compiles to no SQL at all (Django's empty ``IN``); the
    matched-set search answers an empty page instead of failing to build its statement."""
    body = catalog.search(filter=text)
    assert body["total"] == 0 and body["tasks"] == []


# JSON values at a numeric path that jsonb orders around the numbers, or that only look like one.
AWKWARD_VALUES = [True, False, [], [1], {}, {"a": 1}, "5", "", None, 5, 5.0, -1, 0.1, 1e20, -0.0]
AWKWARD_FILTERS = ["param.v:>:0"] + [f"{text},task_name:Awkward" for text in [
    "param.v:>:0", "param.v:<:6", "param.v:>=:5,param.v:<=:5", "param.v:<:-0.5",
    "param.w.x:>=:0.1", "param.l[0]:>:0", "param.0:>:0", "param.o.0:<:10",
    "param.v:>:0,param.l[0]:<:6,asset.m.v:>:0",
]]


@pytest.mark.postgres
def test_numbers_read_from_the_json_are_the_side_tables(catalog: Catalog, monkeypatch) -> None:
    """The "candidates" plan (another clause narrows the tasks) reads ``param`` numbers from
    the task's JSON (mode "json"): the same tasks as the side table's ranges and as the plain
    JSON-reading search, for values
    that are not numbers, numbers written differently, nested keys, and the paths it leaves
    to the per-task index (a list position, an all-digit key, an asset)."""
    environment = catalog.tenant.environment
    for i, value in enumerate(AWKWARD_VALUES):
        task = Task.objects.create(
            environment=environment, task_id=f"awkward-{i}", task_name="Awkward",
            task_data={"v": value, "w": {"x": value}, "l": [value], "0": value,
                       "o": {"0": value}})
        TaskAsset.objects.create(task=task, environment=environment, asset_type="json",
                                 name="m", body={"v": value})
    answers = {}
    for plan in ("rows", "ranges", "candidates"):
        _force_plan(monkeypatch, plan)
        answers[plan] = {text: catalog.search(filter=text) for text in AWKWARD_FILTERS}
    monkeypatch.setattr("tasks.search.conditions.number_index_available", lambda: False)
    answers["json"] = {text: catalog.search(filter=text) for text in AWKWARD_FILTERS}
    assert answers["rows"] == answers["candidates"] == answers["ranges"] == answers["json"]
    assert answers["json"]["param.v:>=:5,param.v:<=:5,task_name:Awkward"]["total"] == 2
    assert all(answers["json"][text]["total"] > 0 for text in AWKWARD_FILTERS)
