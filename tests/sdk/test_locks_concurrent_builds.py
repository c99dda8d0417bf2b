"""Acceptance 3: two concurrent builds of the released SDK, global locks on, overlapping DAGs.

Both builds run at the same time (two threads, each with its own event loop, registry client
and lock manager, so each has its own lock ``owner_id``) against the live server, with the
SDK's concurrent builder. Every task body appends its id to a run log; afterwards each task
must appear exactly once, whichever build ran it. Short shared tasks exercise the SDK's
release-then-complete window (closed by recording the completion at release); long shared
tasks make the other build wait on a held lock.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import stardag as sd
from stardag import AutoTask, TaskLoads
from stardag.build import BuildExitStatus, BuildSummary, GlobalLockConfig
from stardag.registry import APIRegistry
from stardag.registry._lock import RegistryGlobalConcurrencyLockManager

from locks.models import Lock
from tests.concurrency import run_threads
from tests.sdk.build_dags import all_tasks

pytestmark = pytest.mark.sdk

sd.auto_namespace(__name__)

RUN_LOG_ENV = "STARDAG_SITE_TEST_RUN_LOG"


class Work(AutoTask[str]):
    """A task that logs each execution of its body, sleeps ``seconds`` and saves its label."""

    salt: str
    label: str
    seconds: float
    deps: tuple[TaskLoads[str], ...]

    def requires(self) -> Any:
        return self.deps

    def run(self) -> None:
        with open(os.environ[RUN_LOG_ENV], "a") as log:  # one short line: an atomic append
            log.write(f"{self.id}\n")
        time.sleep(self.seconds)
        self.output().save(self.label)


def overlapping_dags(salt: str) -> tuple[Work, Work]:
    """Two roots sharing 12 of their 16 tasks: 8 short leaves, 2 long leaves, 2 joins."""

    def work(label: str, seconds: float = 0.0, *deps: Work) -> Work:
        return Work(salt=salt, label=label, seconds=seconds, deps=tuple(deps))

    short = [work(f"short-{n}") for n in range(8)]
    long_ = [work(f"long-{n}", 1.5) for n in range(2)]
    join_1 = work("join-1", 0.0, short[0], short[1], short[2], long_[0])
    join_2 = work("join-2", 0.2, short[3], short[4], short[5])
    only_a = work("only-a", 0.0, short[6], long_[1])
    only_b = work("only-b", 0.0, short[7], long_[1])
    root_a = work("root-a", 0.0, join_1, join_2, only_a, short[7])
    root_b = work("root-b", 0.0, join_1, join_2, only_b, short[6])
    return root_a, root_b


LOCK_CONFIG = GlobalLockConfig(
    enabled=True,
    lock_wait_timeout_seconds=120,
    lock_wait_initial_interval_seconds=0.1,
    lock_wait_max_interval_seconds=0.5,
    completion_retry_timeout_seconds=10,
    completion_retry_interval_seconds=0.1,
)


async def _build_with_global_locks(root: Any) -> BuildSummary:
    async with RegistryGlobalConcurrencyLockManager(config=LOCK_CONFIG) as manager:
        return await sd.build_aio(root, registry=APIRegistry(), global_lock_manager=manager,
                                  global_lock_config=LOCK_CONFIG)


def _run_concurrently(roots: tuple[Any, ...]) -> list[BuildSummary]:
    return run_threads(len(roots), lambda i: asyncio.run(_build_with_global_locks(roots[i])),
                       timeout=300)


def test_two_concurrent_builds_run_every_task_exactly_once(sdk_env, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch):
    run_log = tmp_path / "runs.log"
    run_log.touch()
    monkeypatch.setenv(RUN_LOG_ENV, str(run_log))
    roots = overlapping_dags("locks")
    tasks = all_tasks(*roots)
    assert len(tasks) == 16

    summaries = _run_concurrently(roots)

    runs = Counter(run_log.read_text().split())
    assert runs == dict.fromkeys(tasks, 1), "every task body must run exactly once"
    for summary in summaries:
        assert summary.status == BuildExitStatus.SUCCESS, summary.error
        assert sdk_env.get(f"/api/v1/builds/{summary.build_id}")["status"] == "completed"
    assert sum(summary.task_count.succeeded for summary in summaries) == len(tasks)

    # Every task was run under a lock, every lock was released, every task is completed.
    assert sdk_env.get("/api/v1/locks?include_expired=true") == {"locks": [], "count": 0}
    locks = Lock.objects.filter(environment=sdk_env.tenant.environment)
    assert set(locks.values_list("name", flat=True)) == set(tasks)
    assert not locks.filter(released_at__isnull=True).exists()
    for task_id in tasks:
        status = sdk_env.get(f"/api/v1/locks/tasks/{task_id}/completion-status")
        assert status == {"task_id": task_id, "is_completed": True}
    # The builds really contended: one waited on a lock the other held.
    waits = [event for summary in summaries
             for event in sdk_env.get(f"/api/v1/builds/{summary.build_id}/events")
             if event["event_type"] == "task_waiting_for_lock"]
    assert waits, "expected at least one build to wait for a lock held by the other"
