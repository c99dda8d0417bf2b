"""The /api/v2 local-build protocol (SDK-WIRE 4.5, 4.8): the call sequence of a 0.28
``sd.build()``, its reads, idempotent re-deliveries, and the refusal codes of SDK-WIRE 4.6."""

from __future__ import annotations

import datetime
import gzip
import json
import uuid
from dataclasses import dataclass

import pytest
from django.utils import timezone

from tasks.models_v2 import Execution, V2Event, V2Task
from tests.v2.helpers import Driver, code, h, item, now_iso, tid


@dataclass
class Local:
    api: Driver
    deployment: str
    build: str
    plan: str


@pytest.fixture
def api(client_a) -> Driver:
    return Driver(client_a)


def local_build(api: Driver, suffix: str = "") -> Local:
    """Root R with a static dependency S, registered and sealed as the SDK does."""
    deployment = api.deployment()
    build = api.build([tid("R" + suffix)])
    plan = api.plan(build, deployment, [item("R" + suffix)])
    result = api.ok("POST", f"/plans/{plan}/members", {"items": [
        item("S" + suffix, upstreams=[]), item("R" + suffix, upstreams=[h("S" + suffix)])]})
    assert result["members_admitted"] == 1 and result["edges_created"] == 1
    sealed = api.ok("POST", f"/plans/{plan}/seal")
    assert sealed["sealed_at"] is not None
    return Local(api, deployment, build, plan)


@pytest.fixture
def local(api: Driver) -> Local:
    return local_build(api)


def test_a_local_build_with_a_static_and_a_dynamic_dependency_completes(local: Local) -> None:
    api, plan = local.api, local.plan
    api.run(plan, tid("S"))
    execution = str(uuid.uuid4())
    assert api.start(plan, tid("R"), execution)[0] == 200
    batch = str(uuid.uuid4())
    yield_body = {"execution_id": execution, "deployment_id": local.deployment,
                  "batch_id": batch, "items": [item("C", upstreams=[])],
                  "yielded": [h("C")], "suspend": False}
    first = api.ok("POST", f"/plans/{plan}/members/{tid('R')}/yield", yield_body)
    assert first["dynamic_edges_created"] == 1 and first["status"] == "running"
    assert first["members"]["members_admitted"] == 1 and first["replayed"] is False
    replay = api.ok("POST", f"/plans/{plan}/members/{tid('R')}/yield", yield_body)
    assert replay["replayed"] is True and replay["dynamic_edges_created"] == 1
    api.run(plan, tid("C"))
    assert api.report(plan, tid("R"), "complete", execution)[1]["status"] == "completed"
    api.ok("POST", f"/plans/{plan}/members/{tid('R')}/artifacts", {
        "execution_id": execution, "artifacts": [
            {"type": "markdown", "name": "report", "body": {"content": "# R"}},
            {"type": "json", "name": "summary", "body": {"total": 3}}]})
    build = api.ok("POST", f"/builds/{local.build}/complete", {"force": False})
    assert build["status"] == "completed" and build["completed_at"] is not None

    graph = api.ok("GET", f"/plans/{plan}/graph")
    assert {m["task_name"]: m["status"] for m in graph["members"]} == {
        "R": "completed", "S": "completed", "C": "completed"}
    assert {m["task_name"]: m["admitted_by"] for m in graph["members"]} == {
        "R": "root", "S": "static", "C": "dynamic"}
    by_instance = {m["instance_id"]: m["task_name"] for m in graph["members"]}
    assert sorted((by_instance[e["upstream_instance_id"]], by_instance[e["downstream_instance_id"]],
                   e["is_dynamic"]) for e in graph["edges"]) == [
        ("C", "R", True), ("S", "R", False)]
    artifacts = api.ok("GET", f"/tasks/{tid('R')}/artifacts")["artifacts"]
    assert [(a["artifact_type"], a["name"], a["body"]) for a in artifacts] == [
        ("markdown", "report", {"content": "# R"}), ("json", "summary", {"total": 3})]
    executions = api.ok("GET", f"/builds/{local.build}/executions?include_ended=true")
    assert sorted((e["task_id"], e["outcome"], e["claim_outcome"])
                  for e in executions["executions"]) == sorted(
        [(tid(n), "completed", "completed") for n in ("S", "R", "C")])
    assert api.ok("GET", f"/builds/{local.build}/executions")["executions"] == []
    events = [e["event_type"] for e in api.ok("GET", f"/tasks/{tid('R')}/events")["events"]]
    assert events == ["task_pending", "task_started", "task_yielded", "task_completed"]
    task = api.ok("GET", f"/tasks/{tid('R')}")
    assert task["instances"][0]["body"] == {"name": "R"} and task["status"] == "completed"


