"""Status derivation (contract §5): the pure folds, and the materialised columns equal to the
fold replayed over the event log after random event sequences.
"""

from __future__ import annotations

import datetime
import random
import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from builds.models import Build, Event
from builds.services import build_create, build_event_record
from builds.status import BUILD_EVENT_TYPES, build_fold
from tasks.models import Task
from tasks.services import task_build_status_get, task_event_record, task_register
from tasks.status import TASK_EVENT_TYPES, task_build_status, task_fold
from tests.tasks.helpers import assert_task_matches_fold

T0 = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
B1, B2 = uuid.uuid4(), uuid.uuid4()


@dataclass
class E:
    event_type: str
    build_id: uuid.UUID = B1
    error_message: str | None = None
    event_metadata: dict[str, Any] | None = None
    created_at: datetime.datetime = T0


def seq(*events: E) -> list[E]:
    for index, event in enumerate(events):
        event.created_at = T0 + datetime.timedelta(seconds=index)
    return list(events)


def test_build_fold_last_event_wins_and_attribution():
    state = build_fold(seq(E("build_started"), E("task_failed"),
                           E("build_failed", event_metadata={"triggered_by_user_id": "u1"})))
    assert (state.status, state.trigger) == ("failed", "u1")
    assert state.started_at == T0 and state.completed_at == T0 + datetime.timedelta(seconds=2)
    state = build_fold(seq(E("build_started"), E("build_failed"), E("build_completed")))
    assert (state.status, state.trigger) == ("completed", None)
    state = build_fold(seq(E("build_started"),
                           E("build_exit_early", event_metadata={"triggered_by_user_id": "u"})))
    assert (state.status, state.trigger) == ("exit_early", None)
    assert build_fold([]).status == "pending"


def test_per_build_status_fold():
    assert task_build_status(["task_pending", "task_started", "task_suspended"]) == "suspended"
    assert task_build_status(["task_started", "task_referenced",
                              "task_waiting_for_lock"]) == "running"
    assert task_build_status(["task_referenced"]) == "pending"
    assert task_build_status(["task_completed", "task_started"]) == "running"


def test_global_completed_anywhere_is_sticky():
    state = task_fold(seq(E("task_started"), E("task_completed", build_id=B2),
                          E("task_started"), E("task_failed", error_message="x")))
    assert (state.status, state.status_build_id, state.error_message) == ("completed", B2, None)
    assert state.started_at == T0


def test_global_suspended_shows_running_and_failed_restarts():
    state = task_fold(seq(E("task_started"), E("task_suspended")))
    assert state.status == "running"
    state = task_fold(seq(E("task_started"), E("task_failed", error_message="boom"),
                          E("task_started", build_id=B2)))
    assert (state.status, state.status_build_id, state.error_message) == ("running", B2, "boom")
    assert state.started_at == T0  # first start ever


def test_global_waiting_for_lock_only_while_pending():
    assert task_fold(seq(E("task_pending"), E("task_waiting_for_lock"))).waiting_for_lock
    assert not task_fold(seq(E("task_waiting_for_lock"), E("task_started"))).waiting_for_lock
    assert not task_fold(seq(E("task_started"), E("task_waiting_for_lock"))).waiting_for_lock
    state = task_fold(seq(E("task_waiting_for_lock"), E("task_cancelled")))
    assert (state.status, state.waiting_for_lock) == ("cancelled", False)


# --- materialised == replayed fold ------------------------------------------------------------

TASK_TYPES = sorted(TASK_EVENT_TYPES)
BUILD_TYPES = sorted(BUILD_EVENT_TYPES)


def assert_materialised_equals_fold(builds: list[Build], tasks: list[Task]) -> None:
    for build in builds:
        build.refresh_from_db()
        events = Event.objects.filter(build=build, task__isnull=True).order_by("created_at", "id")
        state = build_fold(events)
        assert (build.status, build.started_at, build.completed_at, build.status_trigger) == (
            state.status, state.started_at, state.completed_at, state.trigger)
    for task in tasks:
        task.refresh_from_db()
        events = assert_task_matches_fold(task)
        assert [e.created_at for e in events] == sorted({e.created_at for e in events})


@pytest.mark.parametrize("seed", range(6))
def test_random_event_sequences_keep_materialised_status_equal_to_the_fold(tenant_a, seed):
    rng = random.Random(seed)
    env = tenant_a.environment
    builds = [build_create(environment=env) for _ in range(3)]
    tasks = [task_register(build=builds[0], payload={"task_id": f"t{i}", "task_name": "T",
                                                     "task_data": {}})
             for i in range(4)]
    per_build: dict[tuple[uuid.UUID, uuid.UUID], list[str]] = {}
    for _ in range(80):
        build = rng.choice(builds)
        if rng.random() < 0.15:
            build_event_record(build=build, event_type=rng.choice(BUILD_TYPES),
                               metadata={"triggered_by_user_id": "u"} if rng.random() < 0.5
                               else None)
            continue
        task = rng.choice(tasks)
        event_type = rng.choice(TASK_TYPES)
        task_event_record(build=build, task=task, event_type=event_type,
                          error_message=f"err {rng.random()}"
                          if event_type == "task_failed" else None)
        history = per_build.setdefault((build.pk, task.pk), ["task_pending"]
                                       if build is builds[0] else [])
        history.append(event_type)
        assert task_build_status_get(build=build, task=task) == task_build_status(history)
    assert_materialised_equals_fold(builds, tasks)
