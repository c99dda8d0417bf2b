"""Task status derivation (contract §5.2, §5.3) as pure folds over events.

Statuses are defined as folds over the event log in ``(created_at, id)`` order. The services
materialise them incrementally (one ``*_step`` per appended event, in the same transaction), and
the tests replay the full folds over the log to prove the stored columns equal the definition.
Nothing here touches the database. The build fold (§5.1) and the ``EventLike`` protocol the
folds read live in ``builds.status`` (tasks depend on builds, never the reverse).
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from builds.status import EventLike

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


# The events that change a per-build status; the others leave it as it is, so the status is the
# mapping of the latest of these (or ``pending``).
PER_BUILD_STATUS_EVENT_TYPES = frozenset(_PER_BUILD_STATUS_BY_EVENT)


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


# --- "latest_*" state of SDK ≥0.10 (SDK-WIRE §3.5 E-state) -------------------------------------

_LATEST_STATUS_BY_EVENT = {
    "task_pending": "pending",
    "task_started": "running",
    "task_resumed": "running",
    "task_suspended": "suspended",
    "task_failed": "failed",
    "task_cancelled": "cancelled",
    "task_skipped": "skipped",
}
EXECUTOR_FIELDS = ("executor", "executor_ref", "executor_metadata", "execution_id")


@dataclass(frozen=True)
class TaskLatest:
    status: str = "pending"
    status_at: datetime.datetime | None = None
    status_build_id: uuid.UUID | None = None
    executor: str | None = None
    executor_ref: str | None = None
    executor_metadata: dict[str, Any] | None = None
    execution_id: str | None = None


def task_latest_step(state: TaskLatest, event: EventLike) -> TaskLatest:
    """Apply one task event to the ``latest_*`` state.

    Like §5.3 "completed anywhere" is sticky and the rest is last-wins, but every status
    event counts: ``task_skipped`` shows ``skipped`` and ``task_pending`` (a first
    registration or a retry) shows ``pending``. A start records its executor fields.
    """
    kind = event.event_type
    if kind == "task_completed":
        return replace(state, status="completed", status_at=event.created_at,
                       status_build_id=event.build_id)
    status = _LATEST_STATUS_BY_EVENT.get(kind)
    if status is None or state.status == "completed":
        return state
    state = replace(state, status=status, status_at=event.created_at,
                    status_build_id=event.build_id)
    if kind == "task_started":
        metadata = event.event_metadata or {}
        executor: dict[str, Any] = {field: metadata.get(field) for field in EXECUTOR_FIELDS}
        state = replace(state, **executor)
    return state


def task_fold(events: Iterable[EventLike]) -> TaskState:
    """§5.3 over all events of a task across builds, oldest first."""
    state = TaskState()
    for event in events:
        state = task_fold_step(state, event)
    return state