def test_a_second_run_observes_completion_and_executes_nothing(local: Local) -> None:
    api = local.api
    for name in ("S", "R"):
        api.run(local.plan, tid(name))
    api.ok("POST", f"/builds/{local.build}/complete", {"force": False})
    build = api.build([tid("R")])
    plan = api.plan(build, local.deployment, [item("R", observed_complete=True)])
    api.ok("POST", f"/plans/{plan}/seal")
    frontier = api.ok("GET", f"/builds/{build}/frontier")
    assert frontier["plan_complete"] is True and frontier["runnable"] == []
    assert api.ok("POST", f"/builds/{build}/complete", {"force": False})["status"] == "completed"
    assert Execution.objects.count() == 2


def test_the_frontier_reports_what_its_closure_step_admitted(local: Local) -> None:
    """A new build of the same DAG registers only its root; the recorded edge S -> R makes S a
    member at the first frontier read (admitted by ``closure``), and not again at the next."""
    api = local.api
    build = api.build([tid("R")])
    plan = api.plan(build, local.deployment, [item("R")])
    first = api.ok("GET", f"/builds/{build}/frontier")
    assert first["closure"] == {"admitted": 1, "conflicts": [], "build_failed": False}
    assert [m["task_id"] for m in first["runnable"]] == [tid("S")]
    assert api.ok("GET", f"/builds/{build}/frontier")["closure"]["admitted"] == 0
    graph = api.ok("GET", f"/plans/{plan}/graph")
    assert {m["task_name"]: m["admitted_by"] for m in graph["members"]} == {
        "R": "root", "S": "closure"}


def test_frontier_and_graph_count_attempts_and_interruptions(local: Local) -> None:
    api, plan = local.api, local.plan
    execution = str(uuid.uuid4())
    assert api.start(plan, tid("S"), execution)[0] == 200
    assert api.report(plan, tid("S"), "interrupt", execution)[0] == 200
    frontier = api.ok("GET", f"/builds/{local.build}/frontier")
    assert [(m["task_id"], m["attempts"], m["interruptions"]) for m in frontier["runnable"]] == [
        (tid("S"), 1, 1)]
    api.run(plan, tid("S"))
    graph = api.ok("GET", f"/plans/{plan}/graph")
    assert {m["task_name"]: (m["attempts"], m["interruptions"]) for m in graph["members"]} == {
        "S": (2, 1), "R": (0, 0)}


def test_retries_of_every_write_change_nothing(local: Local) -> None:
    api = local.api
    again = api.ok("POST", "/deployments", {"id": str(uuid.uuid4()), "kind": "local",
                                            "code_id": "code-1"})
    assert again["id"] == local.deployment and again["created"] is False
    build = api.ok("GET", f"/builds/{local.build}")
    assert api.build(build["root_task_ids"], local.build) == local.build
    plan = api.ok("POST", f"/builds/{local.build}/plans", {
        "plan_id": str(uuid.uuid4()), "deployment_id": local.deployment, "settings": {},
        "roots": [item("R")]})
    assert plan["id"] == local.plan and plan["created"] is False
    chunk = {"items": [item("S", upstreams=[]), item("R", upstreams=[h("S")])]}
    assert set(api.ok("POST", f"/plans/{local.plan}/members", chunk).values()) == {0}
    execution = str(uuid.uuid4())
    assert api.start(local.plan, tid("S"), execution)[1]["applied"] is True
    assert api.start(local.plan, tid("S"), execution)[1]["applied"] is False
    events_before = V2Event.objects.count()
    assert api.ok("POST", f"/plans/{local.plan}/seal")["id"] == local.plan
    assert V2Event.objects.count() == events_before


def test_a_failing_task_skips_its_downstream_and_fails_the_build(local: Local) -> None:
    api = local.api
    execution = str(uuid.uuid4())
    api.start(local.plan, tid("S"), execution)
    failed = api.report(local.plan, tid("S"), "fail", execution, error_message="boom")[1]
    assert failed["status"] == "failed"
    assert api.ok("POST", f"/builds/{local.build}/skip-blocked") == {
        "skipped": [tid("R")], "plan_id": local.plan}
    assert code(api.post(f"/builds/{local.build}/complete", {"force": False})) == (
        409, "plan_incomplete")
    build = api.ok("POST", f"/builds/{local.build}/fail", {"error_message": "Task S failed"})
    assert (build["status"], build["error_message"]) == ("failed", "Task S failed")
    # Terminal is sticky: another transition is recorded, not applied, and refused.
    status, data = api.post(f"/builds/{local.build}/complete", {"force": True})
    assert status == 409 and data["detail"]["code"] == "build_terminal"
    assert data["detail"]["build_status"] == "failed"
    assert V2Event.objects.filter(build_id=local.build, event_type="build_completed",
                                  report_applied=False).count() == 1
    assert api.ok("POST", f"/builds/{local.build}/fail", {"error_message": "x"})["status"] == (
        "failed")
    assert code(api.start(local.plan, tid("S"))) == (409, "build_not_running")


