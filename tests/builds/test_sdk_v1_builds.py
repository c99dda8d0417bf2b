"""Build endpoints SDK releases 0.10-0.26 call on v1 (SDK-WIRE §3.3-§3.4, issue 12): scopes,
resume, roots, cascade and bulk cancel, the list filters."""

from __future__ import annotations

import datetime
import json

from django.utils import timezone

from builds.models import Build, Event
from tests.builds.helpers import create_build, lifecycle, register


def test_build_echoes_scope_and_config_with_a_synthetic_default(client_a):
    plain = create_build(client_a)
    assert plain["scope_key"] == f"build:{plain['id']}"
    assert plain["build_config"] is None and plain["is_resumed"] is False

    scoped = create_build(client_a, scope_key="code1:cfg1", build_config={"T": {"x": 1}},
                          executor_metadata={"hostname": "h"})
    assert (scoped["scope_key"], scoped["build_config"]) == ("code1:cfg1", {"T": {"x": 1}})
    assert client_a.get(f"/api/v1/builds/{scoped['id']}").json()["scope_key"] == "code1:cfg1"
    assert Build.objects.get(pk=scoped["id"]).executor_metadata == {"hostname": "h"}


def test_put_scope_moves_the_scope_and_refuses_another_config(client_a):
    build = create_build(client_a, scope_key="a:1", build_config={"T": {"x": 1}})
    moved = client_a.put(f"/api/v1/builds/{build['id']}/scope",
                         {"scope_key": "b:1", "build_config": {"T": {"x": 1}}}, format="json")
    assert moved.status_code == 200 and moved.json()["scope_key"] == "b:1"

    refused = client_a.put(f"/api/v1/builds/{build['id']}/scope",
                           {"scope_key": "c:1", "build_config": {"T": {"x": 2}}}, format="json")

    assert refused.status_code == 409
    detail = refused.json()["detail"]
    assert detail["error_code"] == "scope_mismatch" and detail["scope_key"] == "b:1"
    assert "build_config" in detail["message"]
    assert Build.objects.get(pk=build["id"]).scope_key == "b:1"


def test_resume_puts_a_failed_build_back_to_running(client_a):
    build = create_build(client_a)
    client_a.post(f"/api/v1/builds/{build['id']}/fail?error_message=boom")
    params = {"scope_key": "code:abc", "build_config": json.dumps({"T": {"x": 1}}),
              "executor_metadata": json.dumps({"pid": 1}), "commit_hash": "abc"}

    response = client_a.post(f"/api/v1/builds/{build['id']}/resume?"
                             + "&".join(f"{k}={v}" for k, v in params.items()))

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["is_resumed"], body["completed_at"]) == ("running", True, None)
    assert (body["scope_key"], body["build_config"]) == ("code:abc", {"T": {"x": 1}})
    types = list(Event.objects.filter(build_id=build["id"]).values_list("event_type", flat=True))
    assert types == ["build_started", "build_failed", "build_resumed"]
    client_a.post(f"/api/v1/builds/{build['id']}/complete")
    assert client_a.get(f"/api/v1/builds/{build['id']}").json()["status"] == "completed"


def test_resume_with_another_build_config_is_scope_mismatch(client_a):
    build = create_build(client_a, scope_key="a:1", build_config={"T": {"x": 1}})
    response = client_a.post(f"/api/v1/builds/{build['id']}/resume?scope_key=a:2&build_config="
                             + json.dumps({"T": {"x": 9}}))
    assert response.status_code == 409
    assert response.json()["detail"]["error_code"] == "scope_mismatch"
    assert Build.objects.get(pk=build["id"]).is_resumed is False


def test_resume_query_json_must_be_an_object(client_a):
    build = create_build(client_a)
    response = client_a.post(f"/api/v1/builds/{build['id']}/resume?executor_metadata=[1]")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "executor_metadata"]


def test_roots_are_appended_once(client_a):
    build = create_build(client_a, root_task_ids=["a"])
    client_a.post(f"/api/v1/builds/{build['id']}/roots", {"root_task_ids": ["b", "a", "b"]},
                  format="json")
    assert client_a.get(f"/api/v1/builds/{build['id']}").json()["root_task_ids"] == ["a", "b"]
    listed = client_a.get("/api/v1/builds?root_task_id=b").json()["builds"]
    assert [row["id"] for row in listed] == [build["id"]]


