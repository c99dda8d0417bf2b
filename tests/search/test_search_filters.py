"""Every key kind and operator of the ``filter`` grammar (contract §7.1), with the exact set of
matching tasks asserted. The catalog lives in ``catalog.py``; B's look-alikes never match.
"""

from __future__ import annotations

from tests.search.catalog import (
    ALL_A,
    PARAM_CASES,
    Catalog,
    everything_but,
    mismatches,
)

CORE_CASES = [
    # text columns: =, !=, ~ (case-insensitive), numeric only where the text is a number
    ("task_name:TrainModel", {"t1", "t2"}),
    ("task_name:=:TrainModel", {"t1", "t2"}),
    ("task_name:trainmodel", set()),
    ("task_name:!=:TrainModel", everything_but("t1", "t2")),
    ("task_name:~:TRAIN", {"t1", "t2"}),
    ("task_name:>:5", set()),
    ("task_namespace:ml", {"t1", "t2"}),
    ("task_namespace:", {"t4"}),
    ("task_namespace:~:ML", {"t1", "t2", "t5"}),
    ("task_namespace:!=:misc", everything_but("t6", "t7")),
    ("task_id:t3", {"t3"}),
    ("task_id:~:T", set(ALL_A)),
    ("version:2", {"t2"}),
    ("version:!=:1", {"t2", "t4"}),
    ("version:~:1", {"t1", "t4"}),
    ("version:>:1", {"t2", "t4"}),
    ("version:>=:1", {"t1", "t2", "t4"}),
    ("version:<=:2", {"t1", "t2"}),
    ("version:<:abc", set()),
    # status: =, !=, ~, value lower-cased; other operators make the clause ignored
    ("status:completed", {"t1", "t6"}),
    ("status:COMPLETED", {"t1", "t6"}),
    ("status:running", {"t3", "t7"}),
    ("status:failed", {"t2"}),
    ("status:pending", {"t4"}),
    ("status:cancelled", {"t5"}),
    ("status:suspended", set()),
    ("status:!=:completed", everything_but("t1", "t6")),
    ("status:~:ED", {"t1", "t2", "t5", "t6"}),
    ("status:>:a", set(ALL_A)),
    ("status:<=:z", set(ALL_A)),
    # build of the most recent event: t3 was registered in b2 but last started in b1
    ("build_name:alpha-build-11", {"t1", "t3", "t6", "t7"}),
    ("build_name:~:BETA", {"t2", "t5"}),
    ("build_name:!=:alpha-build-11", {"t2", "t5"}),
    ("build_name:>:1", set()),
    ("build_id:not-a-uuid", set()),
    ("build_id:!=:not-a-uuid", everything_but("t4")),
    ("build_id:>:1", set()),
    # created_at: a date is the whole UTC day; timestamps are instants (naive = UTC)
    ("created_at:2026-01-11", {"t2", "t3"}),
    ("created_at:!=:2026-01-11", everything_but("t2", "t3")),
    ("created_at:>:2026-01-11", {"t4", "t5", "t6", "t7"}),
    ("created_at:>=:2026-01-11", everything_but("t1")),
    ("created_at:<:2026-01-11", {"t1"}),
    ("created_at:<=:2026-01-11", {"t1", "t2", "t3"}),
    ("created_at:2026-01-11T00:00:00Z", {"t2"}),
    ("created_at:2026-01-11T00:00:00", {"t2"}),
    ("created_at:2026-01-11T01:00:00+01:00", {"t2"}),
    ("created_at:!=:2026-01-11T00:00:00Z", everything_but("t2")),
    ("created_at:>:2026-01-11T00:00:00+00:00", everything_but("t1", "t2")),
    ("created_at:<=:2026-01-11T00:00:00Z", {"t1", "t2"}),
    ("created_at:~:2026-01-11T23:59", {"t3"}),
    ("created_at:~:T00:00:00.000000Z", {"t2"}),
    ("created_at:~:.250000z", {"t5"}),
    ("created_at:yesterday", set()),
    ("created_at:>:garbage", set()),
    ("created_at:!=:garbage", set()),
]

