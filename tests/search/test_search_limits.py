"""Issue 8 item 2: a search filter is bounded. Identical clauses count once; more distinct
clauses (or ``asset.*`` clauses, each a subquery) than the configured limits is a 422 that names
the limit, before any query runs."""

from __future__ import annotations

from tasks.search.grammar import parse_filter
from tests.search.catalog import SEARCH_URL, Catalog


def test_identical_clauses_are_parsed_once() -> None:
    clauses = parse_filter("asset.r.k:~:b, asset.r.k:~:b,status:FAILED,status:failed,"
                           "asset.r.k:~:b,param.lr:0.1")
    assert [(c.kind, c.op, c.value) for c in clauses] == [
        ("asset", "~", "b"), ("core", "=", "failed"), ("param", "=", "0.1")]


def test_many_copies_of_one_clause_search_like_one(catalog: Catalog) -> None:
    flood = ",".join(["asset.metrics.accuracy:~:0.9"] * 200)
    assert catalog.ids(filter=flood) == {"t1"}
    assert catalog.ids(filter=",".join(["task_name:TrainModel"] * 500)) == {"t1", "t2"}


def test_distinct_clauses_beyond_the_limit_are_422_naming_it(catalog: Catalog) -> None:
    filter_text = ",".join(f"param.k{i}:~:x" for i in range(31))
    response = catalog.client.get(SEARCH_URL, {"filter": filter_text})
    assert response.status_code == 422
    [item] = response.json()["detail"]
    assert item["loc"] == ["query", "filter"]
    assert item["type"] == "too_long"
    assert "at most 30 distinct clauses" in item["msg"]


def test_asset_clauses_beyond_their_limit_are_422_naming_it(catalog: Catalog) -> None:
    filter_text = ",".join(f"asset.a{i}.k:1" for i in range(11))
    response = catalog.client.get(SEARCH_URL, {"filter": filter_text})
    assert response.status_code == 422
    [item] = response.json()["detail"]
    assert item["loc"] == ["query", "filter"]
    assert "at most 10 distinct asset.* clauses" in item["msg"]


def test_a_filter_at_the_limits_is_served(catalog: Catalog) -> None:
    clauses = [f"asset.metrics.k{i}:!=:x" for i in range(9)]
    clauses += ["asset.metrics.accuracy:>:0.9", "task_name:TrainModel"]
    clauses += [f"param.missing{i}:!=:x" for i in range(19)]
    assert len(clauses) == 30
    # No task has those keys, so the != clauses (missing path: no match) leave nothing.
    assert catalog.ids(filter=",".join(clauses)) == set()
    assert catalog.ids(filter=",".join(clauses[9:11])) == {"t1"}


def test_limits_come_from_settings(catalog: Catalog, settings) -> None:
    settings.TASK_SEARCH_MAX_CLAUSES = 2
    settings.TASK_SEARCH_MAX_ASSET_CLAUSES = 1
    assert catalog.ids(filter="task_name:TrainModel,status:completed") == {"t1"}
    three = catalog.client.get(SEARCH_URL, {"filter": "task_name:a,status:b,task_id:c"})
    assert three.status_code == 422 and "at most 2 " in three.json()["detail"][0]["msg"]
    two_assets = catalog.client.get(SEARCH_URL, {"filter": "asset.a.b:1,asset.a.c:1"})
    assert two_assets.status_code == 422
    assert "at most 1 distinct asset.*" in two_assets.json()["detail"][0]["msg"]
