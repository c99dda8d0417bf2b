"""The registry's list endpoints take a constant number of queries whatever the number of rows
(acceptance 3): pinned at 10 and at 1,000 rows with the same ceiling.
"""

from __future__ import annotations

import datetime
import itertools

import pytest
from django.utils import timezone

from builds.models import Build, Event
from stardag_site.ids import uuid7
from tasks.models import Task, TaskAsset, TaskDependency
from tests import factories

# Authentication costs at most 2 queries (API key lookup, last-used stamp); then each endpoint:
# builds = count + page + trigger users; build tasks = build + tasks; graph = build + tasks +
# edges; build events = build + events; task events = task + events.
AUTH = 2
MAX_QUERIES = {"builds": AUTH + 3, "build_tasks": AUTH + 2, "graph": AUTH + 3,
               "events": AUTH + 2, "task_events": AUTH + 2}


def big_build(tenant, n: int) -> Build:
    """A build with ``n`` tasks in a chain, three events per task, and one asset each."""
    env = tenant.environment
    now = timezone.now()
    build = Build.objects.create(environment=env, name="big-build-10", status="running",
                                 started_at=now)
    tasks = [Task(id=uuid7(), environment=env, task_id=f"t{i}", task_name="T",
                  task_data={"i": i}, status="completed", status_build=build, last_build=build,
                  asset_count=1, created_at=now + datetime.timedelta(microseconds=i))
             for i in range(n)]
    Task.objects.bulk_create(tasks)
    TaskDependency.objects.bulk_create([TaskDependency(dependency=a, dependent=b)
                                        for a, b in itertools.pairwise(tasks)])
    Event.objects.bulk_create([
        Event(id=uuid7(), build=build, task=task, event_type=kind,
              created_at=now + datetime.timedelta(milliseconds=3 * i + step))
        for i, task in enumerate(tasks)
        for step, kind in enumerate(["task_pending", "task_started", "task_completed"])
    ])
    TaskAsset.objects.bulk_create([TaskAsset(task=task, environment=env, asset_type="json",
                                             name="a", body={}) for task in tasks])
    return build


def many_builds(tenant, n: int) -> None:
    """``n`` builds, a third of them with a manual-override trigger by a distinct user."""
    users = [factories.make_user(external_id=f"sub-q{i}") for i in range(3)]
    now = timezone.now()
    Build.objects.bulk_create([
        Build(environment=tenant.environment, name=f"b-{i}", status="completed",
              started_at=now, completed_at=now, root_task_ids=[f"r{i}"],
              status_trigger=users[i % 3].external_id if i % 3 == 0 else None,
              created_at=now - datetime.timedelta(seconds=i))
        for i in range(n)
    ])


@pytest.mark.parametrize("n", [10, 1000])
def test_build_list_queries_are_bounded(client_a, tenant_a, n, django_assert_max_num_queries):
    many_builds(tenant_a, n)
    with django_assert_max_num_queries(MAX_QUERIES["builds"]):
        response = client_a.get("/api/v1/builds?page_size=100&status=completed,running")
    body = response.json()
    assert body["total"] == n and len(body["builds"]) == min(n, 100)
    assert body["builds"][0]["status_triggered_by_user"]["id"] == "sub-q0"


@pytest.mark.parametrize("n", [10, 1000])
def test_build_reads_are_bounded(client_a, tenant_a, n, django_assert_max_num_queries):
    build = big_build(tenant_a, n)
    with django_assert_max_num_queries(MAX_QUERIES["build_tasks"]):
        tasks = client_a.get(f"/api/v1/builds/{build.pk}/tasks").json()
    assert len(tasks) == n and tasks[-1]["asset_count"] == 1
    with django_assert_max_num_queries(MAX_QUERIES["graph"]):
        graph = client_a.get(f"/api/v1/builds/{build.pk}/graph").json()
    assert len(graph["nodes"]) == n and len(graph["edges"]) == n - 1
    with django_assert_max_num_queries(MAX_QUERIES["events"]):
        events = client_a.get(f"/api/v1/builds/{build.pk}/events").json()
    assert len(events) == 3 * n
    with django_assert_max_num_queries(MAX_QUERIES["task_events"]):
        task_events = client_a.get("/api/v1/tasks/t0/events").json()
    assert [e["event_type"] for e in task_events] == ["task_completed", "task_started",
                                                      "task_pending"]
