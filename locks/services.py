"""Lock business rules (contract §6): acquire, renew, release, completion check, force-release.

Atomicity (PostgreSQL, READ COMMITTED: every statement reads the latest committed data, and an
UPDATE that waited for a row lock re-checks its WHERE clause on the row it then sees):

* Renew, release and the grant of an existing row are single conditional UPDATEs
  (``... WHERE owner_id = me`` / ``WHERE released OR expired OR owner_id = me``), so two callers
  can never both win a row: the second waits for the first's commit, re-checks, matches nothing.
  Losers of a grant hold no row lock, so a release never queues behind a crowd of refusals.
* The first acquire of a name inserts inside a savepoint; a loser of that race gets
  ``IntegrityError`` from the unique (environment, name) constraint and decides again against
  the winner's committed row — exactly one grant, never a 500.
* With a cap, acquires first take ``SELECT ... FOR NO KEY UPDATE`` on the environment row, which
  serialises count-then-grant for the whole environment (NO KEY so that inserts of builds, tasks
  or locks referencing the environment, which take KEY SHARE, are not blocked); the name's row is
  then locked with ``SELECT ... FOR UPDATE``. Lock order is always environment, then lock row.
* Refusals of a lease that is plainly held are answered from one read, outside any transaction
  (see ``_refuse_early_if_held``).
* On PostgreSQL the uncapped fast path (grant or plain refusal) is one statement: a call of the
  ``stardag_lock_acquire`` function (migrations ``locks.0004``, ``0005``), which runs the
  same upsert, completion check and read with the same snapshots, without four round trips.

On SQLite ``select_for_update`` is a no-op, but the settings open every transaction with
``BEGIN IMMEDIATE``, which takes the database write lock up front: each service call runs alone,
with the same semantics, on a single machine.

Completion. The completion check runs *after* the grant has taken the row (and the grant is
rolled back if the task turns out completed). A release with ``task_completed`` records the
``task_completed`` event in the same transaction that frees the row, so an acquire that gets the
freed row also sees the completion and answers ``already_completed`` instead of running the
task twice (the SDK reports completion only after releasing; this closes that window).

Fencing token: see ``locks.models`` — releases keep a tombstone so ``version`` never repeats.
"""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, F, Q, QuerySet, Value
from django.utils import timezone

from audit.services import audit_record
from builds.models import Build, Event, EventType
from locks.models import ConcurrencyLimit, Lock
from stardag_site import metrics
from stardag_site.db.lookups import UnindexedExact
from stardag_site.db.prepared import PreparedQuery, prepared_cursor
from tasks.models import Task
from tasks.services import task_event_record
from workspaces.models import Environment

MIN_TTL_SECONDS = 1
MAX_TTL_SECONDS = 86_400
DEFAULT_TTL_SECONDS = 60


class LockError(Exception):
    """Base class of the lock domain's refusals."""


class LockHeld(LockError):
    """The name is leased to another owner and the lease has not expired (HTTP 423)."""


