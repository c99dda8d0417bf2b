"""``stardag_site.db.prepared``'s row writers: exactly the rows asked for, in the statements
promised (one for an insert and an update together on PostgreSQL)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from builds.models import Event
from builds.services import build_create
from stardag_site.db.prepared import insert_row, insert_row_and_update_row, update_row
from stardag_site.ids import uuid7
from tasks.models import Task

pytestmark = pytest.mark.django_db


def _task(tenant) -> Task:
    return Task.objects.create(environment=tenant.environment, task_id="rw-1", task_name="T",
                               task_data={})


def _event_values(build, task, event_type: str) -> dict[str, object]:
    return {"id": uuid7(), "build_id": build.pk, "task_id": task.pk, "event_type": event_type,
            "created_at": timezone.now(), "error_message": None, "event_metadata": {"k": 1}}


def test_insert_and_update_in_one_call_write_both_rows(tenant_a):
    build = build_create(environment=tenant_a.environment)
    task = _task(tenant_a)
    values = _event_values(build, task, "task_started")
    with CaptureQueriesContext(connection) as captured:
        insert_row_and_update_row(Event, values, Task, task.pk,
                                  {"status": "running", "last_build_id": build.pk})
    statements = [q["sql"] for q in captured.captured_queries
                  if not q["sql"].upper().startswith(("BEGIN", "COMMIT", "SAVEPOINT",
                                                      "RELEASE"))]
    assert len(statements) == (1 if connection.vendor == "postgresql" else 2), statements
    event = Event.objects.get(pk=values["id"])
    assert (event.build_id, event.task_id, event.event_type, event.event_metadata) == (
        build.pk, task.pk, "task_started", {"k": 1})
    task.refresh_from_db()
    assert (task.status, task.last_build_id) == ("running", build.pk)


def test_the_update_touches_only_the_row_named(tenant_a):
    build = build_create(environment=tenant_a.environment)
    task = _task(tenant_a)
    other = Task.objects.create(environment=tenant_a.environment, task_id="rw-2",
                                task_name="T", task_data={})
    insert_row_and_update_row(Event, _event_values(build, task, "task_failed"), Task, task.pk,
                              {"status": "failed", "error_message": "boom"})
    other.refresh_from_db()
    assert (other.status, other.error_message) == ("pending", None)
    assert Event.objects.filter(task=other).count() == 0


def test_insert_row_counts_ignored_conflicts_and_update_row_counts_changes(tenant_a):
    build = build_create(environment=tenant_a.environment)
    task = _task(tenant_a)
    values = _event_values(build, task, "task_pending")
    assert insert_row(Event, values) == 1
    assert insert_row(Event, values, ignore_conflicts=True) == 0
    assert update_row(Task, task.pk, {"status": "completed"}) == 1
    assert update_row(Task, uuid7(), {"status": "completed"}) == 0
