"""Concurrency limits on /api/v2 (SDK-WIRE 4.4, 4.5.4 step 10): set, list with holders, delete,
and their enforcement on claiming starts."""

from __future__ import annotations

import uuid

from tasks.models_v2 import V2Task
from tests.v2.helpers import Driver, code, item, tid


def test_a_full_limit_refuses_the_start_and_keeps_its_keys(client_a, client_b) -> None:
    api = Driver(client_a)
    assert client_a.put("/api/v2/concurrency-limits/gpu", {"max_concurrent": 1},
                        format="json").status_code == 200
    deployment = api.deployment()
    build = api.build([tid("A"), tid("B")])
    plan = api.plan(build, deployment, [item("A"), item("B")])
    api.ok("POST", f"/plans/{plan}/members", {"items": [item("A", upstreams=[]),
                                                         item("B", upstreams=[])]})
    api.ok("POST", f"/plans/{plan}/seal")
    holder = str(uuid.uuid4())
    assert api.start(plan, tid("A"), holder, limit_keys=["gpu"])[0] == 200
    status, data = api.start(plan, tid("B"), limit_keys=["gpu", "other"])
    assert (status, data["detail"]["code"], data["detail"]["keys"]) == (
        409, "concurrency_limit_reached", ["gpu"])
    assert V2Task.objects.get(task_id=tid("B")).limit_keys == ["gpu", "other"]
    assert V2Task.objects.get(task_id=tid("B")).status == "pending"
    listed = api.ok("GET", "/concurrency-limits?include_holders=true")["limits"]
    assert [(x["key"], x["max_concurrent"], x["in_use"]) for x in listed] == [("gpu", 1, 1)]
    assert [(h["task_id"], h["execution_id"], h["build_id"]) for h in listed[0]["holders"]] == [
        (tid("A"), holder, build)]
    assert "holders" not in api.ok("GET", "/concurrency-limits")["limits"][0]
    api.report(plan, tid("A"), "complete", holder)
    assert api.start(plan, tid("B"), limit_keys=["gpu"])[0] == 200
    # Another environment neither sees nor changes the limit.
    assert Driver(client_b).ok("GET", "/concurrency-limits")["limits"] == []
    assert code((client_b.delete("/api/v2/concurrency-limits/gpu").status_code,
                 client_b.delete("/api/v2/concurrency-limits/gpu").json())) == (
        404, "unknown_limit")
    assert client_a.delete("/api/v2/concurrency-limits/gpu").status_code == 200
    assert code((client_a.delete("/api/v2/concurrency-limits/gpu").status_code,
                 client_a.delete("/api/v2/concurrency-limits/gpu").json())) == (
        404, "unknown_limit")
