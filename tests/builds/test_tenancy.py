"""An API key of environment E1 can neither read nor write any build, task, event, asset or
graph of environment E2, on every endpoint of the registry (acceptance 5).
"""

from __future__ import annotations

import pytest

from builds.models import Build, Event
from tasks.models import Task, TaskAsset, TaskDependency
from tests.builds.helpers import create_build, lifecycle, register, task_body

FORBIDDEN = {"detail": "Build does not belong to this environment"}
TASK_NOT_FOUND = {"detail": "Task not found"}
LIFECYCLE_ACTIONS = ["start", "complete", "fail", "suspend", "resume", "cancel",
                     "waiting-for-lock"]


@pytest.fixture
def world(client_a, client_b):
    """E2 (tenant B) owns a build with tasks, edges, events and an asset; E1 has its own."""
    b2 = create_build(client_b, root_task_ids=["secret-root"])
    register(client_b, b2["id"], "shared")
    register(client_b, b2["id"], "secret", "shared")
    lifecycle(client_b, b2["id"], "secret", "start")
    client_b.post(f"/api/v1/builds/{b2['id']}/tasks/secret/assets",
                  [{"type": "json", "name": "report", "body": {"secret": True}}], format="json")
    b1 = create_build(client_a)
    return {"b1": b1, "b2": b2}


def snapshot() -> tuple:
    return (
        Event.objects.count(),
        list(Build.objects.order_by("id").values_list("id", "name", "status", "commit_hash")),
        list(Task.objects.order_by("id").values_list("id", "status", "asset_count")),
        list(TaskAsset.objects.order_by("id").values_list("id", "body")),
        TaskDependency.objects.count(),
    )


def test_e1_cannot_touch_e2_builds(client_a, world):
    b2 = world["b2"]["id"]
    before = snapshot()
    reads = [f"/api/v1/builds/{b2}", f"/api/v1/builds/{b2}/tasks",
             f"/api/v1/builds/{b2}/events", f"/api/v1/builds/{b2}/graph"]
    for url in reads:
        response = client_a.get(url)
        assert (response.status_code, response.json()) == (403, FORBIDDEN), url
    writes = [
        ("patch", f"/api/v1/builds/{b2}", {"name": "hijacked"}),
        ("post", f"/api/v1/builds/{b2}/complete", None),
        ("post", f"/api/v1/builds/{b2}/fail?error_message=x", None),
        ("post", f"/api/v1/builds/{b2}/cancel", None),
        ("post", f"/api/v1/builds/{b2}/exit-early", None),
        ("post", f"/api/v1/builds/{b2}/tasks", task_body("new-task")),
        ("post", f"/api/v1/builds/{b2}/tasks/secret/assets",
         [{"type": "json", "name": "report", "body": {"overwritten": True}}]),
        *[("post", f"/api/v1/builds/{b2}/tasks/secret/{action}", None)
          for action in LIFECYCLE_ACTIONS],
    ]
    for method, url, body in writes:
        response = getattr(client_a, method)(url, body, format="json")
        assert (response.status_code, response.json()) == (403, FORBIDDEN), url
    assert snapshot() == before


def test_e1_cannot_reach_e2_tasks_through_its_own_build(client_a, world):
    b1 = world["b1"]["id"]
    before = snapshot()
    for action in LIFECYCLE_ACTIONS:
        response = client_a.post(f"/api/v1/builds/{b1}/tasks/secret/{action}")
        assert (response.status_code, response.json()) == (404, TASK_NOT_FOUND)
    response = client_a.post(f"/api/v1/builds/{b1}/tasks/secret/assets",
                             [{"type": "json", "name": "report", "body": {}}], format="json")
    assert (response.status_code, response.json()) == (404, TASK_NOT_FOUND)
    assert snapshot() == before


def test_e1_task_reads_never_see_e2(client_a, world):
    for url in ["/api/v1/tasks/secret", "/api/v1/tasks/secret/assets",
                "/api/v1/tasks/secret/events", "/api/v1/tasks/secret/metadata"]:
        response = client_a.get(url)
        assert (response.status_code, response.json()) == (404, TASK_NOT_FOUND), url
    listing = client_a.get("/api/v1/tasks?task_name=Add").json()
    assert listing["total"] == 0 and listing["tasks"] == []
    builds = client_a.get("/api/v1/builds").json()
    assert [b["id"] for b in builds["builds"]] == [world["b1"]["id"]]
    assert client_a.get("/api/v1/builds?root_task_id=secret-root").json()["total"] == 0


def test_same_task_id_in_e1_is_a_different_task(client_a, client_b, world):
    b1 = world["b1"]["id"]
    mine = register(client_a, b1, "secret", "shared")  # "shared" exists only in E2
    theirs = client_b.get("/api/v1/tasks/secret").json()
    assert mine["id"] != theirs["id"]
    assert Event.objects.get(task_id=mine["id"]).event_type == "task_pending"
    assert not TaskDependency.objects.filter(dependent_id=mine["id"]).exists()
    legacy = client_a.post("/api/v1/tasks", task_body("shared"), format="json").json()
    assert legacy["id"] != client_b.get("/api/v1/tasks/shared").json()["id"]
    graph = client_a.get(f"/api/v1/builds/{b1}/graph").json()
    assert [n["task_id"] for n in graph["nodes"]] == ["secret"] and graph["edges"] == []
    assert client_b.get("/api/v1/tasks/secret/metadata").json()["status"] == "running"
    assert client_b.get("/api/v1/tasks/secret/assets").json()["assets"][0]["body"] == {
        "secret": True}


def test_jwt_for_e2_environment_is_refused_for_e1_user(tenant_a, world, tenant_b):
    client = tenant_a.jwt_client()
    response = client.get(f"/api/v1/builds?environment_id={tenant_b.environment.pk}")
    assert response.status_code == 403
    response = client.get(f"/api/v1/builds/{world['b2']['id']}"
                          f"?environment_id={tenant_a.environment.pk}")
    assert (response.status_code, response.json()) == (403, FORBIDDEN)