def test_resume_with_retry_failed_runs_the_failed_task_again(local: Local) -> None:
    api = local.api
    execution = str(uuid.uuid4())
    api.start(local.plan, tid("S"), execution)
    api.report(local.plan, tid("S"), "fail", execution, error_message="boom")
    api.ok("POST", f"/builds/{local.build}/skip-blocked")
    api.ok("POST", f"/builds/{local.build}/fail", {"error_message": "boom"})
    resumed = api.ok("POST", f"/builds/{local.build}/resume",
                     {"deployment_id": local.deployment, "settings": {}})
    assert resumed["build"]["status"] == "running" and resumed["build"]["is_resumed"] is True
    assert resumed["plan"]["id"] == local.plan and resumed["changed"] is True
    assert api.ok("POST", f"/plans/{local.plan}/members/{tid('S')}/retry")["status"] == "pending"
    assert api.ok("POST", f"/plans/{local.plan}/members/{tid('R')}/retry")["status"] == "pending"
    api.run(local.plan, tid("S"))
    api.run(local.plan, tid("R"))
    assert api.ok("POST", f"/builds/{local.build}/complete", {})["status"] == "completed"
    assert len(api.ok("GET", f"/tasks/{tid('S')}/executions")["executions"]) == 2


def test_claims_are_exclusive_and_renewed_by_their_holder(local: Local) -> None:
    api = local.api
    holder = str(uuid.uuid4())
    api.start(local.plan, tid("S"), holder)
    assert code(api.start(local.plan, tid("S"))) == (409, "task_already_running")
    renewed = api.ok("POST", f"/tasks/{tid('S')}/claim/renew",
                     {"execution_id": holder, "claim_ttl_seconds": 120})
    assert renewed["execution_id"] == holder
    status, data = api.post(f"/tasks/{tid('S')}/claim/renew",
                            {"execution_id": str(uuid.uuid4())})
    assert (status, data["detail"]["code"]) == (409, "claim_not_held")
    assert code(api.start(local.plan, tid("R"))) == (409, "upstream_incomplete")
    assert api.start(local.plan, tid("S"), holder + "x")[0] == 422


def test_a_lapsed_claim_is_taken_over_and_the_late_report_is_kept_as_history(
        local: Local) -> None:
    api = local.api
    first = str(uuid.uuid4())
    api.start(local.plan, tid("S"), first)
    V2Task.objects.filter(task_id=tid("S")).update(
        claim_expires_at=timezone.now() - datetime.timedelta(seconds=1))
    second = str(uuid.uuid4())
    assert api.start(local.plan, tid("S"), second)[0] == 200
    assert Execution.objects.get(pk=first).claim_outcome == "taken_over"
    assert code(api.report(local.plan, tid("S"), "complete", first)) == (
        409, "execution_not_current")
    late = V2Event.objects.get(execution_id=first, event_type="task_completed")
    assert late.report_applied is False
    assert Execution.objects.get(pk=first).outcome == "completed"
    assert code(api.report(local.plan, tid("S"), "complete", first)) == (
        409, "execution_already_ended")
    assert code(api.report(local.plan, tid("S"), "complete", str(uuid.uuid4()))) == (
        409, "unknown_execution")
    assert api.report(local.plan, tid("S"), "fail", second)[1]["status"] == "failed"
    assert code(api.start(local.plan, tid("S"), first)) == (409, "execution_superseded")
    assert code(api.start(local.plan, tid("S"), claim_ttl_seconds=0)) == (
        400, "invalid_claim_ttl")
    api.run(local.plan, tid("S"))
    assert code(api.start(local.plan, tid("S"))) == (409, "task_already_completed")


