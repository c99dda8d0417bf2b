"""Running test work in real threads, for the race-safety tests."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from django.db import connections

T = TypeVar("T")


def run_threads(count: int, work: Callable[[int], T], *, together: bool = True,
                timeout: float = 120) -> list[T]:
    """``work(i)`` for each ``i < count``, each in its own thread; the results in index order.

    With ``together`` the threads wait at a barrier first, so that their work overlaps as much
    as it can. Django opens a database connection per thread, so each thread closes its own
    when done. An exception in any thread fails the test here, in the test's thread.
    """
    barrier = threading.Barrier(count) if together else None
    results: list[T] = [None] * count  # type: ignore[list-item]
    errors: list[BaseException] = []

    def target(index: int) -> None:
        try:
            if barrier is not None:
                barrier.wait(timeout=30)
            results[index] = work(index)
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    assert not errors, errors[:3]
    return results
