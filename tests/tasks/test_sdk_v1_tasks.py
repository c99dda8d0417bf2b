"""Task endpoints SDK releases 0.10-0.26 call on v1 (SDK-WIRE §3.3-§3.4, issue 12): bulk
registration, run-time dependencies, skip, retry, skip-blocked, executor fields on start,
artifacts, the frontier and the CLI's task list."""

from __future__ import annotations

import json

from builds.models import Event
from tasks.models import Task, TaskDependency
from tests.builds.helpers import create_build, lifecycle, register, task_body


def bulk(client, build_id, *items, **query):
    suffix = "?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else ""
    return client.post(f"/api/v1/builds/{build_id}/tasks/bulk{suffix}",
                       {"tasks": list(items)}, format="json")


def edges(client, build_id):
    graph = client.get(f"/api/v1/builds/{build_id}/graph").json()
    sdk = {node["id"]: node["task_id"] for node in graph["nodes"]}
    return {(sdk[e["source"]], sdk[e["target"]]): e["is_dynamic"] for e in graph["edges"]}


def test_bulk_registration_is_single_registration_in_order(client_a):
    build = create_build(client_a)
    register(client_a, build["id"], "known")

    response = bulk(client_a, build["id"], task_body("a"), task_body("b", "a", "known"),
                    task_body("known"), id_only="true")

    assert response.status_code == 201, response.content
    rows = response.json()["tasks"]
    assert [(row["task_id"], row["latest_status"]) for row in rows] == [
        ("a", "pending"), ("b", "pending"), ("known", "pending")]
    assert set(rows[0]) == {"id", "task_id", "latest_status", "latest_executor",
                            "latest_executor_ref", "latest_executor_metadata"}
    events = [(e.task.task_id, e.event_type) for e in
              Event.objects.filter(build_id=build["id"], task__isnull=False)]
    assert events == [("known", "task_pending"), ("a", "task_pending"), ("b", "task_pending"),
                      ("known", "task_referenced")]
    assert edges(client_a, build["id"]) == {("a", "b"): False, ("known", "b"): False}


def test_bulk_registration_reports_a_running_execution(client_a):
    build = create_build(client_a)
    register(client_a, build["id"], "t")
    lifecycle(client_a, build["id"], "t", "start", executor="modal", executor_ref="fc-1")
    again = bulk(client_a, create_build(client_a)["id"], task_body("t")).json()["tasks"][0]
    assert (again["latest_status"], again["latest_executor"],
            again["latest_executor_ref"]) == ("running", "modal", "fc-1")


def test_bulk_registration_is_all_or_nothing_and_capped(client_a):
    build = create_build(client_a)
    bad = bulk(client_a, build["id"], task_body("ok"), {"task_id": "no-name", "task_data": {}})
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["body", "tasks", 1, "task_name"]
    assert not Task.objects.filter(task_id="ok").exists()

    too_many = bulk(client_a, build["id"], *[task_body(f"t{i}") for i in range(1001)])
    assert too_many.status_code == 400
    assert "1000" in too_many.json()["detail"]
    assert bulk(client_a, build["id"]).json() == {"tasks": []}


def test_dynamic_dependencies_show_in_the_graph(client_a):
    build = create_build(client_a)
    register(client_a, build["id"], "parent")
    register(client_a, build["id"], "static")
    register(client_a, build["id"], "child")
    TaskDependency.objects.create(dependency=Task.objects.get(task_id="static"),
                                  dependent=Task.objects.get(task_id="parent"))
    url = f"/api/v1/builds/{build['id']}/tasks/parent/dependencies"

    response = client_a.post(url, {"upstream_task_ids": ["child", "static", "ghost"],
                                   "is_dynamic": True}, format="json")

    assert response.status_code == 201 and response.json() == {"added": 1}
    assert edges(client_a, build["id"]) == {("static", "parent"): False,
                                            ("child", "parent"): True}
    assert client_a.post(url, {"upstream_task_ids": ["child"]}, format="json").json() == {
        "added": 0}
    assert client_a.post(f"/api/v1/builds/{build['id']}/tasks/nope/dependencies",
                         {"upstream_task_ids": []}, format="json").status_code == 404


def test_start_records_the_executor_and_echoes_the_execution(client_a):
    build = create_build(client_a)
    register(client_a, build["id"], "t")
    metadata = json.dumps({"hostname": "h", "pid": 7})
    body = lifecycle(client_a, build["id"], "t", "start", executor="sync_thread",
                     executor_ref="h:7", executor_metadata=metadata,
                     execution_id="0190aaaa-0000-7000-8000-000000000001", claim_ttl_seconds="120")
    assert body == {"task_id": "t", "status": "running",
                    "execution_id": "0190aaaa-0000-7000-8000-000000000001"}
    row = client_a.get(f"/api/v1/builds/{build['id']}/tasks").json()[0]
    assert (row["latest_executor"], row["latest_executor_ref"],
            row["latest_executor_metadata"]) == ("sync_thread", "h:7", {"hostname": "h", "pid": 7})
    assert row["latest_execution_id"] == "0190aaaa-0000-7000-8000-000000000001"
    assert lifecycle(client_a, build["id"], "t", "complete") == {"task_id": "t",
                                                                 "status": "completed"}