def test_plan_creation_refusals_come_in_the_reference_order(api: Driver) -> None:
    deployment = api.deployment()
    build = api.build([tid("R")])

    def create(roots, **extra):
        body = {"plan_id": str(uuid.uuid4()), "deployment_id": deployment, "settings": {},
                "roots": roots, **extra}
        return code(api.post(f"/builds/{build}/plans", body))

    assert create([]) == (400, "no_roots")
    assert create([item("R", upstreams=[])]) == (400, "root_declared_upstreams")
    assert create([item("X")]) == (400, "root_mismatch")
    assert create([item("R")], deployment_id=str(uuid.uuid4())) == (400, "unknown_deployment")
    assert create([item("R")], settings={"A": 1}) == (400, "invalid_settings")
    assert create([item("R")], settings={"STARDAG_X": "1"}) == (400, "reserved_settings_key")
    plan = api.plan(build, deployment, [item("R")])
    assert create([item("R", instance_hash=h("R2"), body={"name": "R2"})]) == (
        409, "root_instance_conflict")
    other = api.build([tid("R")])
    assert code(api.post(f"/builds/{other}/plans", {
        "plan_id": plan, "deployment_id": deployment, "settings": {},
        "roots": [item("R")]})) == (409, "plan_id_conflict")
    assert code(api.post(f"/plans/{plan}/seal")) == (409, "plan_incomplete_registration")
    assert code(api.post(f"/builds/{build}/complete", {})) == (409, "plan_incomplete")
    assert code(api.post("/builds", {"id": str(uuid.uuid4()), "root_task_ids": []})) == (
        422, "invalid_request")


def test_registration_refusals_write_nothing(local: Local) -> None:
    api, plan = local.api, local.plan
    members = f"/plans/{plan}/members"
    tasks_before = V2Task.objects.count()
    assert code(api.post(members, {"items": [item("N", observed_at=now_iso(60))]})) == (
        400, "clock_skew")
    assert code(api.post(members, {"items": [item("N", upstreams=[h("nowhere")])]})) == (
        400, "unknown_upstream")
    assert code(api.post(members, {"items": [item(f"N{i}") for i in range(1001)]})) == (
        400, "chunk_too_large")
    assert code(api.post(members, {"items": [item("N"), item("N", body={"other": 1})]})) == (
        409, "instance_body_conflict")
    assert code(api.post(members, {"items": [item("S", body={"changed": 1})]})) == (
        409, "instance_body_conflict")
    assert code(api.post(members, {"items": [item("S", version="2")]})) == (
        409, "task_identity_conflict")
    assert code(api.post(members, {"items": [
        item("S", instance_hash=h("S-other"), body={"name": "S-other"})]})) == (
        409, "instance_conflict")
    assert V2Task.objects.count() == tasks_before


def test_yield_refusals(local: Local) -> None:
    api, plan = local.api, local.plan
    api.run(plan, tid("S"))
    execution = str(uuid.uuid4())
    api.start(plan, tid("R"), execution)
    path = f"/plans/{plan}/members/{tid('R')}/yield"
    body = {"execution_id": execution, "deployment_id": local.deployment,
            "batch_id": str(uuid.uuid4()), "items": [item("C", upstreams=[])],
            "yielded": [h("C")], "suspend": True}
    assert code(api.post(path, {**body, "deployment_id": str(uuid.uuid4())})) == (
        409, "deployment_mismatch")
    assert code(api.post(path, {**body, "yielded": [h("D")]})) == (400, "yielded_not_in_items")
    assert code(api.post(path, {**body, "execution_id": str(uuid.uuid4())})) == (
        409, "execution_not_current")
    suspended = api.ok("POST", path, body)
    assert suspended["status"] == "suspended"
    assert Execution.objects.get(pk=execution).claim_outcome == "suspended"


def test_member_operator_transitions(local: Local) -> None:
    api, plan = local.api, local.plan
    execution = str(uuid.uuid4())
    api.start(plan, tid("S"), execution)
    api.report(plan, tid("S"), "fail", execution, error_message="x")
    assert code(api.post(f"/plans/{plan}/members/{tid('S')}/skip")) == (
        409, "task_not_skippable")
    assert api.ok("POST", f"/plans/{plan}/members/{tid('R')}/skip")["status"] == "skipped"
    assert api.ok("POST", f"/plans/{plan}/members/{tid('R')}/skip")["applied"] is False
    assert api.ok("POST", f"/plans/{plan}/members/{tid('S')}/cancel")["status"] == "failed"