class ConcurrencyLimitReached(LockError):
    """The environment already has ``limit`` active locks (HTTP 429)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"Environment concurrency limit reached ({limit})")
        self.limit = limit


class LockNotOwned(LockError):
    """No unreleased row for the name is owned by the caller (HTTP 409)."""


class BuildNotFound(LockError):
    """``build_id`` of a completing release is not a build of the environment (HTTP 404)."""


@dataclass(frozen=True)
class AcquireResult:
    status: Literal["acquired", "already_completed"]
    lock: Lock | None

    @property
    def acquired(self) -> bool:
        return self.status == "acquired"


def _check_ttl(ttl_seconds: int) -> timedelta:
    if not MIN_TTL_SECONDS <= ttl_seconds <= MAX_TTL_SECONDS:
        raise ValueError(f"ttl_seconds must be within {MIN_TTL_SECONDS}..{MAX_TTL_SECONDS}")
    return timedelta(seconds=ttl_seconds)


def lock_task_is_completed(*, environment: Environment, task_id: str) -> bool:
    """True iff the task named ``task_id`` has at least one ``task_completed`` event in any build
    of the environment (§4.13). An unknown task is simply not completed."""
    return _COMPLETED.exists(environment_id=environment.pk, task_id=task_id)


def _completion_events(environment_id: Any, task_id: str) -> QuerySet[Event]:
    """The ``task_completed`` events of the environment's task named ``task_id`` (§4.13). The
    task is found by its key as ``TaskQuerySet.by_key`` finds it (its unique index, whatever the
    statistics say)."""
    return Event.objects.filter(UnindexedExact(F("task__environment_id"), environment_id),
                                task__task_id=task_id, event_type=EventType.TASK_COMPLETED)


# Compiled once per thread: asked by most acquires (the SDK checks completion by default).
_COMPLETED = PreparedQuery(
    lambda environment_id, task_id: (
        _completion_events(environment_id, task_id).only("id").order_by()[:1]),
    environment_id=Task._meta.get_field("environment"), task_id=Task._meta.get_field("task_id"),
)


def _upsert_sql() -> str:
    """The acquire upsert for the default database's SQL dialect (built once per dialect)."""
    return _upsert_sql_for(connection.vendor)


@functools.cache
def _upsert_sql_for(vendor: str) -> str:
    """One statement that grants the lease if the name is new, released, expired or already the
    caller's, and does nothing otherwise (or if the environment has a cap: capped acquires take
    the serialised path). ``RETURNING`` tells whether it granted, and the new version.

    PostgreSQL runs ``INSERT ... ON CONFLICT DO UPDATE ... WHERE`` atomically: a concurrent
    acquirer waits for the row lock and re-checks the WHERE clause on the committed row, so two
    callers can never both get a row back. SQLite (3.35+) runs it under the write lock that
    ``BEGIN IMMEDIATE`` takes.
    """
    q = connection.ops.quote_name
    lock, environment = q(Lock._meta.db_table), q(Environment._meta.db_table)
    return (
        f"INSERT INTO {lock} ({q('environment_id')}, {q('name')}, {q('owner_id')}, "
        f"{q('acquired_at')}, {q('expires_at')}, {q('version')}, {q('released_at')}) "
        f"SELECT %s, %s, %s, %s, %s, 0, NULL WHERE NOT EXISTS (SELECT 1 FROM {environment} "
        f"WHERE {q('id')} = %s AND {q('max_concurrent_locks')} IS NOT NULL) "
        f"ON CONFLICT ({q('environment_id')}, {q('name')}) DO UPDATE SET "
        f"{q('owner_id')} = excluded.{q('owner_id')}, "
        f"{q('acquired_at')} = excluded.{q('acquired_at')}, "
        f"{q('expires_at')} = excluded.{q('expires_at')}, {q('released_at')} = NULL, "
        f"{q('version')} = {lock}.{q('version')} + 1 "
        f"WHERE {lock}.{q('released_at')} IS NOT NULL "
        f"OR {lock}.{q('expires_at')} <= excluded.{q('acquired_at')} "
        f"OR {lock}.{q('owner_id')} = excluded.{q('owner_id')} "
        f"RETURNING {q('id')}, {q('version')}"
    )


def _acquire_in_one_statement(environment: Environment, name: str, owner_id: str,
                              ttl: timedelta, check: bool) -> AcquireResult | None:
    """The uncapped acquire in the fewest statements. ``None`` when the general path must
    decide (a cap, a completed task on refusal, a lease that lapsed in between).

    PostgreSQL: one call of ``stardag_lock_acquire`` (migrations ``locks.0004``, ``0005``) in
    autocommit, which runs the upsert, the completion check in a fresh snapshot after the grant
    (undoing the grant if the task is completed) and, on refusal, the read of the row that
    ``_refuse_if_plainly_held`` decides from. Elsewhere the same steps as statements in a
    transaction: the upsert, then the completion check that rolls the grant back, then on
    refusal the read of the row.
    """
    now = timezone.now()
    expires = now + ttl
    grant = _grant_params(environment, name, owner_id, now, expires)
    if connection.vendor == "postgresql":
        return _acquire_by_function(environment, name, owner_id, now, expires, [*grant, check])
    params = [*grant, grant[0]]  # the environment again, for the cap test
    try:
        with transaction.atomic():
            with prepared_cursor(connection) as cursor:
                cursor.execute(_upsert_sql(), params)
                granted = cursor.fetchone()
            if granted is not None and check and lock_task_is_completed(
                    environment=environment, task_id=name):
                raise _TaskAlreadyCompleted
    except _TaskAlreadyCompleted:
        return AcquireResult("already_completed", None)  # the grant rolled back
    if granted is None:
        _refuse_early_if_held(environment, name, owner_id, check)
        return None
    return _granted(environment, name, owner_id, now, expires, *granted)


