"""A small, fully known catalog of tasks in two environments, built through the real services,
and the filter cases over it that more than one test module uses.

Tenant A holds t1..t7 (the expected sets of every search test refer to these ids); tenant B
holds look-alikes (same names, same parameters) that must never show up in A's results.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from rest_framework.test import APIClient

from builds.models import Build
from builds.services import build_create
from tasks.models import Task
from tasks.services import task_assets_upsert, task_event_record, task_register
from tests.factories import Tenant

SEARCH_URL = "/api/v1/tasks/search"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# task_id: (task_name, namespace, version, task_data, created_at)
CATALOG: dict[str, tuple[str, str, str | None, dict[str, Any], str]] = {
    "t1": ("TrainModel", "ml", "1", {
        "__name": "TrainModel", "__namespace": "ml", "lr": 0.1, "epochs": 10, "flag": True,
        "label": "hello", "nested": {"depth": 3, "tag": "x"}, "items": [{"k": "a"}, {"k": "b"}],
    }, "2026-01-10T12:00:00"),
    "t2": ("TrainModel", "ml", "2", {
        "lr": 0.01, "epochs": 20, "flag": False, "label": "Hello World", "nested": {"depth": 1},
    }, "2026-01-11T00:00:00"),
    "t3": ("Preprocess", "data", None, {
        "lr": "0.1", "epochs": "ten", "label": "5", "rows": 1000,
    }, "2026-01-11T23:59:59.500000"),
    "t4": ("Preprocess", "", "10", {
        "epochs": 5, "label": 5, "ratio": 1.5, "nested": {"depth": "deep"},
    }, "2026-01-12T08:00:00"),
    "t5": ("Evaluate", "ml.eval", None, {
        "score": -2, "label": None, "items": [],
    }, "2026-01-13T09:30:00.250000"),
    "t6": ("report_100%", "misc", None, {}, "2026-01-14T10:00:00"),
    "t7": ("reportX100Y", "misc", None, {"123": "digits-key"}, "2026-01-15T10:00:00"),
}
ALL_A = frozenset(CATALOG)


@dataclass
class Catalog:
    tenant: Tenant
    other: Tenant
    client: APIClient
    builds: dict[str, Build] = field(default_factory=dict)
    tasks: dict[str, Task] = field(default_factory=dict)
    other_task_ids: frozenset[str] = frozenset()

    def search(self, **params: Any) -> dict[str, Any]:
        response = self.client.get(SEARCH_URL, params)
        assert response.status_code == 200, response.content
        body = response.json()
        returned = {task["task_id"] for task in body["tasks"]}
        assert not returned & self.other_task_ids, "another environment's task leaked"
        environment_id = str(self.tenant.environment.pk)
        assert all(task["environment_id"] == environment_id for task in body["tasks"])
        return body

    def ids(self, **params: Any) -> set[str]:
        params.setdefault("page_size", 100)
        body = self.search(**params)
        assert body["total"] == len(body["tasks"])
        return {task["task_id"] for task in body["tasks"]}

    def ordered(self, **params: Any) -> list[str]:
        params.setdefault("page_size", 100)
        return [task["task_id"] for task in self.search(**params)["tasks"]]


def _register(build: Build, task_id: str, spec: tuple) -> Task:
    name, namespace, version, data, _ = spec
    return task_register(build=build, payload={
        "task_id": task_id, "task_name": name, "task_namespace": namespace, "task_data": data,
        "version": version, "output_uri": None, "dependency_task_ids": [],
    })


def seed_catalog(tenant: Tenant, other: Tenant) -> Catalog:
    env = tenant.environment
    b1 = build_create(environment=env)
    b2 = build_create(environment=env)
    Build.objects.filter(pk=b1.pk).update(name="alpha-build-11")
    Build.objects.filter(pk=b2.pk).update(name="beta-build-22")
    b1.refresh_from_db()
    b2.refresh_from_db()
    tasks: dict[str, Task] = {}
    tasks["t1"] = _register(b1, "t1", CATALOG["t1"])
    task_event_record(build=b1, task=tasks["t1"], event_type="task_started")
    task_event_record(build=b1, task=tasks["t1"], event_type="task_completed")
    task_assets_upsert(task=tasks["t1"], items=[
        {"type": "json", "name": "metrics", "body": {"accuracy": 0.93, "loss": 0.2}},
        {"type": "markdown", "name": "report", "body": {"content": "# r1"}},
    ])
    tasks["t2"] = _register(b2, "t2", CATALOG["t2"])
    task_event_record(build=b2, task=tasks["t2"], event_type="task_started")
    task_event_record(build=b2, task=tasks["t2"], event_type="task_failed",
                      error_message="boom")
    task_assets_upsert(task=tasks["t2"], items=[
        {"type": "markdown", "name": "metrics", "body": {"content": "md"}},
        {"type": "json", "name": "metrics", "body": {"accuracy": 0.5}},
    ])
    # t3: registered in b2 first, then started in b1: its most recent event is in b1.
    tasks["t3"] = _register(b2, "t3", CATALOG["t3"])
    task_event_record(build=b1, task=tasks["t3"], event_type="task_started")
    # t4: no events at all (no build), pending.
    name, namespace, version, data, _ = CATALOG["t4"]
    tasks["t4"] = Task.objects.create(environment=env, task_id="t4", task_name=name,
                                      task_namespace=namespace, version=version, task_data=data)
    tasks["t5"] = _register(b2, "t5", CATALOG["t5"])
    task_event_record(build=b2, task=tasks["t5"], event_type="task_cancelled")
    tasks["t6"] = _register(b1, "t6", CATALOG["t6"])
    task_event_record(build=b1, task=tasks["t6"], event_type="task_completed")
    tasks["t7"] = _register(b1, "t7", CATALOG["t7"])
    task_event_record(build=b1, task=tasks["t7"], event_type="task_started")
    task_event_record(build=b1, task=tasks["t7"], event_type="task_suspended")
    for task_id, spec in CATALOG.items():
        Task.objects.filter(pk=tasks[task_id].pk).update(created_at=at(spec[4]))

    # The other environment: look-alikes of t1 and t2 with their own ids.
    other_build = build_create(environment=other.environment)
    look_alikes = {"b-t1": CATALOG["t1"], "b-t2": CATALOG["t2"], "t1x": CATALOG["t3"]}
    for task_id, spec in look_alikes.items():
        task = _register(other_build, task_id, spec)
        task_event_record(build=other_build, task=task, event_type="task_completed")
        task_assets_upsert(task=task, items=[
            {"type": "json", "name": "metrics", "body": {"accuracy": 0.99}}])
    return Catalog(tenant=tenant, other=other, client=tenant.key_client(),
                   builds={"b1": b1, "b2": b2},
                   tasks={k: Task.objects.get(pk=v.pk) for k, v in tasks.items()},
                   other_task_ids=frozenset(look_alikes))


def everything_but(*ids: str) -> set[str]:
    return set(ALL_A) - set(ids)


PARAM_CASES = [
    # = / != compare the ->> text: numbers and strings alike, missing never matches
    ("param.lr:0.1", {"t1", "t3"}),
    ("param.lr:!=:0.1", {"t2"}),
    ("param.lr:0.10", set()),
    ("param.lr:~:0.0", {"t2"}),
    ("param.flag:true", {"t1"}),
    ("param.flag:false", {"t2"}),
    ("param.flag:True", set()),
    ("param.label:hello", {"t1"}),
    ("param.label:~:HELLO", {"t1", "t2"}),
    ("param.label:5", {"t3", "t4"}),
    ("param.label:!=:hello", {"t2", "t3", "t4"}),
    ("param.label:null", set()),
    ("param.label:~:%", set()),
    ("param.label:~:_", set()),
    ("param.ratio:1.5", {"t4"}),
    ("param.ratio:1.50", set()),
    ("param.score:-2", {"t5"}),
    ("param.rows:1000", {"t3"}),
    ("param.rows:1e3", set()),
    ("param.__name:TrainModel", {"t1"}),
    ("param.123:digits-key", {"t7"}),
    ("param.nested.depth:3", {"t1"}),
    ("param.nested.tag:~:X", {"t1"}),
    ("param.nested.depth.deeper:1", set()),
    ("param.items[0].k:a", {"t1"}),
    ("param.items[1].k:b", {"t1"}),
    ("param.items[0].k:!=:a", set()),
    ("param.items[2].k:~:", set()),
    # numeric operators: only JSON numbers match; a non-numeric filter value matches nothing
    ("param.lr:>:0.05", {"t1"}),
    ("param.lr:<=:0.1", {"t1", "t2"}),
    ("param.epochs:>=:10", {"t1", "t2"}),
    ("param.epochs:<:10", {"t4"}),
    ("param.epochs:>:-1e3", {"t1", "t2", "t4"}),
    ("param.epochs:<:abc", set()),
    ("param.epochs:>:nan", set()),
    ("param.epochs:>:1e999", set()),
    ("param.rows:>=:1e3", {"t3"}),
    ("param.score:<:-1.5", {"t5"}),
    ("param.nested.depth:>:0", {"t1", "t2"}),
    ("param.label:>=:5", {"t4"}),
    ("param.flag:>:0", set()),
    # asset.<name>.<path>: any asset of that name (any type) satisfying the clause
    ("asset.metrics.accuracy:>:0.9", {"t1"}),
    ("asset.metrics.accuracy:0.5", {"t2"}),
    ("asset.metrics.accuracy:!=:0.5", {"t1"}),
    ("asset.metrics.content:md", {"t2"}),
    ("asset.report.content:~:# R", {"t1"}),
    ("asset.metrics.loss:<:1", {"t1"}),
    ("asset.missing.x:1", set()),
]


def mismatches(catalog: Catalog, cases: list[tuple[str, set[str]]]) -> list[tuple]:
    """Every case whose result differs from the expected set (all cases share one catalog)."""
    found = []
    for text, expected in cases:
        actual = catalog.ids(filter=text)
        if actual != expected:
            found.append((text, sorted(expected), sorted(actual)))
    return found
