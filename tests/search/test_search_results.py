"""Search results: shape (contract §4.12), sort (§7.3), pagination and totals (§1.7, §7.5)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tasks.models import Task
from tests.search.catalog import SEARCH_URL, Catalog

RESULT_KEYS = {
    "task_id", "environment_id", "task_namespace", "task_name", "task_data", "version",
    "output_uri", "created_at", "build_id", "build_name", "status", "started_at",
    "completed_at", "error_message", "asset_count", "asset_data",
}


def test_result_shape_and_values(catalog: Catalog) -> None:
    body = catalog.search(filter="task_id:t2", include_assets="metrics,report,nope")
    assert set(body) == {"tasks", "total", "page", "page_size", "available_columns"}
    assert (body["total"], body["page"], body["page_size"]) == (1, 1, 50)
    assert body["available_columns"] == [
        "task_name", "task_namespace", "status", "build_name", "created_at"]
    [task] = body["tasks"]
    assert set(task) == RESULT_KEYS
    t2, b2 = catalog.tasks["t2"], catalog.builds["b2"]
    assert task["environment_id"] == str(catalog.tenant.environment.pk)
    assert (task["task_name"], task["task_namespace"], task["version"]) == (
        "TrainModel", "ml", "2")
    assert task["task_data"] == t2.task_data
    assert task["output_uri"] is None
    assert task["created_at"] == "2026-01-11T00:00:00.000000Z"
    assert (task["build_id"], task["build_name"]) == (str(b2.pk), "beta-build-22")
    assert (task["status"], task["error_message"]) == ("failed", "boom")
    assert task["started_at"].endswith("Z") and task["completed_at"].endswith("Z")
    assert task["asset_count"] == 2
    # Two assets named "metrics" (markdown and json): the json one wins.
    assert task["asset_data"] == {"metrics": {"accuracy": 0.5}}


def test_asset_data_only_for_requested_names(catalog: Catalog) -> None:
    tasks = {t["task_id"]: t for t in catalog.search(include_assets=" report , metrics,")["tasks"]}
    assert tasks["t1"]["asset_data"] == {
        "metrics": {"accuracy": 0.93, "loss": 0.2}, "report": {"content": "# r1"}}
    assert tasks["t3"]["asset_data"] == {}
    assert all(t["asset_data"] == {} for t in catalog.search()["tasks"])


def test_task_without_events_has_no_build(catalog: Catalog) -> None:
    [task] = catalog.search(filter="task_id:t4")["tasks"]
    assert (task["build_id"], task["build_name"], task["status"]) == (None, None, "pending")
    assert (task["started_at"], task["completed_at"], task["asset_count"]) == (None, None, 0)


def test_suspended_task_shows_running_globally(catalog: Catalog) -> None:
    [task] = catalog.search(filter="task_id:t7")["tasks"]
    assert task["status"] == "running"


SORT_CASES = [
    (None, ["t7", "t6", "t5", "t4", "t3", "t2", "t1"]),
    ("created_at:desc", ["t7", "t6", "t5", "t4", "t3", "t2", "t1"]),
    ("created_at:asc", ["t1", "t2", "t3", "t4", "t5", "t6", "t7"]),
    ("created_at", ["t7", "t6", "t5", "t4", "t3", "t2", "t1"]),
    ("bogus:asc", ["t1", "t2", "t3", "t4", "t5", "t6", "t7"]),
    ("status:asc", ["t1", "t2", "t3", "t4", "t5", "t6", "t7"]),
    # ties (t1/t2 share a name, t3/t4 too) are broken by internal id, same direction
    # (byte order: "reportX100Y" < "report_100%")
    ("task_name:asc", ["t5", "t3", "t4", "t1", "t2", "t7", "t6"]),
    ("task_name:desc", ["t6", "t7", "t2", "t1", "t4", "t3", "t5"]),
    ("task_name:sideways", ["t6", "t7", "t2", "t1", "t4", "t3", "t5"]),
    ("task_namespace:asc", ["t4", "t3", "t6", "t7", "t1", "t2", "t5"]),
    ("task_namespace:desc", ["t5", "t2", "t1", "t7", "t6", "t3", "t4"]),
]


def test_sort(catalog: Catalog) -> None:
    wrong = []
    for sort, expected in SORT_CASES:
        actual = catalog.ordered(**({"sort": sort} if sort is not None else {}))
        if actual != expected:
            wrong.append((sort, expected, actual))
    assert wrong == []


def test_sort_ties_follow_internal_id(catalog: Catalog) -> None:
    # Same created_at for every task: the order is the internal id order.
    Task.objects.filter(environment=catalog.tenant.environment).update(
        created_at=timezone.now())
    by_id = list(Task.objects.filter(environment=catalog.tenant.environment)
                 .order_by("id").values_list("task_id", flat=True))
    assert catalog.ordered(sort="created_at:asc") == by_id
    assert catalog.ordered() == by_id[::-1]


def test_pages_are_stable_and_total_is_exact(catalog: Catalog) -> None:
    seen = []
    for page in (1, 2, 3, 4):
        body = catalog.search(page=page, page_size=2)
        assert (body["total"], body["page"], body["page_size"]) == (7, page, 2)
        seen += [t["task_id"] for t in body["tasks"]]
    assert seen == ["t7", "t6", "t5", "t4", "t3", "t2", "t1"]
    past_end = catalog.search(page=5, page_size=2)
    assert (past_end["tasks"], past_end["total"]) == ([], 7)
    filtered = catalog.search(filter="status:!=:completed", page=2, page_size=3)
    assert [t["task_id"] for t in filtered["tasks"]] == ["t3", "t2"]
    assert filtered["total"] == 5


@pytest.mark.parametrize(("params", "loc", "type_"), [
    ({"page": "0"}, "page", "greater_than_equal"),
    ({"page": "-1"}, "page", "greater_than_equal"),
    ({"page": "x"}, "page", "int_parsing"),
    ({"page_size": "0"}, "page_size", "greater_than_equal"),
    ({"page_size": "101"}, "page_size", "less_than_equal"),
    ({"page_size": "1.5"}, "page_size", "int_parsing"),
    ({"filter": "task_name:a\x00b"}, "filter", "value_error"),
    ({"q": "\x00"}, "q", "value_error"),
])
def test_invalid_parameters_are_422(client_a, params: dict, loc: str, type_: str) -> None:
    response = client_a.get(SEARCH_URL, params)
    assert response.status_code == 422
    [item] = response.json()["detail"]
    assert (item["loc"], item["type"]) == (["query", loc], type_)


def test_page_size_bounds_are_accepted(catalog: Catalog) -> None:
    assert len(catalog.search(page_size=1)["tasks"]) == 1
    assert len(catalog.search(page_size=100)["tasks"]) == 7


def test_requires_credentials(anon_client, catalog: Catalog) -> None:
    assert anon_client.get(SEARCH_URL).status_code == 401


def test_search_is_not_taken_for_a_task_id(catalog: Catalog) -> None:
    for path in ("", "/keys", "/values?key=status", "/columns"):
        response = catalog.client.get(f"{SEARCH_URL}{path}")
        assert response.status_code == 200, path
    assert catalog.client.get(f"{SEARCH_URL}/").status_code == 200


def test_query_count_is_bounded(catalog: Catalog, django_assert_max_num_queries) -> None:
    params = {"filter": "status:!=:pending,param.lr:>:0,asset.metrics.accuracy:>:0",
              "q": "train", "include_assets": "metrics,report", "sort": "task_name:asc"}
    # On PostgreSQL the numeric clauses make it a matched-set search (``results._matched_page``):
    # settings and range sizes, the statement, and (inside the test's transaction) the settings
    # put back, instead of one COUNT.
    with django_assert_max_num_queries(8):
        body = catalog.search(**params)
    assert [t["task_id"] for t in body["tasks"]] == ["t1", "t2"]
    Task.objects.bulk_create([
        Task(environment=catalog.tenant.environment, task_id=f"bulk-{i}", task_name="TrainX",
             task_data={"lr": 0.5}, status="completed")
        for i in range(60)
    ])
    with django_assert_max_num_queries(8):
        body = catalog.search(**{**params, "filter": "param.lr:>:0", "page": 2})
    assert body["total"] == 62 and len(body["tasks"]) == 12


def _bulk_tasks(environment, count: int, start, *, prefix: str, status: str) -> list[Task]:
    return [
        Task(environment=environment, task_id=f"{prefix}-{i:05d}", task_name="Bulk",
             task_namespace="load", task_data={"i": i}, status=status,
             created_at=start + timedelta(seconds=i))
        for i in range(count)
    ]


def test_status_filter_and_pages_beyond_the_first_10000_tasks(catalog: Catalog) -> None:
    """§7.5: status filtering, counting and paging happen in the database for any size.

    10,500 newer pending tasks sit in front of 7 old failed ones in the default (newest first)
    order; the failed ones are found, counted, and every page of the pending ones is right.
    """
    env = catalog.tenant.environment
    old = timezone.now() - timedelta(days=3650)
    new = timezone.now() - timedelta(days=365)
    Task.objects.bulk_create(_bulk_tasks(env, 7, old, prefix="old", status="failed"),
                             batch_size=2000)
    Task.objects.bulk_create(_bulk_tasks(env, 10_500, new, prefix="new", status="pending"),
                             batch_size=2000)
    failed = catalog.search(filter="status:failed,task_namespace:load", page_size=100)
    assert failed["total"] == 7
    assert [t["task_id"] for t in failed["tasks"]] == [f"old-{i:05d}" for i in range(6, -1, -1)]
    page_105 = catalog.search(filter="task_namespace:load", page=105, page_size=100)
    assert page_105["total"] == 10_507
    assert [t["task_id"] for t in page_105["tasks"]] == [f"new-{i:05d}" for i in range(99, -1, -1)]
    last_page = catalog.search(filter="task_namespace:load", page=106, page_size=100)
    assert [t["task_id"] for t in last_page["tasks"]] == [f"old-{i:05d}" for i in range(6, -1, -1)]
    deep = catalog.search(filter="status:pending,task_namespace:load", page=101, page_size=100,
                          sort="created_at:asc")
    assert deep["total"] == 10_500
    assert [t["task_id"] for t in deep["tasks"]] == [f"new-{i:05d}" for i in range(10_000,
                                                                                    10_100)]
    # the other environment's count is untouched by all of this
    other = catalog.other.key_client().get(SEARCH_URL, {"filter": "status:failed"}).json()
    assert other["total"] == 0


def test_total_of_a_numeric_range_alone_and_combined(catalog: Catalog) -> None:
    # one parameter range alone (PostgreSQL counts it in the side table), then with more filters
    body = catalog.search(filter="param.epochs:>:0,param.epochs:<=:20", page_size=1)
    assert (body["total"], [t["task_id"] for t in body["tasks"]]) == (3, ["t4"])
    assert catalog.search(filter="param.epochs:>:0", q="train", page_size=1)["total"] == 2
    assert catalog.search(filter="param.epochs:>:0,status:failed")["total"] == 1
    assert catalog.search(filter="param.epochs:>:0,param.lr:>:0")["total"] == 2
    assert catalog.search(filter="param.epochs:>:nope")["total"] == 0