def test_unknown_ids_answer_404_with_their_code(local: Local) -> None:
    api = local.api
    missing = str(uuid.uuid4())
    assert code(api.get(f"/builds/{missing}")) == (404, "unknown_build")
    assert code(api.get(f"/plans/{missing}")) == (404, "unknown_plan")
    assert code(api.get("/tasks/nope")) == (404, "unknown_task")
    assert code(api.start(local.plan, "nope")) == (404, "unknown_task")
    other = api.ok("POST", f"/plans/{local.plan}/members", {"items": []})
    assert other["members_admitted"] == 0
    deployment = api.deployment("code-2")
    build = api.build([tid("Q")])
    plan = api.plan(build, deployment, [item("Q")])
    assert code(api.start(plan, tid("S"))) == (404, "unknown_member")
    assert code(api.post(f"/plans/{plan}/members/{tid('S')}/artifacts",
                         {"execution_id": None, "artifacts": []})) == (404, "not_a_member")
    assert code(api.get(f"/settings/{missing}")) == (404, "unknown_settings")
    assert code(api.get(f"/deployments/{missing}")) == (404, "unknown_deployment")
    assert api.ok("GET", "/settings/11406eac-39d0-5b1b-9423-cfb4a1454543") == {
        "hash": "11406eac-39d0-5b1b-9423-cfb4a1454543", "body": {}}


def test_deployment_refusals(api: Driver) -> None:
    assert code(api.post("/deployments", {"kind": "modal", "code_id": "c",
                                          "app_name": "a"})) == (400, "deployment_id_required")
    assert code(api.post("/deployments", {"id": str(uuid.uuid4()), "kind": "modal",
                                          "code_id": "c"})) == (400, "app_name_required")
    api.deployment("shared")
    assert code(api.post("/deployments", {"id": str(uuid.uuid4()), "kind": "local",
                                          "code_id": "shared", "app_name": "other"})) == (
        409, "local_deployment_conflict")


def test_gzip_bodies_are_accepted(client_a, api: Driver) -> None:
    deployment = api.deployment()
    raw = json.dumps({"id": str(uuid.uuid4()), "root_task_ids": [tid("R")],
                      "description": "x" * 4000}).encode()
    response = client_a.generic("POST", "/api/v2/builds", gzip.compress(raw),
                                content_type="application/json", HTTP_CONTENT_ENCODING="gzip")
    assert response.status_code == 200, response.content
    assert response.json()["description"] == "x" * 4000
    assert deployment


def test_lists_page_with_an_opaque_cursor(api: Driver) -> None:
    ids = {api.build([tid(f"R{i}")]) for i in range(5)}
    seen, cursor, pages = [], None, 0
    while True:
        page = api.ok("GET", "/builds?limit=2" + (f"&cursor={cursor}" if cursor else ""))
        assert page["total"] == 5
        seen += [b["id"] for b in page["builds"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3 and set(seen) == ids and len(seen) == 5
    assert api.get("/builds?cursor=garbage")[0] == 422


def test_modal_routes_answer_the_missing_route_404(client_a) -> None:
    unknown = client_a.get("/api/v2/no-such-route")
    assert unknown.status_code == 404
    for method, path in (("post", "/api/v2/builds/wake-candidates"),
                         ("get", "/api/v2/stalled-builds"),
                         ("post", f"/api/v2/builds/{uuid.uuid4()}/notify?can_spawn=true"),
                         ("delete", f"/api/v2/builds/{uuid.uuid4()}/notify"),
                         ("put", f"/api/v2/builds/{uuid.uuid4()}/reactive-meta"),
                         ("post", f"/api/v2/builds/{uuid.uuid4()}/scheduler-lease"),
                         ("post", f"/api/v2/builds/{uuid.uuid4()}/tick-summaries"),
                         ("post", f"/api/v2/deployments/{uuid.uuid4()}/activate"),
                         ("post", f"/api/v2/executions/{uuid.uuid4()}/stopped"),
                         ("post", f"/api/v2/plans/{uuid.uuid4()}/members/t/exclude")):
        response = getattr(client_a, method)(path)
        assert (response.status_code, response.json()) == (404, unknown.json()), path


@pytest.mark.parametrize("size", [5, 200])
def test_member_registration_statements_do_not_grow_with_the_chunk(api: Driver, size: int
                                                                   ) -> None:
    """A chunk of expanded members (each with an upstream) costs the same statements whether
    it holds 5 items or 200: lookups, inserts and the ``expanded_at`` update are per chunk."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    deployment = api.deployment()
    build = api.build([tid(f"root{size}")])
    plan = api.plan(build, deployment, [item(f"root{size}")])
    leaves = [item(f"leaf{size}-{n}", upstreams=[]) for n in range(size)]
    mids = [item(f"mid{size}-{n}", upstreams=[h(f"leaf{size}-{n}")]) for n in range(size)]
    with CaptureQueriesContext(connection) as captured:
        result = api.ok("POST", f"/plans/{plan}/members", {"items": leaves + mids})
    assert result["members_admitted"] + result["closure_admitted"] == 2 * size
    assert result["edges_created"] == size
    assert len(captured.captured_queries) <= 40, len(captured.captured_queries)
