"""Race safety on PostgreSQL (acceptance 2): many builds registering the same new tasks at the
same moment, and many builds appending events to the same tasks, each thread on its own
connection.
"""

from __future__ import annotations

import random
from collections import Counter

import pytest

from builds.models import Build, Event
from tasks.models import Task, TaskDependency
from tests.builds.helpers import create_build, task_body
from tests.concurrency import run_threads
from tests.tasks.helpers import assert_task_matches_fold

THREADS = 16
TASKS = 50

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def dependencies_of(index: int) -> list[str]:
    """A small DAG: each task needs the previous one, and every fifth also needs task 0."""
    deps = [f"task-{index - 1}"] if index else []
    if index > 1 and index % 5 == 0:
        deps.append("task-0")
    return deps


def test_concurrent_registration_of_the_same_new_tasks(tenant_a):
    setup_client = tenant_a.key_client()
    build_ids = [create_build(setup_client)["id"] for _ in range(THREADS)]

    def register_all(index: int) -> list[int]:
        client = tenant_a.key_client()
        statuses = []
        for task_index in range(TASKS):
            body = task_body(f"task-{task_index}", *dependencies_of(task_index))
            response = client.post(f"/api/v1/builds/{build_ids[index]}/tasks", body,
                                   format="json")
            statuses.append(response.status_code)
        return statuses

    results = run_threads(THREADS, register_all)

    assert all(code == 201 for statuses in results for code in statuses)
    assert Task.objects.filter(environment=tenant_a.environment).count() == TASKS
    per_task = Counter(Event.objects.filter(task__isnull=False)
                       .values_list("task__task_id", "event_type"))
    for task_index in range(TASKS):
        task_id = f"task-{task_index}"
        assert per_task[(task_id, "task_pending")] == 1, task_id
        assert per_task[(task_id, "task_referenced")] == THREADS - 1, task_id
    for build_id in build_ids:
        assert Event.objects.filter(build_id=build_id, task__isnull=False).count() == TASKS
    by_pk = dict(Task.objects.values_list("pk", "task_id"))
    edges = {(by_pk[a], by_pk[b])
             for a, b in TaskDependency.objects.values_list("dependency_id", "dependent_id")}
    expected = {(dep, f"task-{i}") for i in range(TASKS) for dep in dependencies_of(i)}
    assert edges == expected and TaskDependency.objects.count() == len(expected)


def test_concurrent_events_keep_the_materialised_status_equal_to_the_fold(tenant_a):
    setup_client = tenant_a.key_client()
    build_ids = [create_build(setup_client)["id"] for _ in range(8)]
    for task_index in range(5):
        setup_client.post(f"/api/v1/builds/{build_ids[0]}/tasks", task_body(f"t{task_index}"),
                          format="json")
    actions = ["start", "complete", "fail", "suspend", "resume", "cancel", "waiting-for-lock"]

    def fire(index: int) -> list[int]:
        rng = random.Random(index)
        client = tenant_a.key_client()
        codes = []
        for _ in range(25):
            url = (f"/api/v1/builds/{build_ids[index]}/tasks/t{rng.randrange(5)}/"
                   f"{rng.choice(actions)}")
            codes.append(client.post(url).status_code)
        return codes

    results = run_threads(len(build_ids), fire)

    assert all(code == 200 for codes in results for code in codes)
    for task in Task.objects.all():
        assert_task_matches_fold(task)
    assert Build.objects.count() == len(build_ids)