_ACQUIRE_FUNCTION_SQL = "SELECT * FROM stardag_lock_acquire(%s, %s, %s, %s, %s, %s)"


def _grant_params(environment: Environment, name: str, owner_id: str, now: datetime,
                  expires: datetime) -> list[Any]:
    """The grant's values as the acquire statements take them: environment, name, owner,
    ``acquired_at``, ``expires_at``."""
    field = Lock._meta.get_field("acquired_at")
    return [Environment._meta.pk.get_db_prep_value(environment.pk, connection), name, owner_id,
            field.get_db_prep_value(now, connection), field.get_db_prep_value(expires, connection)]


def _acquire_by_function(environment: Environment, name: str, owner_id: str, now: datetime,
                         expires: datetime, params: list[Any]) -> AcquireResult | None:
    with prepared_cursor(connection) as cursor:
        cursor.execute(_ACQUIRE_FUNCTION_SQL, params)
        (outcome, lock_id, version, held_owner, held_expires_at, held_released_at, cap,
         completed) = cursor.fetchone()
    if outcome == "acquired":
        return _granted(environment, name, owner_id, now, expires, lock_id, version)
    if outcome == "already_completed":
        return AcquireResult("already_completed", None)  # the function undid its grant
    if outcome == "refused":
        _refuse_if_plainly_held(owner_id, held_owner, held_expires_at, held_released_at, cap,
                                completed)
    return None


def _granted(environment: Environment, name: str, owner_id: str, now: datetime,
             expires: datetime, lock_id: int, version: int) -> AcquireResult:
    lock = Lock(id=lock_id, environment=environment, name=name, owner_id=owner_id,
                acquired_at=now, expires_at=expires, version=version, released_at=None)
    lock._state.adding = False
    return AcquireResult("acquired", lock)


def _locked_row(environment: Environment, name: str) -> Lock | None:
    return Lock.objects.select_for_update().filter(environment=environment, name=name).first()


def _locked_cap(environment: Environment) -> int | None:
    """The environment's cap, read fresh; if there is one, the environment row stays locked until
    the end of the transaction so that all capped acquires of the environment run one at a
    time. An unlimited environment is not locked (no serialisation needed)."""
    return (
        Environment.objects.select_for_update(no_key=True)
        .filter(pk=environment.pk, max_concurrent_locks__isnull=False)
        .values_list("max_concurrent_locks", flat=True)
        .first()
    )


def _check_cap(environment: Environment, name: str, cap: int | None, now: datetime) -> None:
    if cap is None:
        return
    in_use = Lock.objects.for_environment(environment).active(now).exclude(name=name).count()
    if in_use >= cap:
        raise ConcurrencyLimitReached(cap)


def _try_insert(environment: Environment, name: str, owner_id: str, now: datetime,
                ttl: timedelta) -> Lock | None:
    """Insert the first row of a name; ``None`` if a concurrent acquire inserted it first."""
    try:
        with transaction.atomic():
            return Lock.objects.create(
                environment=environment, name=name, owner_id=owner_id, acquired_at=now,
                expires_at=now + ttl, version=0,
            )
    except IntegrityError:
        return None