IGNORED_CASES = [
    "", ",", " , ,", "unknown:1", "task_name", "task_name:==:TrainModel", "task_name:!:x",
    "task_name:=>:x", "param.:x", "param.a-b:1", "param.items[x].k:a", "param.items[0]x:a",
    "param..a:1", "asset.metrics:1", "asset..x:1", "asset.:1", "Task_Name:TrainModel",
    "status:>=:running",
]


def test_core_keys(catalog: Catalog) -> None:
    assert mismatches(catalog, CORE_CASES) == []


def test_param_and_asset_keys(catalog: Catalog) -> None:
    assert mismatches(catalog, PARAM_CASES) == []


def test_clauses_that_are_not_understood_are_ignored(catalog: Catalog) -> None:
    assert mismatches(catalog, [(text, set(ALL_A)) for text in IGNORED_CASES]) == []


def test_build_id_equality_and_substring(catalog: Catalog) -> None:
    b1, b2 = catalog.builds["b1"], catalog.builds["b2"]
    assert catalog.ids(filter=f"build_id:{b2.pk}") == {"t2", "t5"}
    assert catalog.ids(filter=f"build_id:{str(b2.pk).upper()}") == {"t2", "t5"}
    assert catalog.ids(filter=f"build_id:!=:{b2.pk}") == {"t1", "t3", "t6", "t7"}
    assert catalog.ids(filter=f"build_id:~:{str(b1.pk)[-17:].upper()}") == {
        "t1", "t3", "t6", "t7"}


def test_clauses_are_anded_and_values_may_contain_colons(catalog: Catalog) -> None:
    assert catalog.ids(filter="task_name:TrainModel,status:failed") == {"t2"}
    assert catalog.ids(filter="task_name:TrainModel, status:failed ,unknown:x") == {"t2"}
    assert catalog.ids(filter=" task_name : ~: rain ") == {"t1", "t2"}
    assert catalog.ids(filter="task_name:~ :rain") == set()
    assert catalog.ids(filter="param.lr:>:0,param.lr:<:1,task_namespace:ml") == {"t1", "t2"}
    assert catalog.ids(filter="created_at:>=:2026-01-11T00:00:00Z,created_at:<:2026-01-12") == {
        "t2", "t3"}


def test_filter_and_q_are_anded(catalog: Catalog) -> None:
    assert catalog.ids(filter="status:completed", q="report") == {"t6"}
    assert catalog.ids(filter="param.lr:0.1", q="pre") == {"t3"}


Q_CASES = [
    ("train", {"t1", "t2"}),
    ("ML", {"t1", "t2", "t5"}),
    ("EVAL", {"t5"}),
    ("t_1", {"t6"}),
    ("0%", {"t6"}),
    ("%", {"t6"}),
    ("_", {"t6"}),
    ("x100", {"t7"}),
    ("nothing-like-this", set()),
]


def test_q_is_a_literal_case_insensitive_substring_of_name_or_namespace(
    catalog: Catalog,
) -> None:
    wrong = [(q, expected, catalog.ids(q=q)) for q, expected in Q_CASES
             if catalog.ids(q=q) != expected]
    assert wrong == []


def test_jwt_with_environment_sees_the_same_tasks(catalog: Catalog) -> None:
    client = catalog.tenant.jwt_client()
    response = client.get("/api/v1/tasks/search", {
        "filter": "task_name:TrainModel", "environment_id": str(catalog.tenant.environment.pk)})
    assert response.status_code == 200
    assert {t["task_id"] for t in response.json()["tasks"]} == {"t1", "t2"}


def test_other_environment_sees_only_its_own(catalog: Catalog) -> None:
    response = catalog.other.key_client().get("/api/v1/tasks/search",
                                              {"filter": "param.lr:0.1", "page_size": 100})
    assert response.status_code == 200
    assert {t["task_id"] for t in response.json()["tasks"]} == {"b-t1", "t1x"}
    response = catalog.other.key_client().get("/api/v1/tasks/search", {"q": "t"})
    assert {t["task_id"] for t in response.json()["tasks"]} == {"b-t1", "b-t2", "t1x"}
