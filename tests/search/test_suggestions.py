"""Suggestion endpoints: keys, values, columns (contract §4.12, §7.4)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from builds.models import Build
from tasks.models import Task, TaskAsset
from tests.search.catalog import Catalog

KEYS_URL = "/api/v1/tasks/search/keys"
VALUES_URL = "/api/v1/tasks/search/values"
COLUMNS_URL = "/api/v1/tasks/search/columns"

CORE = [
    {"key": "task_name", "type": "string", "count": 0},
    {"key": "task_namespace", "type": "string", "count": 0},
    {"key": "task_id", "type": "string", "count": 0},
    {"key": "status", "type": "string", "count": 0},
    {"key": "build_id", "type": "string", "count": 0},
    {"key": "build_name", "type": "string", "count": 0},
    {"key": "created_at", "type": "datetime", "count": 0},
]
PARAMS = [
    ("param.label", "string", 5), ("param.epochs", "number", 4), ("param.lr", "number", 3),
    ("param.nested", "object", 3), ("param.nested.depth", "number", 3),
    ("param.flag", "boolean", 2), ("param.items", "object", 2), ("param.123", "string", 1),
    ("param.__name", "string", 1), ("param.__namespace", "string", 1),
    ("param.items[0].k", "string", 1), ("param.nested.tag", "string", 1),
    ("param.ratio", "number", 1), ("param.rows", "number", 1), ("param.score", "number", 1),
]
ASSETS = [
    ("asset.metrics.accuracy", "number", 2), ("asset.metrics.content", "string", 1),
    ("asset.metrics.loss", "number", 1), ("asset.report.content", "string", 1),
]


def keys(catalog: Catalog, **params) -> list[dict]:
    response = catalog.client.get(KEYS_URL, params)
    assert response.status_code == 200, response.content
    return response.json()["keys"]


def values(catalog: Catalog, key: str, **params) -> list[tuple[str, int]]:
    response = catalog.client.get(VALUES_URL, {"key": key, **params})
    assert response.status_code == 200, response.content
    return [(item["value"], item["count"]) for item in response.json()["values"]]


def as_dicts(rows: list[tuple[str, str, int]]) -> list[dict]:
    return [{"key": key, "type": type_, "count": count} for key, type_, count in rows]


def test_keys_core_then_params_then_assets(catalog: Catalog) -> None:
    assert keys(catalog, limit=100) == CORE + as_dicts(PARAMS) + as_dicts(ASSETS)
    assert keys(catalog) == (CORE + as_dicts(PARAMS))[:20]


PREFIX_CASES = [
    ("task", [k["key"] for k in CORE[:3]]),
    ("created", ["created_at"]),
    ("param.n", ["param.nested", "param.nested.depth", "param.nested.tag"]),
    ("param.items[", ["param.items[0].k"]),
    ("param", [k for k, _, _ in PARAMS]),
    ("asset.m", [k for k, _, _ in ASSETS[:3]]),
    ("p", []),
    ("Param", []),
    ("zzz", []),
]


def test_keys_prefix(catalog: Catalog) -> None:
    found = {prefix: [k["key"] for k in keys(catalog, prefix=prefix, limit=100)]
             for prefix, _ in PREFIX_CASES}
    assert found == dict(PREFIX_CASES)


def test_keys_limit_is_overall(catalog: Catalog) -> None:
    assert keys(catalog, limit=3) == CORE[:3]
    assert [k["key"] for k in keys(catalog, prefix="param", limit=2)] == [
        "param.label", "param.epochs"]


@pytest.mark.parametrize("url", [KEYS_URL, VALUES_URL])
@pytest.mark.parametrize(("limit", "type_"), [
    ("0", "greater_than_equal"), ("101", "less_than_equal"), ("ten", "int_parsing")])
def test_limit_out_of_range_is_422(client_a, url: str, limit: str, type_: str) -> None:
    response = client_a.get(url, {"key": "status", "limit": limit})
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == type_


def test_values_key_is_required(client_a) -> None:
    response = client_a.get(VALUES_URL)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "key"]
    assert response.json()["detail"][0]["type"] == "missing"


def test_status_values_are_fixed(catalog: Catalog) -> None:
    fixed = ["pending", "running", "completed", "failed", "cancelled"]
    assert values(catalog, "status") == [(v, 0) for v in fixed]
    assert values(catalog, "status", prefix="c") == [("completed", 0), ("cancelled", 0)]
    assert values(catalog, "status", prefix="C") == []
    assert values(catalog, "status", limit=2) == [("pending", 0), ("running", 0)]


def test_name_and_namespace_values_count_tasks_of_this_environment(catalog: Catalog) -> None:
    assert values(catalog, "task_name") == [
        ("Preprocess", 2), ("TrainModel", 2), ("Evaluate", 1), ("reportX100Y", 1),
        ("report_100%", 1)]
    assert values(catalog, "task_name", prefix="RE") == [("reportX100Y", 1), ("report_100%", 1)]
    assert values(catalog, "task_name", prefix="report_") == [("report_100%", 1)]
    assert values(catalog, "task_name", prefix="%") == []
    assert values(catalog, "task_name", limit=1) == [("Preprocess", 2)]
    assert values(catalog, "task_namespace") == [
        ("misc", 2), ("ml", 2), ("data", 1), ("ml.eval", 1)]
    assert values(catalog, "task_namespace", prefix="Ml.") == [("ml.eval", 1)]


def test_build_values_count_distinct_tasks_with_events(catalog: Catalog) -> None:
    b1, b2 = catalog.builds["b1"], catalog.builds["b2"]
    assert values(catalog, "build_name") == [("alpha-build-11", 4), ("beta-build-22", 3)]
    assert values(catalog, "build_name", prefix="BETA") == [("beta-build-22", 3)]
    assert values(catalog, "build_id") == [(str(b1.pk), 4), (str(b2.pk), 3)]
    assert values(catalog, "build_id", prefix=str(b2.pk)[:-2].upper()) == [(str(b2.pk), 3)]


def test_param_and_asset_values_render_like_the_filter_compares(catalog: Catalog) -> None:
    assert values(catalog, "param.lr") == [("0.1", 2), ("0.01", 1)]
    assert values(catalog, "param.label") == [("5", 2), ("Hello World", 1), ("hello", 1)]
    assert values(catalog, "param.label", prefix="h") == [("hello", 1)]
    assert values(catalog, "param.flag") == [("false", 1), ("true", 1)]
    assert values(catalog, "param.items[0].k") == [("a", 1)]
    assert values(catalog, "param.nested") == []
    assert values(catalog, "param.bad-path") == []
    assert values(catalog, "asset.metrics.accuracy") == [("0.5", 1), ("0.93", 1)]
    assert values(catalog, "asset.metrics.content") == [("md", 1)]
    assert values(catalog, "asset.report.content") == [("# r1", 1)]
    assert values(catalog, "asset.metrics") == []
    for key in ("foo", "created_at", "task_id", "param.", ""):
        assert values(catalog, key) == []
    # every suggested value round-trips into the filter
    for value, count in values(catalog, "param.label"):
        assert len(catalog.ids(filter=f"param.label:{value}")) == count


def test_columns(catalog: Catalog) -> None:
    response = catalog.client.get(COLUMNS_URL)
    assert response.status_code == 200
    assert response.json() == {
        "core": ["task_id", "task_name", "task_namespace", "status", "build_id", "build_name",
                 "created_at", "started_at", "completed_at"],
        "params": [k for k, _, _ in PARAMS],
        "assets": [k for k, _, _ in ASSETS],
    }


def test_discovery_walks_three_levels_and_skips_unusable_keys(tenant_a) -> None:
    Task.objects.create(environment=tenant_a.environment, task_id="deep", task_name="D",
                        task_data={"a": {"b": {"c": {"d": 1}}}, "my-key": 1,
                                   "when": "2026-01-01T10:00:00Z", "rows": [{"x": {"y": 1}}]})
    task = Task.objects.create(environment=tenant_a.environment, task_id="x", task_name="X")
    TaskAsset.objects.create(task=task, environment=tenant_a.environment, asset_type="json",
                             name="a.b", body={"k": 1})
    client = tenant_a.key_client()
    found = {k["key"]: k["type"] for k in client.get(KEYS_URL, {"limit": 100}).json()["keys"]}
    discovered = {k: v for k, v in found.items() if k.startswith(("param", "asset"))}
    assert discovered == {
        "param.a": "object", "param.a.b": "object", "param.a.b.c": "object",
        "param.when": "datetime", "param.rows": "object", "param.rows[0].x": "object",
        "param.rows[0].x.y": "number",
    }


def test_discovery_and_values_use_bounded_recent_samples(tenant_a) -> None:
    env = tenant_a.environment
    now = timezone.now()
    old = [Task(environment=env, task_id=f"old-{i}", task_name="Old",
                task_data={"old_only": 1, "v": "old"},
                created_at=now - timedelta(days=1, seconds=i))
           for i in range(10)]
    recent = [Task(environment=env, task_id=f"new-{i}", task_name="New",
                   task_data={"v": f"n{i % 3}"}, created_at=now - timedelta(seconds=i))
              for i in range(500)]
    Task.objects.bulk_create(old + recent)
    client = tenant_a.key_client()
    found = [k["key"] for k in client.get(KEYS_URL, {"prefix": "param"}).json()["keys"]]
    assert found == ["param.v"]
    sampled = client.get(VALUES_URL, {"key": "param.v"}).json()["values"]
    assert sampled == [{"value": "n0", "count": 167}, {"value": "n1", "count": 167},
                       {"value": "n2", "count": 166}]
    # the name aggregate is exact, not sampled
    names = client.get(VALUES_URL, {"key": "task_name"}).json()["values"]
    assert names == [{"value": "New", "count": 500}, {"value": "Old", "count": 10}]


def test_suggestions_are_cached_per_environment(catalog: Catalog, settings) -> None:
    assert values(catalog, "task_name", prefix="Eval") == [("Evaluate", 1)]
    Task.objects.create(environment=catalog.tenant.environment, task_id="e2",
                        task_name="Evaluate", task_data={"fresh": 1})
    assert values(catalog, "task_name", prefix="Eval") == [("Evaluate", 1)]  # cached
    other = catalog.other.key_client().get(KEYS_URL, {"prefix": "param.fresh"}).json()
    assert other["keys"] == []
    settings.TASK_SEARCH_CACHE_SECONDS = 0
    assert values(catalog, "task_name", prefix="Eval") == [("Evaluate", 2)]
    assert [k["key"] for k in keys(catalog, prefix="param.fresh")] == ["param.fresh"]


def test_suggestions_do_not_leak_other_environments(catalog: Catalog) -> None:
    client = catalog.other.key_client()
    names = client.get(VALUES_URL, {"key": "task_name"}).json()["values"]
    assert names == [{"value": "TrainModel", "count": 2}, {"value": "Preprocess", "count": 1}]
    assets = client.get(VALUES_URL, {"key": "asset.metrics.accuracy"}).json()["values"]
    assert assets == [{"value": "0.99", "count": 3}]
    columns = client.get(COLUMNS_URL).json()
    assert "param.rows" in columns["params"] and "param.score" not in columns["params"]


def test_builds_sharing_a_name_count_each_task_once(catalog: Catalog) -> None:
    Build.objects.filter(pk=catalog.builds["b2"].pk).update(name="alpha-build-11")
    # b1: t1 t3 t6 t7; b2: t2 t3 t5 -> six distinct tasks (t3 has events in both)
    assert values(catalog, "build_name") == [("alpha-build-11", 6)]
    assert values(catalog, "build_id") == [(str(catalog.builds["b1"].pk), 4),
                                           (str(catalog.builds["b2"].pk), 3)]