def _refuse_early_if_held(environment: Environment, name: str, owner_id: str,
                          check_task_completion: bool) -> None:
    """Answer the common "held by someone else" case from plain reads, without a transaction.

    Under contention most acquires are refusals (the SDK polls with backoff). Taking the row lock
    for them would make every refusal a write (PostgreSQL records row locks in the tuple and
    flushes the commit); reading instead keeps them off the WAL and off SQLite's write lock. The
    answer is still exact: lease, cap and completion come from one statement (one snapshot), in
    which the lease was another owner's and active (judged against a clock read afterwards), the
    task not completed and the environment uncapped — a refusal the locked path would have given
    at that instant. Capped environments always take the locked path, where 423 must yield to a
    429 computed under the environment lock.
    """
    row = _HELD_ROW[check_task_completion].first(environment_id=environment.pk, name=name)
    if row is None:
        return
    assert isinstance(row, Lock)
    _refuse_if_plainly_held(owner_id, row.owner_id, row.expires_at, row.released_at,
                            row.cap, row.completed)  # type: ignore[attr-defined]  # annotations


def _refuse_if_plainly_held(owner_id: str, held_owner: str, expires_at: datetime,
                            released_at: datetime | None, cap: int | None,
                            completed: bool) -> None:
    """``LockHeld`` if the row read in one snapshot was another owner's active lease (judged
    against a clock read now, after the read), the environment uncapped and the task not
    completed; otherwise nothing, and the caller takes the locked path."""
    active = released_at is None and expires_at > timezone.now()
    if active and held_owner != owner_id and cap is None and not completed:
        raise LockHeld("Lock is held by another owner")


def _held_row_query(check_task_completion: bool) -> PreparedQuery:
    """The lease, the environment's cap and (when asked) the completion of the task named like
    the lock, in one statement: compiled once per thread (``PreparedQuery``), as most acquires
    under contention are these refusals."""

    def build(environment_id: Any, name: str) -> QuerySet[Lock]:
        completed: Exists | Value = Value(False)
        if check_task_completion:
            completed = Exists(_completion_events(environment_id, name))
        return (Lock.objects.filter(environment_id=environment_id, name=name)
                .annotate(cap=F("environment__max_concurrent_locks"), completed=completed)
                .only("owner_id", "expires_at", "released_at").order_by())

    return PreparedQuery(build, environment_id=Lock._meta.get_field("environment"),
                         name=Lock._meta.get_field("name"))


_HELD_ROW = {check: _held_row_query(check) for check in (True, False)}


@metrics.counts_lock_decisions
def lock_acquire(
    *,
    environment: Environment,
    name: str,
    owner_id: str,
    ttl_seconds: int = DEFAULT_TTL_SECONDS,
    check_task_completion: bool = True,
) -> AcquireResult:
    """Grant the lease on ``name`` to ``owner_id`` for ``ttl_seconds`` (§6.2).

    Outcomes, in the contract's order: ``already_completed`` (lock untouched) if asked to check
    and the task is completed; ``ConcurrencyLimitReached`` if a cap is set, the caller does not
    already own the row and the other active locks fill the cap; ``LockHeld`` if another owner's
    lease is active; otherwise ``acquired`` — a new row (version 0), or the existing row taken
    over / re-entered with ``version + 1``, ``acquired_at = now``, ``expires_at = now + ttl``.
    At most one owner holds an active lease on a name at any instant (see module docstring).
    """
    ttl = _check_ttl(ttl_seconds)
    if (environment.max_concurrent_locks is None  # as read with the credential; re-checked
            and connection.features.can_return_columns_from_insert):  # SQLite 3.35+
        result = _acquire_in_one_statement(environment, name, owner_id, ttl,
                                           check_task_completion)
        if result is not None:
            return result
    else:
        _refuse_early_if_held(environment, name, owner_id, check_task_completion)
    try:
        with transaction.atomic():
            cap = _locked_cap(environment)
            if cap is None:
                row = _acquire_uncapped(environment, name, owner_id, ttl, check_task_completion)
            else:
                row = _acquire_capped(environment, name, owner_id, ttl, check_task_completion,
                                      cap)
    except _TaskAlreadyCompleted:
        return AcquireResult("already_completed", None)  # the transaction rolled back
    return AcquireResult("acquired", row)


