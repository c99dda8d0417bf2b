"""Build status derivation (contract §5.1) as a pure fold over events.

The build's status is defined as a fold over its build-level events in ``(created_at, id)``
order. ``builds.services`` materialises it incrementally (one ``build_fold_step`` per appended
event, in the same transaction), and the tests replay ``build_fold`` over the log to prove the
stored columns equal the definition. Nothing here touches the database. The task folds (§5.2,
§5.3) live in ``tasks.status`` and read events through the same ``EventLike`` protocol.
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


BUILD_EVENT_TYPES = frozenset({
    "build_started", "build_completed", "build_failed", "build_cancelled", "build_exit_early",
    "build_resumed",
})
_BUILD_STATUS_BY_EVENT = {
    "build_started": "running",
    "build_completed": "completed",
    "build_failed": "failed",
    "build_cancelled": "cancelled",
    "build_exit_early": "exit_early",
    "build_resumed": "running",
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
    if event.event_type == "build_resumed":
        # SDK ≥0.10 resume (SDK-WIRE §3.4 N5): a terminal build runs again until its next
        # terminal event.
        return replace(state, status=status, completed_at=None, trigger=None)
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
