"""Status derivation (contract §5) as pure folds over events.

Statuses are defined as folds over the event log in ``(created_at, id)`` order. The services
materialise them incrementally (one ``*_step`` per appended event, in the same transaction), and
the tests replay the full folds over the log to prove the stored columns equal the definition.
Nothing here touches the database.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any, Protocol


class EventLike(Protocol):
    """What a fold reads from an event (``builds.models.Event`` satisfies it)."""

    event_type: str
    created_at: datetime.datetime
    build_id: uuid.UUID
    error_message: str | None
    event_metadata: dict[str, Any] | None


# --- §5.1 Build status ----------------------------------------------------------------------

BUILD_EVENT_TYPES = frozenset({
    "build_started", "build_completed", "build_failed", "build_cancelled", "build_exit_early",
})
_BUILD_STATUS_BY_EVENT = {
    "build_started": "running",
    "build_completed": "completed",
    "build_failed": "failed",
    "build_cancelled": "cancelled",
    "build_exit_early": "exit_early",
}
_ATTRIBUTED_BUILD_EVENTS = frozenset({"build_completed", "build_failed", "build_cancelled"})


@dataclass(frozen=True)
class BuildState:
    status: str = "pending"
    started_at: datetime.datetime | None = None
    completed_at: datetime.datetime | None = None
    trigger: str | None = None


def build_fold_step(state: BuildState, event: EventLike) -> BuildState:
    """Apply one build-level event; task events leave a build's status alone."""
    status = _BUILD_STATUS_BY_EVENT.get(event.event_type)
    if status is None:
        return state
    if event.event_type == "build_started":
        return replace(state, status=status, started_at=event.created_at, trigger=None)
    trigger = None
    if event.event_type in _ATTRIBUTED_BUILD_EVENTS and event.event_metadata:
        value = event.event_metadata.get("triggered_by_user_id")
        trigger = str(value) if value is not None else None
    return replace(state, status=status, completed_at=event.created_at, trigger=trigger)


def build_fold(events: Iterable[EventLike]) -> BuildState:
    """§5.1 over a build's events, oldest first."""
    state = BuildState()
    for event in events:
        state = build_fold_step(state, event)
    return state


# --- §5.2 Per-build task status ---------------------------------------------------------------

TASK_EVENT_TYPES = frozenset({
    "task_pending", "task_referenced", "task_started", "task_suspended", "task_resumed",
    "task_waiting_for_lock", "task_completed", "task_failed", "task_skipped", "task_cancelled",
})
_PER_BUILD_STATUS_BY_EVENT = {
    "task_pending": "pending",
    "task_started": "running",
    "task_suspended": "suspended",
    "task_resumed": "running",
    "task_completed": "completed",
    "task_failed": "failed",
    "task_skipped": "skipped",
    "task_cancelled": "cancelled",
}


def task_build_status_step(status: str, event_type: str) -> str:
    """``task_referenced`` and ``task_waiting_for_lock`` leave the status unchanged."""
    return _PER_BUILD_STATUS_BY_EVENT.get(event_type, status)


def task_build_status(event_types: Iterable[str]) -> str:
    """§5.2 over the events of one (build, task), oldest first."""
    status = "pending"
    for event_type in event_types:
        status = task_build_status_step(status, event_type)
    return status


# --- §5.3 Global task status --------------------------------------------------------------------


@dataclass(frozen=True)
class TaskState:
    status: str = "pending"
    started_at: datetime.datetime | None = None
    completed_at: datetime.datetime | None = None
    error_message: str | None = None
    status_build_id: uuid.UUID | None = None
    waiting_for_lock: bool = False


def task_fold_step(state: TaskState, event: EventLike) -> TaskState:
    """Apply one task event. "Completed anywhere" is sticky; everything else is last-wins."""
    kind, at, build_id = event.event_type, event.created_at, event.build_id
    if kind == "task_completed":
        return replace(state, status="completed", completed_at=at, status_build_id=build_id,
                       waiting_for_lock=False, error_message=None)
    if kind == "task_waiting_for_lock":
        return replace(state, waiting_for_lock=True) if state.status == "pending" else state
    if state.status == "completed":
        return state
    if kind == "task_started":
        return replace(state, status="running", status_build_id=build_id,
                       started_at=state.started_at or at, waiting_for_lock=False)
    if kind == "task_resumed":
        return replace(state, status="running", status_build_id=build_id, waiting_for_lock=False)
    if kind == "task_failed":
        return replace(state, status="failed", completed_at=at, error_message=event.error_message,
                       status_build_id=build_id, waiting_for_lock=False)
    if kind == "task_cancelled":
        return replace(state, status="cancelled", completed_at=at, status_build_id=build_id,
                       waiting_for_lock=False)
    return state  # task_pending, task_referenced, task_suspended, task_skipped


def task_fold(events: Iterable[EventLike]) -> TaskState:
    """§5.3 over all events of a task across builds, oldest first."""
    state = TaskState()
    for event in events:
        state = task_fold_step(state, event)
    return state