class _TaskAlreadyCompleted(Exception):
    """Raised inside the acquire transaction to roll back a tentative grant."""


def _raise_if_completed(environment: Environment, name: str, check: bool) -> None:
    if check and lock_task_is_completed(environment=environment, task_id=name):
        raise _TaskAlreadyCompleted


def _acquire_uncapped(environment: Environment, name: str, owner_id: str, ttl: timedelta,
                      check: bool) -> Lock:
    """Optimistic path: one conditional UPDATE grants the row if it is free or the caller's.

    Concurrent acquirers of a just-freed name queue on the row lock inside that UPDATE; each
    re-evaluates the condition on the winner's committed row and matches nothing, so losers
    never hold the row lock and a release is never stuck behind a queue of refusals. The
    completion check runs after the grant (fresh snapshot) and rolls it back if needed.
    """
    for _attempt in range(2):
        now = timezone.now()
        free = Q(released_at__isnull=False) | Q(expires_at__lte=now) | Q(owner_id=owner_id)
        granted = Lock.objects.filter(environment=environment, name=name).filter(free).update(
            owner_id=owner_id, acquired_at=now, expires_at=now + ttl, released_at=None,
            version=F("version") + 1,
        )
        _raise_if_completed(environment, name, check)
        if granted:
            return Lock.objects.get(environment=environment, name=name)
        if Lock.objects.filter(environment=environment, name=name).exists():
            raise LockHeld("Lock is held by another owner")
        inserted = _try_insert(environment, name, owner_id, now, ttl)
        if inserted is not None:
            return inserted
        # Lost the first-insert race: the winner's row is committed now; decide again.
    raise LockHeld("Lock is held by another owner")


def _acquire_capped(environment: Environment, name: str, owner_id: str, ttl: timedelta,
                    check: bool, cap: int) -> Lock:
    """Pessimistic path, run while the environment row is locked (all capped acquires of the
    environment one at a time): lock the name's row, then count, then grant."""
    row = _locked_row(environment, name)
    now = timezone.now()
    _raise_if_completed(environment, name, check)
    if row is None:
        _check_cap(environment, name, cap, now)
        inserted = _try_insert(environment, name, owner_id, now, ttl)
        if inserted is not None:
            return inserted
        row = _locked_row(environment, name)
        assert row is not None, "the insert lost to a committed row"
    if not (row.released_at is None and row.owner_id == owner_id):
        _check_cap(environment, name, cap, now)
        if row.is_active(now):
            raise LockHeld("Lock is held by another owner")
    row.owner_id = owner_id
    row.acquired_at = now
    row.expires_at = now + ttl
    row.released_at = None
    row.version += 1
    row.save(update_fields=["owner_id", "acquired_at", "expires_at", "released_at", "version"])
    return row


def _owned(environment: Environment, name: str, owner_id: str) -> QuerySet[Lock]:
    return Lock.objects.filter(environment=environment, name=name, owner_id=owner_id,
                               released_at__isnull=True)


def lock_renew(*, environment: Environment, name: str, owner_id: str,
               ttl_seconds: int = DEFAULT_TTL_SECONDS) -> None:
    """Extend the caller's lease to ``now + ttl`` and bump ``version`` (§6.3), in one
    conditional UPDATE (atomic with respect to takeovers and releases of the row).

    Works while the caller still owns the row, even if the lease lapsed and nobody took it over
    (such a renewal re-activates the lease without a cap check: the holder is evidently still
    working). Raises ``LockNotOwned`` otherwise — after a takeover or a release.
    """
    ttl = _check_ttl(ttl_seconds)
    with transaction.atomic():
        renewed = _owned(environment, name, owner_id).update(
            expires_at=timezone.now() + ttl, version=F("version") + 1)
        if not renewed:
            raise LockNotOwned("Lock not found or not owned by caller")


