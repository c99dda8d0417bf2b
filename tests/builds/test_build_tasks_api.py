"""Tasks inside a build (contract §4.10.1-4.10.6): registration, lifecycle events, assets,
the build's task list, event log and graph.
"""

from __future__ import annotations

import uuid

import pytest

from builds.models import Event
from tasks.models import Task, TaskAsset, TaskDependency
from tests.builds.helpers import create_build, lifecycle, register, task_body

# Additive ``latest_*`` state for SDK ≥0.10 (issue 12).
LATEST_KEYS = {"latest_status", "latest_status_at", "latest_status_build_id", "latest_executor",
               "latest_executor_ref", "latest_executor_metadata", "latest_execution_id"}
TASK_KEYS = {"id", "task_id", "environment_id", "task_namespace", "task_name", "task_data",
             "version", "output_uri", "created_at"}


@pytest.fixture
def build(client_a):
    return create_build(client_a)


# --- registration -----------------------------------------------------------------------------


def test_register_new_task_returns_task_and_appends_pending(client_a, tenant_a, build):
    body = register(client_a, build["id"], "t1")
    assert set(body) == TASK_KEYS
    assert body["task_id"] == "t1" and body["environment_id"] == str(tenant_a.environment.pk)
    assert body["task_data"] == task_body("t1")["task_data"]
    assert (body["version"], body["output_uri"]) == ("1", "/tmp/out/t1.json")
    events = Event.objects.filter(build_id=build["id"], task__isnull=False)
    assert [(e.event_type, str(e.task_id)) for e in events] == [("task_pending", body["id"])]


def test_register_existing_task_keeps_row_and_appends_referenced(client_a, build):
    first = register(client_a, build["id"], "t1")
    other = create_build(client_a)
    again = register(client_a, other["id"], "t1", name="Renamed", version="9")
    assert again == first
    repeat = register(client_a, other["id"], "t1")
    assert repeat == first
    kinds = list(Event.objects.filter(task_id=first["id"]).order_by("created_at", "id")
                 .values_list("event_type", flat=True))
    assert kinds == ["task_pending", "task_referenced", "task_referenced"]


