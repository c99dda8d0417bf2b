"""SQLite keeps the lock semantics on one machine because every write transaction starts with
``BEGIN IMMEDIATE`` (settings), i.e. takes the database write lock before reading the lease."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from locks.services import lock_acquire, lock_release, lock_renew


@pytest.mark.django_db(transaction=True)
def test_lock_transactions_take_the_sqlite_write_lock_up_front(tenant_a):
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only; PostgreSQL uses row locks (test_lock_contention)")
    assert connection.transaction_mode == "IMMEDIATE"
    with CaptureQueriesContext(connection) as queries:
        lock_acquire(environment=tenant_a.environment, name="t", owner_id="o")
        lock_renew(environment=tenant_a.environment, name="t", owner_id="o")
        lock_release(environment=tenant_a.environment, name="t", owner_id="o")
    begins = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("BEGIN")]
    # acquire and renew; a plain release is one conditional UPDATE in autocommit, atomic on its
    # own (no read precedes its write), so it needs no transaction
    assert begins == ["BEGIN IMMEDIATE"] * 2
    releases = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
    assert len(releases) == 2 and "IS NULL" in releases[-1]
