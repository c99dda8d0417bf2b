"""The acquire's completion check sees a completion committed while it waited for the row.

A release with ``task_completed`` frees the row and records the completion in one transaction.
An acquire that queued on that row must answer ``already_completed`` once the release commits,
not grant the freed row (the task would run twice). On PostgreSQL the acquire is one call of
``stardag_lock_acquire`` (``locks.0004``), whose completion check must take a fresh snapshot
after the wait; these tests hold the release open in one real thread while another acquires.
"""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, transaction

from builds.models import Event
from locks.models import Lock
from locks.services import lock_acquire, lock_release
from tasks.services import task_event_record
from tests.concurrency import run_threads
from tests.locks.helpers import started_task

pytestmark = pytest.mark.django_db(transaction=True)


def _wait_until_a_backend_waits_for_a_lock(timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = "
                           "current_database() AND wait_event_type = 'Lock'")
            if cursor.fetchone()[0]:
                return
            time.sleep(0.01)
    raise AssertionError("the acquire never waited for the releasing transaction")


@pytest.mark.postgres
def test_acquire_queued_behind_a_completing_release_answers_already_completed(tenant_a):
    environment = tenant_a.environment
    started_task(environment, "race")
    held = lock_acquire(environment=environment, name="race", owner_id="holder")
    assert held.acquired
    release_written, acquire_waiting = threading.Event(), threading.Event()

    def work(index: int) -> str:
        if index == 0:  # the holder: release with completion, commit only once B waits
            with transaction.atomic():
                lock_release(environment=environment, name="race", owner_id="holder",
                             task_completed=True)
                release_written.set()
                assert acquire_waiting.wait(timeout=30)
            return "released"
        assert release_written.wait(timeout=30)
        waiter = threading.Thread(target=_signal_when_waiting, args=(acquire_waiting,))
        waiter.start()
        try:
            return lock_acquire(environment=environment, name="race", owner_id="next").status
        finally:
            waiter.join()

    assert run_threads(2, work, together=False) == ["released", "already_completed"]
    lock = Lock.objects.get(environment=environment, name="race")
    assert (lock.owner_id, lock.version, lock.released_at is not None) == ("holder", 0, True)
    assert Event.objects.filter(task__task_id="race", event_type="task_completed").count() == 1


def _signal_when_waiting(done: threading.Event) -> None:
    try:
        _wait_until_a_backend_waits_for_a_lock()
        done.set()
    finally:
        connection.close()


def test_a_grant_of_a_completed_task_is_undone_and_leaves_no_trace(tenant_a):
    """The free-row and new-name grants that the completion check then undoes."""
    environment = tenant_a.environment
    started_task(environment, "done")
    lock_acquire(environment=environment, name="done", owner_id="holder")
    lock_release(environment=environment, name="done", owner_id="holder", task_completed=True)
    before = Lock.objects.values_list("owner_id", "version", "released_at", "expires_at").get(
        environment=environment, name="done")

    assert lock_acquire(environment=environment, name="done", owner_id="next").status == (
        "already_completed")
    assert Lock.objects.values_list("owner_id", "version", "released_at", "expires_at").get(
        environment=environment, name="done") == before

    fresh_build, fresh = started_task(environment, "fresh")
    task_event_record(build=fresh_build, task=fresh, event_type="task_completed")
    assert lock_acquire(environment=environment, name="fresh", owner_id="next").status == (
        "already_completed")
    assert not Lock.objects.filter(environment=environment, name="fresh").exists()
