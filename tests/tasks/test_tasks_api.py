"""Tasks (contract §4.11) and the legacy ``POST /api/v1/tasks`` (§9)."""

from __future__ import annotations

import datetime
import uuid

import pytest
from stardag.registry._base import TaskMetadata

from builds.models import Event
from tasks.models import Task, TaskDependency
from tests.builds.helpers import create_build, lifecycle, register, task_body


@pytest.fixture
def build(client_a):
    return create_build(client_a)


def test_task_list_newest_first_with_exact_filters(client_a, client_b, build):
    register(client_a, build["id"], "t1", name="Train", namespace="ml")
    register(client_a, build["id"], "t2", name="Train", namespace="")
    register(client_a, build["id"], "t3", name="Score", namespace="ml")
    other = create_build(client_b)
    register(client_b, other["id"], "t9", name="Train", namespace="ml")

    def task_ids(query: str = "") -> list[str]:
        response = client_a.get(f"/api/v1/tasks{query}")
        assert response.status_code == 200
        return [t["task_id"] for t in response.json()["tasks"]]

    body = client_a.get("/api/v1/tasks").json()
    assert (body["total"], body["page"], body["page_size"]) == (3, 1, 20)
    assert task_ids() == ["t3", "t2", "t1"]
    assert task_ids("?task_name=Train") == ["t2", "t1"]
    assert task_ids("?task_name=Trai") == []
    assert task_ids("?task_namespace=ml") == ["t3", "t1"]
    assert task_ids("?task_namespace=") == ["t3", "t2", "t1"]
    assert task_ids("?page=2&page_size=2") == ["t1"]
    assert client_a.get("/api/v1/tasks?page_size=0").status_code == 422


def test_task_detail(client_a, build):
    created = register(client_a, build["id"], "t1")
    response = client_a.get("/api/v1/tasks/t1")
    assert response.status_code == 200 and response.json() == created
    missing = client_a.get("/api/v1/tasks/nope")
    assert missing.status_code == 404 and missing.json() == {"detail": "Task not found"}


def test_task_assets_oldest_first(client_a, build):
    register(client_a, build["id"], "t1")
    url = f"/api/v1/builds/{build['id']}/tasks/t1/assets"
    client_a.post(url, [{"type": "markdown", "name": "b", "body": {"content": "x"}}],
                  format="json")
    client_a.post(url, [{"type": "json", "name": "a", "body": {"k": 1}}], format="json")
    assets = client_a.get("/api/v1/tasks/t1/assets").json()["assets"]
    assert [(a["name"], a["task_id"]) for a in assets] == [("b", "t1"), ("a", "t1")]
    assert client_a.get("/api/v1/tasks/nope/assets").status_code == 404


def test_task_events_across_builds_newest_first(client_a, build):
    task = register(client_a, build["id"], "t1")
    other = create_build(client_a)
    register(client_a, other["id"], "t1")
    lifecycle(client_a, other["id"], "t1", "start")
    events = client_a.get("/api/v1/tasks/t1/events").json()
    assert [(e["event_type"], e["build_id"]) for e in events] == [
        ("task_started", other["id"]), ("task_referenced", other["id"]),
        ("task_pending", build["id"]),
    ]
    assert all(e["task_id"] == task["id"] for e in events)
    assert client_a.get("/api/v1/tasks/nope/events").status_code == 404


def test_task_metadata_shape_for_the_sdk(client_a, build):
    register(client_a, build["id"], "t1", version=None)
    meta = client_a.get("/api/v1/tasks/t1/metadata").json()
    assert meta["version"] == ""
    assert (meta["id"], meta["name"], meta["namespace"], meta["status"]) == (
        "t1", "Add", "math", "pending")
    assert meta["body"] == task_body("t1")["task_data"]
    assert meta["output_uri"] == "/tmp/out/t1.json"
    assert meta["started_at"] is None and meta["completed_at"] is None
    assert meta["error_message"] is None
    registered = datetime.datetime.fromisoformat(meta["registered_at"])
    assert registered.tzinfo is not None
    lifecycle(client_a, build["id"], "t1", "start")
    lifecycle(client_a, build["id"], "t1", "fail", error_message="bad input")
    meta = client_a.get("/api/v1/tasks/t1/metadata").json()
    assert (meta["status"], meta["error_message"]) == ("failed", "bad input")
    assert meta["started_at"] and meta["completed_at"]
    assert client_a.get("/api/v1/tasks/nope/metadata").status_code == 404


def test_metadata_validates_with_the_sdk_model(client_a, build):
    task_id = str(uuid.uuid4())
    register(client_a, build["id"], task_id)
    lifecycle(client_a, build["id"], task_id, "complete")
    meta = TaskMetadata.model_validate(client_a.get(f"/api/v1/tasks/{task_id}/metadata").json())
    assert str(meta.id) == task_id and meta.status == "completed"
    assert meta.completed_at is not None


def test_legacy_create_task_outside_a_build(client_a, build):
    dep = register(client_a, build["id"], "dep")
    response = client_a.post("/api/v1/tasks", task_body("t1", "dep"), format="json")
    assert response.status_code == 201
    created = response.json()
    assert created["task_id"] == "t1"
    again = client_a.post("/api/v1/tasks", task_body("t1", name="Changed"), format="json")
    assert again.status_code == 201 and again.json() == created
    assert not Event.objects.filter(task__task_id="t1").exists()
    assert TaskDependency.objects.filter(dependency_id=dep["id"],
                                         dependent_id=created["id"]).count() == 1
    assert Task.objects.get(task_id="t1").status == "pending"
    invalid = client_a.post("/api/v1/tasks", {"task_id": "t2"}, format="json")
    assert invalid.status_code == 422
    assert client_a.post("/api/v1/tasks").json()["detail"][0]["loc"] == ["body"]


def test_search_is_not_taken_as_a_task_id(client_a, build):
    register(client_a, build["id"], "search")
    # The search routes are matched first; whatever they answer, it is not the task "search".
    response = client_a.get("/api/v1/tasks/search")
    assert response.json().get("task_id") != "search"
