"""One v2 scenario, driven through the SDK's own registry API (runs in the 0.28 virtualenv).

``python conformance.py memory <run>`` drives ``stardag.testing.InMemoryRegistry`` (the
executable reference); ``python conformance.py server <url> <api_key> <run>`` drives
``stardag.registry.APIRegistry`` against our server. Each step is recorded as the outcome a
caller branches on: the status (and counters) of a success, or ``refused <code>`` of a refusal.
The test compares the two transcripts line by line. Task ids and hashes derive from ``<run>``
(so both transcripts sort alike); other ids are minted per call; timestamps are left out.
"""

from __future__ import annotations

import json
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from stardag.artifact import JSONArtifact, MarkdownArtifact
from stardag.registry import RegistrationItem

RUN = sys.argv[-1] if len(sys.argv) > 2 and sys.argv[1] == "memory" else (
    sys.argv[4] if len(sys.argv) > 4 else uuid.uuid4().hex[:8])


def tid(name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{RUN}/task/{name}"))


def ih(name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{RUN}/inst/{name}"))


def item(name: str, upstreams: list[str] | None = None, *, body: dict | None = None,
         complete: bool = False, ahead: float = 0, version: str = "",
         instance: str | None = None) -> RegistrationItem:
    return RegistrationItem(
        task_id=tid(name), task_name=name, version=version, output_uri=f"/t/{name}",
        instance_hash=ih(instance or name), body=body or {"name": name},
        declared_upstreams=None if upstreams is None else [ih(u) for u in upstreams],
        observed_complete=complete,
        observed_at=datetime.now(UTC) + timedelta(seconds=ahead))


class Transcript:
    def __init__(self) -> None:
        self.lines: list[list[Any]] = []

    def step(self, name: str, call: Any, *fields: str) -> Any:
        try:
            result = call()
        except Exception as exc:
            code = getattr(exc, "code", None) or (getattr(exc, "payload", None) or {}).get(
                "code")
            self.lines.append([name, "refused", code])
            return None
        summary = [name, "ok"]
        for field in fields:
            value = result
            for part in field.split("."):
                value = value[part] if isinstance(value, dict) else getattr(value, part)
            summary.append([field, value if isinstance(value, (int, str, bool, type(None)))
                            else str(value)])
        self.lines.append(summary)
        return result


def scenario(registry: Any) -> list[list[Any]]:
    t = Transcript()
    new = uuid.uuid4
    dep = t.step("deployment", lambda: registry.deployment_create(
        kind="local", code_id=f"conf-{RUN}", deployment_id=new()), "kind", "app_name")
    dep_id = dep.id
    build_id = new()
    t.step("build", lambda: registry.build_create(root_task_ids=[tid("R")],
                                                  build_id=build_id), "status")
    t.step("build again", lambda: registry.build_create(root_task_ids=[tid("R")],
                                                        build_id=build_id), "status")
    plan_id = new()

    def plan(roots: list[RegistrationItem], **extra: Any) -> Any:
        kwargs = {"plan_id": new(), "deployment_id": dep_id, "settings": {}, "roots": roots}
        kwargs.update(extra)
        return lambda: registry.plan_create(build_id, **kwargs)

    t.step("plan no roots", plan([]))
    t.step("plan root declared", plan([item("R", [])]))
    t.step("plan root mismatch", plan([item("X")]))
    t.step("plan unknown deployment", plan([item("R")], deployment_id=new()))
    t.step("plan reserved setting", plan([item("R")], settings={"STARDAG_X": "1"}))
    t.step("plan", plan([item("R")], plan_id=plan_id), "created", "generation")
    t.step("plan again", plan([item("R")]), "created", "generation")
    t.step("plan other root instance", plan([item("R", body={"other": 1}, instance="R2")]))
    other_build = new()
    registry.build_create(root_task_ids=[tid("R")], build_id=other_build)
    t.step("plan id reused", lambda: registry.plan_create(
        other_build, plan_id=plan_id, deployment_id=dep_id, settings={}, roots=[item("R")]))
    t.step("seal unexpanded", lambda: registry.plan_seal(plan_id))
    members = lambda items: lambda: registry.plan_register_members(plan_id, items)  # noqa: E731
    counters = ("tasks_created", "instances_created", "members_admitted", "closure_admitted",
                "edges_created", "completed", "invalidated")
    t.step("members", members([item("S", []), item("R", ["S"])]), *counters)
    t.step("members again", members([item("S", []), item("R", ["S"])]), *counters)
    t.step("members unknown upstream", members([item("N", ["nowhere"])]))
    t.step("members clock skew", members([item("N", ahead=60)]))
    t.step("members body conflict", members([item("S", [], body={"changed": 1})]))
    t.step("members identity conflict", members([item("S", [], version="2")]))
    t.step("members instance conflict", members([item("S", [], body={"x": 1}, instance="S2")]))
    t.step("seal", lambda: registry.plan_seal(plan_id), "generation")
    t.step("seal again", lambda: registry.plan_seal(plan_id), "generation")

    def start(name: str, execution: uuid.UUID, ttl: int = 120) -> Any:
        return lambda: registry.member_start(plan_id, tid(name), execution_id=execution,
                                             claim_ttl_seconds=ttl, executor="sync_thread")

    e1, e2, e3, e4, e5, e6 = (new() for _ in range(6))
    t.step("start blocked", start("R", e1))
    t.step("start", start("S", e1), "applied", "status")
    t.step("start retried", start("S", e1), "applied", "status")
    t.step("start held", start("S", e2))
    t.step("renew not held", lambda: registry.claim_renew(tid("S"), execution_id=e2))
    t.step("renew", lambda: registry.claim_renew(tid("S"), execution_id=e1,
                                                 claim_ttl_seconds=120), "status")
    t.step("complete", lambda: registry.member_complete(plan_id, tid("S"), execution_id=e1),
           "status")
    t.step("complete again", lambda: registry.member_complete(plan_id, tid("S"),
                                                              execution_id=e1))
    t.step("start completed", start("S", e3))
    t.step("start root", start("R", e4), "status")
    yield_args = {"execution_id": e4, "deployment_id": dep_id, "batch_id": new(),
                  "items": [item("C", [])], "yielded": [ih("C")], "suspend": False}
    t.step("yield other deployment", lambda: registry.member_yield(
        plan_id, tid("R"), **{**yield_args, "deployment_id": new()}))
    t.step("yield not in items", lambda: registry.member_yield(
        plan_id, tid("R"), **{**yield_args, "yielded": [ih("D")]}))
    t.step("yield", lambda: registry.member_yield(plan_id, tid("R"), **yield_args),
           "status", "replayed", "dynamic_edges_created", "members.members_admitted")
    t.step("yield replayed", lambda: registry.member_yield(plan_id, tid("R"), **yield_args),
           "status", "replayed", "dynamic_edges_created")
    t.step("start child short claim", start("C", e5, ttl=1), "status")
    time.sleep(1.3)
    t.step("take over lapsed claim", start("C", e6), "status")
    t.step("late report", lambda: registry.member_complete(plan_id, tid("C"), execution_id=e5))
    t.step("start superseded execution", start("C", e5))
    t.step("child complete", lambda: registry.member_complete(plan_id, tid("C"),
                                                              execution_id=e6), "status")
    t.step("report unknown execution", lambda: registry.member_complete(
        plan_id, tid("R"), execution_id=new()))
    t.step("root complete", lambda: registry.member_complete(plan_id, tid("R"),
                                                             execution_id=e4), "status")
    t.step("artifacts", lambda: registry.task_upload_artifacts(
        plan_id, tid("R"), [MarkdownArtifact(name="report", body="# R"),
                            JSONArtifact(name="summary", body={"n": 1})], execution_id=e4))
    t.step("artifacts not a member", lambda: registry.task_upload_artifacts(
        plan_id, tid("nobody"), [JSONArtifact(name="x", body={})]))
    listed = t.step("artifact list", lambda: registry.task_list_artifacts(tid("R")))
    t.lines.append(["artifact rows", sorted([a.artifact_type, a.name, json.dumps(a.body)]
                                            for a in listed or [])])
    t.step("frontier", lambda: registry.build_get_frontier(build_id), "plan_complete",
           "sealed", "build_status")
    t.step("build complete", lambda: registry.build_complete(build_id), "status")
    t.step("build fail after complete", lambda: registry.build_fail(build_id, "x"))
    t.step("build complete again", lambda: registry.build_complete(build_id), "status")
    t.step("start after build completed", start("S", new()))

    # A second build: a failing upstream, its downstream skipped, the build failed, resumed.
    b2, p2, g1, g2 = new(), new(), new(), new()
    t.step("build 2", lambda: registry.build_create(root_task_ids=[tid("F")], build_id=b2),
           "status")
    t.step("plan 2", lambda: registry.plan_create(b2, plan_id=p2, deployment_id=dep_id,
                                                  settings={"MODE": "x"}, roots=[item("F")]),
           "created", "settings_hash")
    t.step("members 2", lambda: registry.plan_register_members(
        p2, [item("G", []), item("F", ["G"])]), *counters)
    t.step("complete before seal", lambda: registry.build_complete(b2))
    t.step("seal 2", lambda: registry.plan_seal(p2), "generation")
    t.step("start G", lambda: registry.member_start(p2, tid("G"), execution_id=g1), "status")
    t.step("ttl out of range", lambda: registry.member_start(p2, tid("F"), execution_id=g2,
                                                             claim_ttl_seconds=0))
    t.step("fail G", lambda: registry.member_fail(p2, tid("G"), execution_id=g1,
                                                  error_message="boom"), "status")
    t.step("skip failed", lambda: registry.member_skip(p2, tid("G")))
    t.step("skip blocked", lambda: [s == tid("F") for s in registry.build_skip_blocked(b2)])
    t.step("complete with failures", lambda: registry.build_complete(b2))
    t.step("build 2 fail", lambda: registry.build_fail(b2, "boom"), "status", "error_message")
    t.step("start after build failed", lambda: registry.member_start(
        p2, tid("G"), execution_id=new()))
    t.step("resume", lambda: registry.build_resume(b2, deployment_id=dep_id,
                                                   settings={"MODE": "x"}),
           "build.status", "build.is_resumed", "changed")
    t.step("retry G", lambda: registry.member_retry(p2, tid("G")), "applied", "status")
    t.step("retry G again", lambda: registry.member_retry(p2, tid("G")), "applied", "status")
    t.step("settings", lambda: registry.settings_get(
        registry.build_get_frontier(b2).settings_hash), "body.MODE")
    t.step("unknown build", lambda: registry.build_get(new()))
    t.step("unknown plan", lambda: registry.plan_seal(new()))
    t.step("unknown member", lambda: registry.member_start(p2, tid("S"), execution_id=new()))
    t.step("unknown settings", lambda: registry.settings_get(str(new())))
    return t.lines


def main() -> None:
    if sys.argv[1] == "memory":
        from stardag.testing import InMemoryRegistry

        registry: Any = InMemoryRegistry()
    else:
        from stardag.registry import APIRegistry

        registry = APIRegistry(api_url=sys.argv[2], api_key=sys.argv[3])
    print(json.dumps(scenario(registry)))


if __name__ == "__main__":
    main()