def test_skip_blocked_skips_the_downstream_closure_and_retry_resets(client_a):
    build = create_build(client_a)
    for task_id, deps in (("a", ()), ("b", ("a",)), ("c", ("b",)), ("x", ())):
        register(client_a, build["id"], task_id, *deps)
    lifecycle(client_a, build["id"], "a", "start")
    lifecycle(client_a, build["id"], "a", "fail", error_message="boom")

    skipped = client_a.post(f"/api/v1/builds/{build['id']}/skip-blocked").json()

    assert skipped == {"skipped_task_ids": ["b", "c"]}
    rows = {r["task_id"]: r for r in client_a.get(f"/api/v1/builds/{build['id']}/tasks").json()}
    assert {k: r["latest_status"] for k, r in rows.items()} == {
        "a": "failed", "b": "skipped", "c": "skipped", "x": "pending"}
    assert rows["b"]["status"] == "pending"  # the contract's §5.3 fold ignores skips
    assert client_a.post(f"/api/v1/builds/{build['id']}/skip-blocked").json() == {
        "skipped_task_ids": []}

    retried = client_a.post(f"/api/v1/builds/{build['id']}/tasks/a/retry").json()
    assert retried == {"task_id": "a", "status": "pending", "retried": True}
    lifecycle(client_a, build["id"], "x", "start")
    assert client_a.post(f"/api/v1/builds/{build['id']}/tasks/x/retry").json()["retried"] is False
    skip = client_a.post(f"/api/v1/builds/{build['id']}/tasks/x/skip?commit_hash=abc")
    assert skip.json() == {"task_id": "x", "status": "skipped"}


def test_frontier_lists_what_can_run(client_a):
    build = create_build(client_a, root_task_ids=["b"])
    register(client_a, build["id"], "a")
    register(client_a, build["id"], "b", "a")
    frontier = client_a.get(f"/api/v1/builds/{build['id']}/frontier").json()
    assert [ref["task_id"] for ref in frontier["actionable"]] == ["a"]
    assert frontier["status_counts"] == {"pending": 2} and frontier["needs_tick"] is False
    assert [ref["task_id"] for ref in frontier["roots"]] == ["b"]
    assert frontier["scope_key"] == f"build:{build['id']}"

    lifecycle(client_a, build["id"], "a", "start")
    lifecycle(client_a, build["id"], "a", "complete")
    frontier = client_a.get(f"/api/v1/builds/{build['id']}/frontier").json()
    assert [ref["task_id"] for ref in frontier["actionable"]] == ["b"]
    assert frontier["status_counts"] == {"completed": 1, "pending": 1}


def test_task_list_filters_and_latest_fields(client_a):
    build = create_build(client_a)
    for task_id in ("p", "r", "f"):
        register(client_a, build["id"], task_id, name=task_id.upper())
    lifecycle(client_a, build["id"], "r", "start")
    lifecycle(client_a, build["id"], "f", "fail")

    def ids(query):
        return sorted(t["task_id"] for t in client_a.get(f"/api/v1/tasks?{query}").json()["tasks"])

    assert ids("status=running&status=failed") == ["f", "r"]
    assert ids("status=pending") == ["p"]
    assert ids("status=running&status_older_than=2000-01-01T00:00:00Z") == []
    assert ids("status=running&status_older_than=2999-01-01T00:00:00Z") == ["r"]
    assert ids("task_name=F") == ["f"]
    row = client_a.get("/api/v1/tasks?task_name=R").json()["tasks"][0]
    assert (row["latest_status"], row["latest_status_build_id"]) == ("running", build["id"])
    assert client_a.get("/api/v1/tasks?status=bogus").status_code == 422


def test_artifacts_are_the_assets_under_their_new_name(client_a):
    build = create_build(client_a)
    register(client_a, build["id"], "t")
    posted = client_a.post(f"/api/v1/builds/{build['id']}/tasks/t/artifacts",
                           [{"type": "markdown", "name": "r", "body": {"content": "# hi"}}],
                           format="json")
    assert posted.status_code == 201
    artifacts = client_a.get("/api/v1/tasks/t/artifacts").json()["artifacts"]
    assert artifacts == client_a.get("/api/v1/tasks/t/assets").json()["assets"]
    assert [(a["asset_type"], a["name"], a["body"]) for a in artifacts] == [
        ("markdown", "r", {"content": "# hi"})]


def test_stored_latest_state_equals_the_fold_over_the_events(client_a):
    from tasks.status import TaskLatest, task_latest_step

    build = create_build(client_a)
    register(client_a, build["id"], "t")
    lifecycle(client_a, build["id"], "t", "start", executor="e1", executor_ref="r1")
    lifecycle(client_a, build["id"], "t", "fail")
    client_a.post(f"/api/v1/builds/{build['id']}/tasks/t/retry")
    other = create_build(client_a)
    register(client_a, other["id"], "t")
    lifecycle(client_a, other["id"], "t", "start", executor="e2")
    lifecycle(client_a, other["id"], "t", "complete")
    client_a.post(f"/api/v1/builds/{other['id']}/tasks/t/skip")  # completed stays completed

    task = Task.objects.get(task_id="t")
    state = TaskLatest()
    for event in Event.objects.filter(task=task).order_by("created_at", "id"):
        state = task_latest_step(state, event)
    assert state == TaskLatest(task.latest_status, task.latest_status_at,
                               task.latest_status_build_id, task.latest_executor,
                               task.latest_executor_ref, task.latest_executor_metadata,
                               task.latest_execution_id)
    assert (state.status, str(state.status_build_id), state.executor) == (
        "completed", other["id"], "e2")