def test_cancel_with_cascade_cancels_the_running_tasks(client_a):
    build = create_build(client_a)
    register(client_a, build["id"], "run")
    register(client_a, build["id"], "done")
    lifecycle(client_a, build["id"], "run", "start")
    lifecycle(client_a, build["id"], "done", "start")
    lifecycle(client_a, build["id"], "done", "complete")

    body = client_a.post(f"/api/v1/builds/{build['id']}/cancel?cascade=true").json()

    assert body["status"] == "cancelled"
    assert (body["cascaded_task_ids"], body["cascaded_task_count"]) == (["run"], 1)
    rows = {row["task_id"]: row for row in
            client_a.get(f"/api/v1/builds/{build['id']}/tasks").json()}
    assert rows["run"]["status"] == "cancelled" and rows["done"]["status"] == "completed"
    plain = client_a.post(f"/api/v1/builds/{create_build(client_a)['id']}/cancel").json()
    assert "cascaded_task_ids" not in plain  # the 0.1.x answer is unchanged


def test_bulk_cancel_selects_running_builds_dry_run_first(client_a, client_b):
    running = create_build(client_a)
    register(client_a, running["id"], "t")
    lifecycle(client_a, running["id"], "t", "start")
    done = create_build(client_a)
    client_a.post(f"/api/v1/builds/{done['id']}/complete")
    foreign = create_build(client_b)
    body = {"build_ids": [running["id"], done["id"], foreign["id"]], "cascade": True,
            "dry_run": True}

    dry = client_a.post("/api/v1/builds/bulk-cancel", body, format="json").json()

    assert [row["build_id"] for row in dry["builds"]] == [running["id"]]
    assert dry["skipped"] == {done["id"]: "not_running (completed)",
                              foreign["id"]: "not_found"}
    assert Build.objects.get(pk=running["id"]).status == "running"

    applied = client_a.post("/api/v1/builds/bulk-cancel", {**body, "dry_run": False},
                            format="json").json()
    assert (applied["build_count"], applied["task_count"]) == (1, 1)
    assert applied["builds"][0]["cascaded_task_ids"] == ["t"]
    assert Build.objects.get(pk=running["id"]).status == "cancelled"
    assert Build.objects.get(pk=foreign["id"]).status == "running"


def test_bulk_cancel_by_idleness_and_needs_a_selector(client_a):
    idle = create_build(client_a)
    fresh = create_build(client_a)
    Event.objects.filter(build_id=idle["id"]).update(
        created_at=timezone.now() - datetime.timedelta(hours=2))
    body = client_a.post("/api/v1/builds/bulk-cancel", {"idle_for_seconds": 3600},
                         format="json").json()
    assert [row["build_id"] for row in body["builds"]] == [idle["id"]]
    assert Build.objects.get(pk=fresh["id"]).status == "running"
    assert client_a.post("/api/v1/builds/bulk-cancel", {}, format="json").status_code == 422


def test_list_filters_of_the_cli(client_a):
    idle = create_build(client_a)
    create_build(client_a)
    Event.objects.filter(build_id=idle["id"]).update(
        created_at=timezone.now() - datetime.timedelta(hours=2))
    listed = client_a.get("/api/v1/builds?status=running&idle_for_seconds=3600").json()
    assert [row["id"] for row in listed["builds"]] == [idle["id"]] and listed["total"] == 1
    assert client_a.get("/api/v1/builds?reactive_app_name=app").json()["total"] == 0
    assert client_a.get("/api/v1/builds?idle_for_seconds=5").status_code == 422


def test_list_and_detail_show_last_activity_and_the_failure_reason(client_a):
    build = create_build(client_a)
    register(client_a, build["id"], "t")
    client_a.post(f"/api/v1/builds/{build['id']}/fail?error_message=Task%20t%20failed")
    latest = Event.objects.filter(build_id=build["id"]).order_by("-created_at").first()

    detail = client_a.get(f"/api/v1/builds/{build['id']}").json()
    row = client_a.get("/api/v1/builds").json()["builds"][0]

    for body in (detail, row):
        assert body["latest_error_message"] == "Task t failed"
        assert body["last_activity_at"].startswith(latest.created_at.strftime("%Y-%m-%dT%H:%M"))
    client_a.post(f"/api/v1/builds/{build['id']}/resume")
    assert client_a.get(f"/api/v1/builds/{build['id']}").json()["latest_error_message"] is None
