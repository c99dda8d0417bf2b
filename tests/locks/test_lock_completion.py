"""Completion: ``already_completed`` on acquire, completion-status, and release with
``task_completed`` recording the completion in the same transaction (§6.2 step 1, §6.4)."""

from __future__ import annotations

import uuid

from builds.models import Event
from builds.services import build_create
from locks.models import Lock
from tasks.models import Task
from tasks.services import task_event_record, task_register
from tests.locks.helpers import lock_url, started_task

ALREADY = {"status": "already_completed", "acquired": False, "lock": None,
           "error_message": None}


def _completions(task: Task) -> list[tuple[str, uuid.UUID]]:
    return list(Event.objects.filter(task=task, event_type="task_completed")
                .order_by("created_at", "id").values_list("event_type", "build_id"))


def _status(client, task_id: str) -> dict:
    return client.get(f"/api/v1/locks/tasks/{task_id}/completion-status").json()


def test_completed_task_answers_already_completed_and_leaves_the_lock(client_a, tenant_a):
    build, task = started_task(tenant_a.environment, "t1")
    client_a.post(lock_url("t1", "acquire"), {"owner_id": "holder"}, format="json")
    assert _status(client_a, "t1") == {"task_id": "t1", "is_completed": False}
    task_event_record(build=build, task=task, event_type="task_completed")
    assert _status(client_a, "t1") == {"task_id": "t1", "is_completed": True}

    response = client_a.post(lock_url("t1", "acquire"), {"owner_id": "other"}, format="json")
    assert (response.status_code, response.json()) == (200, ALREADY)
    lock = Lock.objects.get(name="t1")
    assert (lock.owner_id, lock.version) == ("holder", 0)  # untouched, even though held


def test_check_task_completion_false_ignores_completion(client_a, tenant_a):
    build, task = started_task(tenant_a.environment, "t1")
    task_event_record(build=build, task=task, event_type="task_completed")
    response = client_a.post(lock_url("t1", "acquire"),
                             {"owner_id": "o", "check_task_completion": False}, format="json")
    assert response.json()["status"] == "acquired"


def test_a_later_failure_does_not_undo_completion(client_a, tenant_a):
    build, task = started_task(tenant_a.environment, "t1")
    task_event_record(build=build, task=task, event_type="task_completed")
    task_event_record(build=build_create(environment=tenant_a.environment), task=task,
                      event_type="task_failed", error_message="boom")
    assert _status(client_a, "t1")["is_completed"] is True


def test_release_with_completion_records_it_in_the_latest_starting_build(client_a, tenant_a):
    first_build, task = started_task(tenant_a.environment, "t1")
    second_build, _ = started_task(tenant_a.environment, "t1")
    client_a.post(lock_url("t1", "acquire"), {"owner_id": "o", "check_task_completion": False},
                  format="json")
    response = client_a.post(lock_url("t1", "release"),
                             {"owner_id": "o", "task_completed": True}, format="json")
    assert (response.status_code, response.json()) == (200, {"released": True})
    assert _completions(task) == [("task_completed", second_build.pk)]
    task.refresh_from_db()
    assert (task.status, task.status_build_id) == ("completed", second_build.pk)
    # A second build now finds the task completed instead of running it again.
    again = client_a.post(lock_url("t1", "acquire"), {"owner_id": "second"}, format="json")
    assert again.json() == ALREADY
    assert first_build.pk != second_build.pk


def test_release_with_completion_and_build_id_records_it_in_that_build(client_a, tenant_a):
    started_build, task = started_task(tenant_a.environment, "t1")
    other_build = build_create(environment=tenant_a.environment)
    client_a.post(lock_url("t1", "acquire"), {"owner_id": "o"}, format="json")
    response = client_a.post(lock_url("t1", "release"), {
        "owner_id": "o", "task_completed": True, "build_id": str(other_build.pk)}, format="json")
    assert response.json() == {"released": True}
    assert _completions(task) == [("task_completed", other_build.pk)]
    assert started_build.pk != other_build.pk


def test_release_with_a_foreign_or_unknown_build_id_is_404_and_changes_nothing(
        client_a, tenant_a, tenant_b):
    _, task = started_task(tenant_a.environment, "t1")
    foreign = build_create(environment=tenant_b.environment)
    client_a.post(lock_url("t1", "acquire"), {"owner_id": "o"}, format="json")
    for build_id in (foreign.pk, uuid.uuid4()):
        response = client_a.post(lock_url("t1", "release"), {
            "owner_id": "o", "task_completed": True, "build_id": str(build_id)}, format="json")
        assert response.status_code == 404
        assert response.json() == {"detail": "Build not found"}
    assert Lock.objects.get(name="t1").released_at is None
    assert _completions(task) == []
    # Without task_completed the build_id is irrelevant.
    plain = client_a.post(lock_url("t1", "release"),
                          {"owner_id": "o", "build_id": str(foreign.pk)}, format="json")
    assert plain.json() == {"released": True}


def test_release_with_completion_of_an_unknown_or_unstarted_task_records_nothing(
        client_a, tenant_a):
    build = build_create(environment=tenant_a.environment)
    unstarted = task_register(build=build, payload={"task_id": "pending", "task_name": "W"})
    for name in ("never-registered", "pending"):
        client_a.post(lock_url(name, "acquire"), {"owner_id": "o"}, format="json")
        response = client_a.post(lock_url(name, "release"),
                                 {"owner_id": "o", "task_completed": True}, format="json")
        assert response.json() == {"released": True}
    assert _completions(unstarted) == []
    assert not Event.objects.filter(event_type="task_completed").exists()


def test_failed_release_records_no_completion(client_a, tenant_a):
    _, task = started_task(tenant_a.environment, "t1")
    client_a.post(lock_url("t1", "acquire"), {"owner_id": "holder"}, format="json")
    response = client_a.post(lock_url("t1", "release"),
                             {"owner_id": "intruder", "task_completed": True}, format="json")
    assert response.status_code == 409
    assert _completions(task) == []


def test_release_without_completion_records_nothing(client_a, tenant_a):
    _, task = started_task(tenant_a.environment, "t1")
    client_a.post(lock_url("t1", "acquire"), {"owner_id": "o"}, format="json")
    client_a.post(lock_url("t1", "release"), {"owner_id": "o"}, format="json")
    assert _completions(task) == []
    assert client_a.post(lock_url("t1", "acquire"), {"owner_id": "p"},
                         format="json").json()["status"] == "acquired"