def test_register_defaults_and_nulls(client_a, build):
    response = client_a.post(f"/api/v1/builds/{build['id']}/tasks",
                             {"task_id": "t1", "task_name": "N", "task_data": {}}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert (body["task_namespace"], body["version"], body["output_uri"]) == ("", None, None)


def test_register_edges_only_for_known_dependencies(client_a, build):
    dep = register(client_a, build["id"], "dep")
    task = register(client_a, build["id"], "t1", "dep", "unknown")
    register(client_a, build["id"], "t1", "dep")
    edges = list(TaskDependency.objects.values_list("dependency_id", "dependent_id"))
    assert [(str(a), str(b)) for a, b in edges] == [(dep["id"], task["id"])]


@pytest.mark.parametrize(("change", "loc", "type_"), [
    ({"task_id": None}, ["body", "task_id"], "missing"),
    ({"task_id": ""}, ["body", "task_id"], "string_too_short"),
    ({"task_id": "x" * 65}, ["body", "task_id"], "string_too_long"),
    ({"task_name": "x" * 256}, ["body", "task_name"], "string_too_long"),
    ({"task_data": [1]}, ["body", "task_data"], "dict_type"),
    ({"version": "v" * 65}, ["body", "version"], "string_too_long"),
    ({"output_uri": "u" * 2049}, ["body", "output_uri"], "string_too_long"),
    ({"dependency_task_ids": "dep"}, ["body", "dependency_task_ids"], "list_type"),
])
def test_register_validation(client_a, build, change, loc, type_):
    body = {**task_body("t1"), **change}
    response = client_a.post(f"/api/v1/builds/{build['id']}/tasks", body, format="json")
    assert response.status_code == 422, response.content
    assert any(i["loc"] == loc and i["type"] == type_ for i in response.json()["detail"])
    assert not Task.objects.exists()


def test_register_missing_fields_and_body(client_a, build):
    url = f"/api/v1/builds/{build['id']}/tasks"
    response = client_a.post(url, {"task_id": "t1"}, format="json")
    locs = {tuple(i["loc"]) for i in response.json()["detail"]}
    assert response.status_code == 422
    assert locs == {("body", "task_name"), ("body", "task_data")}
    assert all(i["msg"] == "Field required" for i in response.json()["detail"])
    assert client_a.post(url).json()["detail"][0]["loc"] == ["body"]


def test_register_in_unknown_build_is_404(client_a):
    response = client_a.post(f"/api/v1/builds/{uuid.uuid4()}/tasks", task_body("t1"),
                             format="json")
    assert response.status_code == 404 and response.json() == {"detail": "Build not found"}


# --- lifecycle --------------------------------------------------------------------------------


@pytest.mark.parametrize(("action", "event_type", "status"), [
    ("start", "task_started", "running"),
    ("complete", "task_completed", "completed"),
    ("fail", "task_failed", "failed"),
    ("suspend", "task_suspended", "suspended"),
    ("resume", "task_resumed", "running"),
    ("cancel", "task_cancelled", "cancelled"),
    ("waiting-for-lock", "task_waiting_for_lock", "pending"),
])
def test_lifecycle_actions(client_a, build, action, event_type, status):
    register(client_a, build["id"], "t1")
    body = lifecycle(client_a, build["id"], "t1", action)
    assert body == {"task_id": "t1", "status": status}
    assert Event.objects.filter(task__task_id="t1").last().event_type == event_type


def test_lifecycle_query_parameters_are_recorded(client_a, build):
    register(client_a, build["id"], "t1")
    lifecycle(client_a, build["id"], "t1", "waiting-for-lock", lock_owner="owner-1")
    lifecycle(client_a, build["id"], "t1", "fail", error_message="boom")
    events = Event.objects.filter(task__task_id="t1").order_by("created_at", "id")
    assert [(e.event_type, e.error_message, e.event_metadata) for e in events] == [
        ("task_pending", None, None),
        ("task_waiting_for_lock", None, {"lock_owner": "owner-1"}),
        ("task_failed", "boom", None),
    ]
    assert Task.objects.get(task_id="t1").error_message == "boom"


def test_lifecycle_status_is_per_build(client_a, build):
    register(client_a, build["id"], "t1")
    lifecycle(client_a, build["id"], "t1", "start")
    assert lifecycle(client_a, build["id"], "t1", "suspend")["status"] == "suspended"
    other = create_build(client_a)
    # Not registered in `other`, yet accepted (the SDK completes "previously completed" tasks).
    assert lifecycle(client_a, other["id"], "t1", "waiting-for-lock")["status"] == "pending"
    assert lifecycle(client_a, other["id"], "t1", "complete")["status"] == "completed"
    assert lifecycle(client_a, build["id"], "t1", "resume")["status"] == "running"
    # any action at any time; repeats are one more event each
    assert lifecycle(client_a, build["id"], "t1", "resume")["status"] == "running"


@pytest.mark.parametrize("send", [
    lambda c, url: c.post(url),
    lambda c, url: c.generic("POST", url, "", content_type="application/json"),
    lambda c, url: c.post(url, {"ignored": True}, format="json"),
])
def test_lifecycle_accepts_no_empty_or_any_body(client_a, build, send):
    register(client_a, build["id"], "t1")
    response = send(client_a, f"/api/v1/builds/{build['id']}/tasks/t1/start")
    assert response.status_code == 200 and response.json()["status"] == "running"


def test_lifecycle_errors(client_a, client_b, build):
    response = client_a.post(f"/api/v1/builds/{build['id']}/tasks/nope/start")
    assert response.status_code == 404 and response.json() == {"detail": "Task not found"}
    unknown = client_a.post(f"/api/v1/builds/{uuid.uuid4()}/tasks/nope/start")
    assert unknown.json() == {"detail": "Build not found"}
    assert client_a.post("/api/v1/builds/x/tasks/nope/start").status_code == 422
    foreign = create_build(client_b)
    register(client_b, foreign["id"], "t1")
    register(client_a, build["id"], "t1")
    forbidden = client_a.post(f"/api/v1/builds/{foreign['id']}/tasks/t1/start")
    assert forbidden.status_code == 403
    assert client_a.get(f"/api/v1/builds/{build['id']}/tasks/t1/start").status_code == 405


# --- assets -----------------------------------------------------------------------------------


def test_assets_upsert_in_request_order(client_a, build):
    register(client_a, build["id"], "t1")
    url = f"/api/v1/builds/{build['id']}/tasks/t1/assets"
    first = client_a.post(url, [
        {"type": "markdown", "name": "report", "body": {"content": "# Hi"}},
        {"type": "json", "name": "metrics", "body": {"loss": 0.5}},
    ], format="json")
    assert first.status_code == 201
    assets = first.json()["assets"]
    assert [(a["asset_type"], a["name"], a["body"], a["task_id"]) for a in assets] == [
        ("markdown", "report", {"content": "# Hi"}, "t1"),
        ("json", "metrics", {"loss": 0.5}, "t1"),
    ]
    assert set(assets[0]) == {"id", "task_id", "asset_type", "name", "body", "created_at"}
    second = client_a.post(url, [{"type": "json", "name": "metrics", "body": {"loss": 0.1}}],
                           format="json").json()["assets"]
    assert second[0]["id"] == assets[1]["id"]
    assert second[0]["created_at"] == assets[1]["created_at"]
    assert second[0]["body"] == {"loss": 0.1}
    assert client_a.post(url, [], format="json").json() == {"assets": []}
    assert TaskAsset.objects.count() == 2 and Task.objects.get(task_id="t1").asset_count == 2


@pytest.mark.parametrize(("payload", "loc"), [
    ({"type": "json"}, ["body"]),
    ([{"type": "json", "name": "x"}], ["body", 0, "body"]),
    ([{"type": "", "name": "x", "body": {}}], ["body", 0, "type"]),
    ([{"type": "j" * 51, "name": "x", "body": {}}], ["body", 0, "type"]),
    ([{"type": "json", "name": "x", "body": "text"}], ["body", 0, "body"]),
])
def test_assets_validation(client_a, build, payload, loc):
    register(client_a, build["id"], "t1")
    response = client_a.post(f"/api/v1/builds/{build['id']}/tasks/t1/assets", payload,
                             format="json")
    assert response.status_code == 422
    assert any(item["loc"] == loc for item in response.json()["detail"])
    assert not TaskAsset.objects.exists()


def test_assets_errors(client_a, build):
    url = f"/api/v1/builds/{build['id']}/tasks/nope/assets"
    response = client_a.post(url, [], format="json")
    assert response.status_code == 404 and response.json() == {"detail": "Task not found"}
    register(client_a, build["id"], "t1")
    missing = client_a.post(f"/api/v1/builds/{build['id']}/tasks/t1/assets")
    assert missing.status_code == 422 and missing.json()["detail"][0]["loc"] == ["body"]


# --- reads ------------------------------------------------------------------------------------


def test_build_tasks_carry_global_status(client_a, build):
    register(client_a, build["id"], "a")
    register(client_a, build["id"], "b", "a")
    lifecycle(client_a, build["id"], "a", "start")
    lifecycle(client_a, build["id"], "a", "suspend")
    other = create_build(client_a)
    register(client_a, other["id"], "b", "a")
    lifecycle(client_a, other["id"], "b", "start")
    lifecycle(client_a, other["id"], "b", "complete")
    client_a.post(f"/api/v1/builds/{other['id']}/tasks/b/assets",
                  [{"type": "json", "name": "x", "body": {}}], format="json")
    rows = client_a.get(f"/api/v1/builds/{build['id']}/tasks").json()
    assert [r["task_id"] for r in rows] == ["a", "b"]
    a, b = rows
    assert set(a) == TASK_KEYS | {"status", "started_at", "completed_at", "error_message",
                                  "asset_count", "waiting_for_lock", "status_build_id",
                                  *LATEST_KEYS}
    assert (a["status"], a["status_build_id"], a["completed_at"]) == ("running", build["id"],
                                                                      None)
    assert (b["status"], b["status_build_id"], b["asset_count"]) == ("completed", other["id"], 1)
    assert b["started_at"] and b["completed_at"] and b["waiting_for_lock"] is False


def test_build_tasks_include_tasks_with_any_event_in_the_build(client_a, build):
    other = create_build(client_a)
    register(client_a, other["id"], "held")
    lifecycle(client_a, build["id"], "held", "waiting-for-lock")
    rows = client_a.get(f"/api/v1/builds/{build['id']}/tasks").json()
    assert [(r["task_id"], r["waiting_for_lock"]) for r in rows] == [("held", True)]


def test_build_events_oldest_first(client_a, build):
    task = register(client_a, build["id"], "t1")
    lifecycle(client_a, build["id"], "t1", "start")
    lifecycle(client_a, build["id"], "t1", "complete")
    client_a.post(f"/api/v1/builds/{build['id']}/complete")
    events = client_a.get(f"/api/v1/builds/{build['id']}/events").json()
    assert [(e["event_type"], e["task_id"]) for e in events] == [
        ("build_started", None), ("task_pending", task["id"]), ("task_started", task["id"]),
        ("task_completed", task["id"]), ("build_completed", None),
    ]
    assert set(events[0]) == {"id", "build_id", "task_id", "event_type", "created_at",
                              "error_message", "event_metadata"}
    assert all(e["build_id"] == build["id"] for e in events)
    assert [e["created_at"] for e in events] == sorted(e["created_at"] for e in events)


def test_build_graph_nodes_and_edges_within_the_build(client_a, build):
    other = create_build(client_a)
    outside = register(client_a, other["id"], "outside")
    a = register(client_a, build["id"], "a")
    b = register(client_a, build["id"], "b", "a", "outside")
    c = register(client_a, build["id"], "c", "a", "b")
    lifecycle(client_a, build["id"], "a", "complete")
    graph = client_a.get(f"/api/v1/builds/{build['id']}/graph").json()
    assert graph["nodes"][0] == {"id": a["id"], "task_id": "a", "task_name": "Add",
                                 "task_namespace": "math", "status": "completed",
                                 "asset_count": 0}
    assert [n["id"] for n in graph["nodes"]] == [a["id"], b["id"], c["id"]]
    edges = {(e["source"], e["target"]) for e in graph["edges"]}
    assert edges == {(a["id"], b["id"]), (a["id"], c["id"]), (b["id"], c["id"])}
    assert outside["id"] not in {e["source"] for e in graph["edges"]}


def test_empty_build_reads(client_a, build):
    assert client_a.get(f"/api/v1/builds/{build['id']}/tasks").json() == []
    assert client_a.get(f"/api/v1/builds/{build['id']}/graph").json() == {"nodes": [],
                                                                           "edges": []}
