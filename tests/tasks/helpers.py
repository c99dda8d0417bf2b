"""Assertions shared by the task-status tests."""

from __future__ import annotations

from builds.models import Event
from tasks.models import Task
from tasks.status import task_fold


def assert_task_matches_fold(task: Task) -> list[Event]:
    """The task's materialised global-status columns equal the §5.3 fold of its events (oldest
    first), which are returned for further checks."""
    events = list(Event.objects.filter(task=task).order_by("created_at", "id"))
    state = task_fold(events)
    assert (task.status, task.started_at, task.completed_at, task.error_message,
            task.status_build_id, task.waiting_for_lock) == (
        state.status, state.started_at, state.completed_at, state.error_message,
        state.status_build_id, state.waiting_for_lock)
    assert task.last_build_id == (events[-1].build_id if events else None)
    return events
