"""The registry admin: read-only builds, tasks and events, with status, a bounded events inline,
dependencies, assets, and search by name, task id and commit.
"""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from builds.admin import INLINE_EVENT_LIMIT
from builds.models import Event
from stardag_site.ids import uuid7
from tasks.models import Task
from tests.builds.helpers import create_build, lifecycle, register


@pytest.fixture
def registry(client_a):
    build = create_build(client_a, commit_hash="feedbee", root_task_ids=["root-xyz"])
    register(client_a, build["id"], "dep-task")
    register(client_a, build["id"], "main-task", "dep-task", name="Train")
    lifecycle(client_a, build["id"], "main-task", "start")
    client_a.post(f"/api/v1/builds/{build['id']}/tasks/main-task/assets",
                  [{"type": "markdown", "name": "report-md", "body": {"content": "# hi"}}],
                  format="json")
    return build


def test_build_admin_lists_searches_and_is_read_only(admin_client, registry):
    listing = admin_client.get("/admin/builds/build/")
    assert listing.status_code == 200 and registry["name"] in listing.content.decode()
    for term in (registry["name"], "feedbee", "root-xyz"):
        found = admin_client.get("/admin/builds/build/", {"q": term}).content.decode()
        assert registry["name"] in found, term
    no_match = admin_client.get("/admin/builds/build/", {"q": "nomatch"}).content.decode()
    assert registry["name"] not in no_match
    page = admin_client.get(f"/admin/builds/build/{registry['id']}/change/")
    body = page.content.decode()
    assert page.status_code == 200
    assert "Running" in body and "Task Started" in body and "All events of this build" in body
    assert 'name="_save"' not in body  # view only
    assert admin_client.get("/admin/builds/build/add/").status_code == 403
    assert admin_client.post(f"/admin/builds/build/{registry['id']}/delete/").status_code == 403


def test_events_inline_is_bounded_for_big_builds(admin_client, registry):
    now = timezone.now()
    Event.objects.bulk_create([
        Event(id=uuid7(), build_id=registry["id"], event_type="build_started",
              created_at=now + datetime.timedelta(seconds=i), error_message=f"marker-{i}")
        for i in range(INLINE_EVENT_LIMIT + 50)
    ])
    body = admin_client.get(f"/admin/builds/build/{registry['id']}/change/").content.decode()
    shown = sum(f"marker-{i}<" in body for i in range(INLINE_EVENT_LIMIT + 50))
    assert shown == INLINE_EVENT_LIMIT
    assert f"marker-{INLINE_EVENT_LIMIT + 49}<" in body  # newest first
    events = admin_client.get("/admin/builds/event/", {"build__id__exact": registry["id"]})
    assert events.status_code == 200


def test_task_admin_shows_status_dependencies_assets_and_searches(admin_client, registry):
    task = Task.objects.get(task_id="main-task")
    for term in ("main-task", "Train"):
        found = admin_client.get("/admin/tasks/task/", {"q": term}).content.decode()
        assert "main-task" in found, term
    page = admin_client.get(f"/admin/tasks/task/{task.pk}/change/")
    body = page.content.decode()
    assert page.status_code == 200
    assert "Running" in body and "report-md" in body and "dep-task" in body
    assert "Task Started" in body
    assert admin_client.get("/admin/tasks/task/add/").status_code == 403
