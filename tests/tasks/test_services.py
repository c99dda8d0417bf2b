"""The service API other apps call: registration, events and the materialised status."""

from __future__ import annotations

import pytest

from builds.models import Event
from builds.services import build_create, build_event_record
from tasks.models import Task, TaskDependency
from tasks.services import (
    task_assets_upsert,
    task_build_status_get,
    task_event_record,
    task_register,
)


def _payload(task_id: str, *deps: str) -> dict:
    return {"task_id": task_id, "task_name": "Add", "task_namespace": "math",
            "task_data": {"a": 1}, "version": "1", "output_uri": None,
            "dependency_task_ids": list(deps)}


@pytest.fixture
def build(tenant_a):
    return build_create(environment=tenant_a.environment, commit_hash="abc123",
                        root_task_ids=["t2"])


def test_build_create_starts_running_with_generated_name(build):
    assert build.status == "running"
    assert build.started_at is not None and build.completed_at is None
    adjective, noun, number = build.name.split("-")
    assert adjective and noun and 10 <= int(number) <= 99
    assert list(build.events.values_list("event_type", flat=True)) == ["build_started"]
    assert list(build.root_tasks.values_list("task_id", flat=True)) == ["t2"]


def test_build_events_fold_last_wins_with_attribution(build):
    build_event_record(build=build, event_type="build_failed", error_message="boom")
    assert build.status == "failed"
    updated = build_event_record(build=build, event_type="build_completed",
                                 metadata={"triggered_by_user_id": "alice-sub"})
    assert (updated.status, updated.status_trigger) == ("completed", "alice-sub")
    assert updated.completed_at > updated.started_at
    with pytest.raises(ValueError):
        build_event_record(build=build, event_type="task_started")


def test_register_new_then_existing_task(build, tenant_a):
    first = task_register(build=build, payload=_payload("t1"))
    second_build = build_create(environment=tenant_a.environment)
    again = task_register(build=second_build, payload={**_payload("t1"), "task_name": "Other"})
    assert again.pk == first.pk and again.task_name == "Add"
    kinds = list(Event.objects.filter(task=first).order_by("created_at", "id")
                 .values_list("event_type", "build_id"))
    assert kinds == [("task_pending", build.pk), ("task_referenced", second_build.pk)]
    assert Task.objects.get(pk=first.pk).last_build_id == second_build.pk


def test_register_creates_edges_for_known_dependencies_only(build):
    dep = task_register(build=build, payload=_payload("t1"))
    task = task_register(build=build, payload=_payload("t2", "t1", "unknown", "t2"))
    task_register(build=build, payload=_payload("t2", "t1"))
    assert list(TaskDependency.objects.values_list("dependency_id", "dependent_id")) == [
        (dep.pk, task.pk)
    ]


def test_event_record_materialises_global_and_per_build_status(build, tenant_a):
    task = task_register(build=build, payload=_payload("t1"))
    task_event_record(build=build, task=task, event_type="task_started")
    task_event_record(build=build, task=task, event_type="task_suspended")
    stored = Task.objects.get(pk=task.pk)
    assert stored.status == "running" and stored.status_build_id == build.pk
    assert task_build_status_get(build=build, task=task) == "suspended"
    other = build_create(environment=tenant_a.environment)
    task_event_record(build=other, task=task, event_type="task_failed", error_message="x")
    task_event_record(build=build, task=task, event_type="task_completed")
    stored.refresh_from_db()
    assert (stored.status, stored.error_message, stored.status_build_id) == (
        "completed", None, build.pk)
    assert stored.last_build_id == build.pk
    assert task_build_status_get(build=other, task=task) == "failed"


def test_assets_upsert_keeps_identity_and_counts(build):
    task = task_register(build=build, payload=_payload("t1"))
    first = task_assets_upsert(task=task, items=[
        {"type": "markdown", "name": "report", "body": {"content": "# v1"}},
        {"type": "json", "name": "report", "body": {"v": 1}},
    ])
    second = task_assets_upsert(task=task, items=[
        {"type": "markdown", "name": "report", "body": {"content": "# v2"}},
    ])
    assert second[0].pk == first[0].pk and second[0].body == {"content": "# v2"}
    assert Task.objects.get(pk=task.pk).asset_count == 2
