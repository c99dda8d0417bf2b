"""The CLI read and operator commands of releases 0.20.1 and 0.26.0 against the live server
(0.2.x and 0.10.x have no ``builds``/``tasks`` commands).

The rows printed come from builds the same release recorded just before, so the output is
checked against the server's own data: build ids, names, statuses, task ids.
"""

from __future__ import annotations

import datetime
import json

import pytest
from django.utils import timezone

from builds.models import Event
from tests.sdk_releases.conftest import LAUNCHER, ReleaseRun

pytestmark = [pytest.mark.sdk, pytest.mark.sdk_releases]
CLI_RELEASES = ["0.20.1", "0.26.0"]


def running_build_with_a_started_task(run: ReleaseRun, task_id: str) -> str:
    client = run.tenant.key_client()
    build = client.post("/api/v1/builds", {"root_task_ids": [task_id]}, format="json").json()
    body = {"task_id": task_id, "task_name": "Stuck", "task_data": {}}
    assert client.post(f"/api/v1/builds/{build['id']}/tasks", body,
                       format="json").status_code == 201
    assert client.post(f"/api/v1/builds/{build['id']}/tasks/{task_id}/start").status_code == 200
    return build["id"]


@pytest.mark.parametrize("release", CLI_RELEASES, indirect=True)
def test_builds_list_show_and_tasks_list_print_the_recorded_rows(release: ReleaseRun):
    result = release.build("report", f"cli-{release.version}")
    assert result["status"] == "success", result["log"]
    build = release.get(f"/api/v1/builds/{result['build_id']}")

    listing = release.cli("builds", "list")
    assert "1 total" in listing
    row = next(line for line in listing.splitlines() if build["id"] in line)
    assert build["name"] in row and "completed" in row

    shown = release.cli("builds", "show", build["id"])
    assert build["name"] in shown and "completed" in shown and "feedc0de" in shown
    assert result["root"] in shown  # the root task table

    tasks = release.cli("tasks", "list", "--status", "completed", "--limit", "100")
    assert "9 total" in tasks or "(9" in tasks or tasks.count("completed") >= 9, tasks
    for task_id in result["tasks"].values():
        assert task_id in tasks
    as_json = json.loads(release.cli("tasks", "list", "--name", "Report", "--json"))
    assert [(t["task_id"], t["latest_status"]) for t in as_json["tasks"]] == [
        (result["root"], "completed")]
    assert json.loads(release.cli("tasks", "list", "--status", "failed", "--json"))[
        "tasks"] == []

    frontier = release.cli("builds", "frontier", build["id"], "--json")
    body = json.loads(frontier)
    assert body["build_status"] == "completed"
    assert body["status_counts"] == {"completed": 9} and body["actionable"] == []


@pytest.mark.parametrize("release", CLI_RELEASES, indirect=True)
def test_concurrency_limits_and_build_cancel_and_cleanup(release: ReleaseRun):
    release.cli("concurrency-limits", "set", "gpu", "2")
    listing = release.cli("concurrency-limits", "list")
    assert any("gpu" in line and "2" in line for line in listing.splitlines()), listing
    release.cli("concurrency-limits", "delete", "gpu", "--yes")
    assert "No concurrency limits" in release.cli("concurrency-limits", "list")

    stuck = running_build_with_a_started_task(release, "stuck-1")
    if release.version == "0.20.1":
        release.cli("builds", "cancel", stuck, "--cascade", "--yes")
        assert release.get(f"/api/v1/builds/{stuck}/tasks")[0]["latest_status"] == "cancelled"
    else:  # 0.26 removed --cascade from the CLI
        release.cli("builds", "cancel", stuck, "--yes")
    assert release.get(f"/api/v1/builds/{stuck}")["status"] == "cancelled"

    idle = running_build_with_a_started_task(release, "stuck-2")
    Event.objects.filter(build_id=idle).update(
        created_at=timezone.now() - datetime.timedelta(hours=2))
    fresh = running_build_with_a_started_task(release, "busy")
    completed = release.run([release.python, "-c", LAUNCHER, "builds", "list", "--status",
                             "running", "--older-than", "1h"])
    assert idle in completed.stdout and fresh not in completed.stdout
    assert "does not support" not in completed.stderr, completed.stderr
    dry = release.cli("builds", "cleanup", "--build-id", idle)
    assert idle in dry and release.get(f"/api/v1/builds/{idle}")["status"] == "running"
    release.cli("builds", "cleanup", "--build-id", idle, "--apply", "--yes")
    assert release.get(f"/api/v1/builds/{idle}")["status"] == "cancelled"