def lock_release(
    *,
    environment: Environment,
    name: str,
    owner_id: str,
    task_completed: bool = False,
    build_id: uuid.UUID | None = None,
) -> None:
    """Free the caller's lease (§6.4), optionally recording the task's completion atomically.

    ``BuildNotFound`` (nothing changes) if ``task_completed`` and ``build_id`` names no build of
    the environment; ``LockNotOwned`` if the caller owns no unreleased row for the name. With
    ``task_completed`` and a successful release, ``task_completed`` is appended for the task named
    ``name`` — in ``build_id``, or else in the build of the task's most recent ``task_started`` —
    in the same transaction; with no such task (or no start) nothing is recorded.
    """
    if not task_completed:  # one conditional UPDATE: atomic on its own
        if not _release_owned(environment, name, owner_id):
            raise LockNotOwned("Lock not found or not owned by caller")
        return
    with transaction.atomic():
        build = None
        if task_completed and build_id is not None:
            build = Build.objects.for_environment(environment).filter(pk=build_id).first()
            if build is None:
                raise BuildNotFound("Build not found")
        if not _tombstone(_owned(environment, name, owner_id)):
            raise LockNotOwned("Lock not found or not owned by caller")
        if task_completed:
            _record_completion(environment, name, build)


def _release_owned(environment: Environment, name: str, owner_id: str) -> bool:
    """``_tombstone(_owned(...))`` as one statement compiled once (the SDK releases every lock
    it takes). True if a row was released."""
    q = connection.ops.quote_name
    sql = (f"UPDATE {q(Lock._meta.db_table)} SET {q('released_at')} = %s, "
           f"{q('expires_at')} = %s WHERE {q('environment_id')} = %s AND {q('name')} = %s "
           f"AND {q('owner_id')} = %s AND {q('released_at')} IS NULL")
    now = Lock._meta.get_field("released_at").get_db_prep_value(timezone.now(), connection)
    env_pk = Environment._meta.pk.get_db_prep_value(environment.pk, connection)
    with prepared_cursor(connection) as cursor:
        cursor.execute(sql, [now, now, env_pk, name, owner_id])
        return cursor.rowcount > 0


def _tombstone(rows: QuerySet[Lock]) -> bool:
    """Release in place: ``released_at = expires_at = now``; the version stays for the next
    grant to build on. True if a row was released."""
    now = timezone.now()
    return rows.update(released_at=now, expires_at=now) > 0


def _record_completion(environment: Environment, name: str, build: Build | None) -> None:
    task = Task.objects.find_by_key(environment.pk, name)
    if task is None:
        return
    if build is None:
        start = (
            Event.objects.filter(task=task, event_type=EventType.TASK_STARTED)
            .select_related("build")
            .order_by("-created_at", "-id")
            .first()
        )
        if start is None:
            return
        build = start.build
    task_event_record(build=build, task=task, event_type=EventType.TASK_COMPLETED)


def lock_force_release(*, lock: Lock) -> bool:
    """Admin override: free a lease whoever holds it. Keeps the tombstone (versions keep growing);
    the former holder's renew and release then get 409. False if it was already released."""
    with transaction.atomic():
        released = _tombstone(Lock.objects.filter(pk=lock.pk, released_at__isnull=True))
        if released:
            audit_record(action="lock.force_released", target=lock,
                         details={"owner_id": lock.owner_id, "version": lock.version})
        return released


# --- Named concurrency limits (SDK-WIRE §3.4 N18-N20): stored per environment -------------------


def concurrency_limit_set(*, environment: Any, key: str,
                          max_concurrent: int) -> ConcurrencyLimit:
    """Create or replace the limit ``key`` of the environment (idempotent). Enforcement at
    claiming starts belongs to the ``/api/v2`` claims; here the limit is only recorded."""
    with transaction.atomic():
        limit, _ = ConcurrencyLimit.objects.update_or_create(
            environment=environment, key=key, defaults={"max_concurrent": max_concurrent})
    return limit


def concurrency_limit_delete(*, environment: Any, key: str) -> bool:
    """Delete the limit ``key``; whether it existed."""
    deleted, _ = ConcurrencyLimit.objects.filter(environment=environment, key=key).delete()
    return deleted > 0
