"""Rate limiting (contract §8.6): per credential, shared by every worker and server process.

Counting: fixed windows of ``RATE_LIMIT_WINDOW_SECONDS``; one counter per identity and window
in the ``ratelimit`` cache (``CACHES``): PostgreSQL/SQLite through ``CounterDatabaseCache`` by
default (one upsert statement per claim), Redis when ``REDIS_URL`` is set. Both add atomically,
so the limit holds across gunicorn workers and hosts.

Leases (issue 10): a store round trip per request was a measurable share of a request's CPU, so
``CredentialRateThrottle`` does not count requests one by one. Each process claims *blocks* of
quota: it adds the block's size to the shared counter in one statement, and the counter's new
value says how much of the block lies within the limit. Those tokens are the process's lease for
that identity and window; requests spend them with no store access (a dict lookup under a
lock). The first claim of a window is one token (a process that sees an identity once per window
takes nothing it does not use); later claims are ``(limit - last count seen) // LEASE_SHARE``,
between 1 and ``MAX_LEASE``: far from the limit a process touches the store once per up to 64
requests; once it has seen the counter within ``2 * LEASE_SHARE`` of the limit every claim is
one token, counted exactly as before (limits under 33 always are). ``LEASE_SHARE`` keeps a
block a small share of what is left, so several processes claiming at once cannot take much
more than there is.

Why the limit still holds: the store serialises the additions, so the claims cut the counter
into disjoint ranges ``[before, before + size)``; a claim is granted only the part of its range
below ``limit``. Disjoint parts of ``[0, limit)`` add up to at most ``limit`` tokens, and every
request served spends one token, whichever process or thread holds it: never more than
``limit`` requests per identity and window, never a request served late. The cost: tokens a
process holds when the window ends, or when the limit is reached elsewhere, are counted but
never served, so a client spread over several processes can be refused slightly early, by at
most the unspent blocks of the other processes (each under ``MAX_LEASE`` tokens per thread that
claimed concurrently; none once that process has seen the counter near the limit, where its
blocks are one token, spent at once). Leases of past
windows are dropped, so the table stays bounded. Failed authentications are not leased: they
are counted one by one, exactly, and looked up with ``peek``.

* ``CredentialRateThrottle`` (DRF's default throttle) limits each API key, each user (internal
  or identity-provider token) and, for anonymous calls, each client address. Over the limit:
  429 ``{"detail": {"error_code": "RATE_LIMIT", "message": ...}}`` with ``Retry-After``, which
  the SDK waits for and retries. Lock endpoints are never limited: the SDK's lock client reads
  any 429 there as "concurrency limit reached" and has its own back-off.
* Failed authentication (every 401) is counted per client address. Past
  ``RATE_LIMIT_FAILED_AUTH`` in a window, that address gets 429 (on lock endpoints a 401 with
  ``Retry-After``) before its credentials are even checked, so keys and tokens cannot be guessed
  at speed. Only addresses this process saw fail recently are looked up, so ordinary traffic
  pays nothing for this guard.

The limiter fails open: if the cache cannot be reached (Redis down, the database down, the
cache table missing) the request is served and a warning is logged; a limiter must not turn an
outage of its store into an outage of the API.
"""

from __future__ import annotations

import base64
import logging
import math
import pickle
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.db import DatabaseCache
from django.db import connections, router, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from rest_framework.throttling import BaseThrottle

from stardag_site.api.errors import ContractError
from stardag_site.db.prepared import prepared_cursor

logger = logging.getLogger("stardag_site.ratelimit")

CACHE_ALIAS = "ratelimit"
LOCK_VIEW_MODULE_PREFIX = "locks."
LOCK_PATH_PREFIXES = ("/api/v1/locks",)


class CounterDatabaseCache(DatabaseCache):
    """Django's database cache table, used for counters in one statement per hit.

    ``hit`` is ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` (PostgreSQL, SQLite 3.35+):
    atomic under concurrency, one round trip in autocommit, no row lock held across statements.
    Counter values are stored as plain decimal text (not pickled like Django's own entries) so
    the database can add to them; ``count`` reads them back. Expired rows are deleted now and
    then by ``hit`` itself (Django's culling runs only on ``set``/``add``, which counters never
    call). ``incr`` keeps the atomic read-modify-write for any other caller.
    """

    # A counter's key names its window, so an expired row is never read again; one hit in
    # this many sweeps them.
    SWEEP_EVERY = 500

    def _sql_parts(self) -> tuple[Any, Callable[[str], str], str]:
        connection = connections[router.db_for_write(self.cache_model_class)]
        quote = connection.ops.quote_name
        return connection, quote, quote(self._table)  # type: ignore[attr-defined]

    def hit(self, key: str, timeout: int, amount: int = 1) -> int:
        """Add ``amount`` to the counter ``key`` (created at ``amount``, expiring in ``timeout``
        seconds) and return its new value."""
        key = self.make_and_validate_key(key)
        connection, quote, table = self._sql_parts()
        expires = connection.ops.adapt_datetimefield_value(
            timezone.now() + timedelta(seconds=timeout))
        value = quote("value")
        # A prepared statement on PostgreSQL: the same SQL every claim, planned once. The
        # amount is the inserted text, added back from EXCLUDED: one parameter, one type.
        with prepared_cursor(connection) as cursor:
            cursor.execute(
                f"INSERT INTO {table} ({quote('cache_key')}, {value}, {quote('expires')}) "
                f"VALUES (%s, %s, %s) ON CONFLICT ({quote('cache_key')}) DO UPDATE SET "
                f"{value} = CAST(CAST({table}.{value} AS INTEGER) "
                f"+ CAST(EXCLUDED.{value} AS INTEGER) AS TEXT) "
                f"RETURNING {value}", [key, str(amount), expires])
            count = int(cursor.fetchone()[0])
            if random.randrange(self.SWEEP_EVERY) == 0:
                cursor.execute(f"DELETE FROM {table} WHERE {quote('expires')} < %s",
                               [connection.ops.adapt_datetimefield_value(timezone.now())])
        return count

    def clear(self) -> None:
        """Empty the store and this process's leases with it: a lease is quota counted in the
        store, and must not outlive the count it was taken from (tests reset the store)."""
        super().clear()
        forget_leases()

    def count(self, key: str) -> int:
        """The counter's value, 0 when it does not exist (or expired)."""
        key = self.make_and_validate_key(key)
        connection, quote, table = self._sql_parts()
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {quote('value')} FROM {table} "
                f"WHERE {quote('cache_key')} = %s AND {quote('expires')} >= %s", [key, now])
            row = cursor.fetchone()
        return int(row[0]) if row else 0

    def incr(self, key: str, delta: int = 1, version: int | None = None) -> int:
        """Atomic ``incr`` of a pickled entry: the row is locked (``SELECT ... FOR UPDATE``;
        SQLite's IMMEDIATE transactions already serialise writers) for the read-modify-write,
        where Django's ``DatabaseCache.incr`` could lose a concurrent count."""
        key = self.make_and_validate_key(key, version=version)
        db = router.db_for_write(self.cache_model_class)
        connection = connections[db]
        quote = connection.ops.quote_name
        table = quote(self._table)  # type: ignore[attr-defined]  # set by DatabaseCache
        lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
        with transaction.atomic(using=db), connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {quote('value')}, {quote('expires')} FROM {table} "
                f"WHERE {quote('cache_key')} = %s{lock}", [key],
            )
            row = cursor.fetchone()
            if row is None:
                raise ValueError(f"Key '{key}' not found")
            expires = row[1]
            if isinstance(expires, str):  # SQLite hands back text (UTC)
                expires = datetime.fromisoformat(expires)
            if expires.tzinfo is None:
                expires = expires.replace(tzinfo=UTC)
            if expires < timezone.now():
                raise ValueError(f"Key '{key}' not found")
            value = pickle.loads(base64.b64decode(row[0].encode())) + delta
            encoded = base64.b64encode(pickle.dumps(value, self.pickle_protocol)).decode("latin1")
            cursor.execute(
                f"UPDATE {table} SET {quote('value')} = %s WHERE {quote('cache_key')} = %s",
                [encoded, key],
            )
        return value


def _window(window: int) -> tuple[int, int]:
    """The current window's index and the seconds left in it (at least 1)."""
    now = time.time()
    index = int(now // window)
    return index, max(1, math.ceil((index + 1) * window - now))


def _add(identity: str, window: int, index: int, amount: int) -> int:
    """Add ``amount`` to ``identity``'s counter of window ``index``; the counter after adding."""
    cache = caches[CACHE_ALIAS]
    if isinstance(cache, CounterDatabaseCache):
        return cache.hit(f"rc:{identity}:{window}:{index}", window + 5, amount)
    key = f"rl:{identity}:{window}:{index}"
    for _ in range(2):
        try:
            return cache.incr(key, amount)
        except ValueError:
            if cache.add(key, amount, timeout=window + 5):
                return amount
    return cache.incr(key, amount)


def count_hit(identity: str, window: int) -> tuple[int, int]:
    """Count one request for ``identity``, exactly (no lease): ``(count in the current window
    after adding, seconds left)``."""
    index, retry_after = _window(window)
    return _add(identity, window, index, 1), retry_after


def peek(identity: str, window: int) -> tuple[int, int]:
    """``(count so far in the current window, seconds left)`` without counting."""
    index, retry_after = _window(window)
    cache = caches[CACHE_ALIAS]
    if isinstance(cache, CounterDatabaseCache):
        return cache.count(f"rc:{identity}:{window}:{index}"), retry_after
    return int(cache.get(f"rl:{identity}:{window}:{index}", 0)), retry_after


def client_address(request: HttpRequest) -> str:
    """The caller's address: the peer, or behind a trusted proxy (``TRUST_X_FORWARDED_FOR``)
    the last address the proxy appended to ``X-Forwarded-For``."""
    if settings.TRUST_X_FORWARDED_FOR:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        last = forwarded.split(",")[-1].strip()
        if last:
            return last
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def rate_limit_body(retry_after: int) -> dict[str, Any]:
    return {"detail": {"error_code": "RATE_LIMIT",
                       "message": f"Rate limit exceeded; retry after {retry_after} seconds."}}


def is_lock_path(path: str) -> bool:
    return path.startswith(LOCK_PATH_PREFIXES)


class RateLimited(ContractError):
    """The contract's 429 for a credential over its limit (rendered by the exception handler)."""

    status_code = 429

    def __init__(self, retry_after: int) -> None:
        super().__init__(rate_limit_body(retry_after)["detail"],
                         headers={"Retry-After": str(retry_after)})


class CredentialRateThrottle(BaseThrottle):
    """DRF throttle: ``RATE_LIMIT_REQUESTS`` per API key or user, ``RATE_LIMIT_ANONYMOUS_REQUESTS``
    per client address for calls without a credential, per window; 0 turns either off."""

    def allow_request(self, request: Any, view: Any) -> bool:
        if type(view).__module__.startswith(LOCK_VIEW_MODULE_PREFIX):
            return True
        principal = getattr(request, "auth", None)
        api_key = getattr(principal, "api_key", None)
        user = getattr(principal, "user", None)
        if api_key is not None:
            identity, limit = f"key:{api_key.pk}", settings.RATE_LIMIT_REQUESTS
        elif user is not None:
            identity, limit = f"user:{user.pk}", settings.RATE_LIMIT_REQUESTS
        else:
            identity = f"ip:{client_address(request)}"
            limit = settings.RATE_LIMIT_ANONYMOUS_REQUESTS
        if limit <= 0:
            return True
        window = settings.RATE_LIMIT_WINDOW_SECONDS
        index, retry_after = _window(window)
        key: _LeaseKey = (identity, window, index, limit)
        size = _take_token(key)
        if size == 0:
            return True
        try:
            count = _add(identity, window, index, size)
        except Exception:  # the limiter fails open (see the module docstring)
            logger.warning("Rate limiter store unavailable; request not limited", exc_info=True)
            return True
        if not _grant(key, size, count):
            raise RateLimited(retry_after)
        return True


# Quota this process holds (see the module docstring), per (identity, window seconds, window
# index, limit). Bounded: past windows are dropped.
_LeaseKey = tuple[str, int, int, int]
MAX_LEASE = 64
LEASE_SHARE = 16
_LEASES_MAX = 10_000


@dataclass(slots=True)
class _Lease:
    remaining: int = 0  # tokens granted to this process and not yet spent
    last_count: int = 0  # the shared counter after this process's latest claim


_leases: dict[_LeaseKey, _Lease] = {}
_leases_lock = threading.Lock()


def forget_leases() -> None:
    """Drop every lease of this process (its unspent tokens stay counted in the store): what a
    new process starts with. Called when the store is cleared."""
    with _leases_lock:
        _leases.clear()


def _take_token(key: _LeaseKey) -> int:
    """Spend a token of ``key``'s lease: 0 when one was there; otherwise the size of the block
    to claim, one token while this process has not seen the window's counter."""
    with _leases_lock:
        lease = _leases.get(key)
        if lease is None:
            return 1
        if lease.remaining > 0:
            lease.remaining -= 1
            return 0
        last_count = lease.last_count
    limit = key[3]
    return max(1, min(MAX_LEASE, (limit - last_count) // LEASE_SHARE))


def _grant(key: _LeaseKey, size: int, count: int) -> bool:
    """Record a claim of ``size`` that brought the counter to ``count``: its tokens below the
    limit go to the lease, one of them spent on this request. False when none is left (not
    even a token another thread of this process claimed meanwhile)."""
    granted = min(size, key[3] - (count - size))
    with _leases_lock:
        lease = _leases.get(key)
        if lease is None:
            lease = _leases[key] = _new_lease(key)
        lease.last_count = max(lease.last_count, count)
        if granted > 0:
            lease.remaining += granted - 1
            return True
        if lease.remaining > 0:
            lease.remaining -= 1
            return True
        return False


def _new_lease(key: _LeaseKey) -> _Lease:
    """A lease for ``key``, dropping this identity's previous window and, when the table is
    full, every past window's lease (all of them if that is not enough). Called under the
    lock."""
    identity, window, index, limit = key
    _leases.pop((identity, window, index - 1, limit), None)
    if len(_leases) >= _LEASES_MAX:
        now = time.time()
        for stale in [k for k in _leases if k[2] < int(now // k[1])]:
            del _leases[stale]
        if len(_leases) >= _LEASES_MAX:
            _leases.clear()
    return _Lease()


# Addresses this process saw fail authentication, with when: only those are looked up in the
# shared store before authentication. Bounded; entries older than a window are dropped.
_recent_failures: dict[str, float] = {}
_recent_failures_lock = threading.Lock()
_RECENT_FAILURES_MAX = 10_000


def _remember_failure(address: str) -> None:
    now = time.monotonic()
    with _recent_failures_lock:
        if len(_recent_failures) >= _RECENT_FAILURES_MAX:
            horizon = now - settings.RATE_LIMIT_WINDOW_SECONDS
            for stale in [a for a, t in _recent_failures.items() if t < horizon]:
                del _recent_failures[stale]
            if len(_recent_failures) >= _RECENT_FAILURES_MAX:
                _recent_failures.clear()
        _recent_failures[address] = now


def _failed_recently(address: str) -> bool:
    seen = _recent_failures.get(address)
    return seen is not None and time.monotonic() - seen < settings.RATE_LIMIT_WINDOW_SECONDS


def record_failed_authentication(request: HttpRequest) -> int | None:
    """Count a 401 for the client's address; the ``Retry-After`` if it is now over the limit."""
    limit = settings.RATE_LIMIT_FAILED_AUTH
    if limit <= 0:
        return None
    address = client_address(request)
    _remember_failure(address)
    try:
        count, retry_after = count_hit(f"authfail:{address}",
                                       settings.RATE_LIMIT_WINDOW_SECONDS)
    except Exception:
        logger.warning("Rate limiter store unavailable; failure not counted", exc_info=True)
        return None
    return retry_after if count > limit else None


def failed_authentication_response(path: str, retry_after: int) -> JsonResponse:
    """429 with the contract's body; on lock endpoints a 401 (a 429 there means "concurrency
    limit reached" to the SDK)."""
    if is_lock_path(path):
        response = JsonResponse(
            {"detail": "Too many failed authentication attempts; retry later."}, status=401)
        response["WWW-Authenticate"] = 'Bearer, ApiKey realm="sdk"'
    else:
        response = JsonResponse(rate_limit_body(retry_after), status=429)
    response["Retry-After"] = str(retry_after)
    return response


class FailedAuthenticationGuardMiddleware:
    """Refuses, before any credential is checked, addresses over the failed-authentication
    limit (see the module docstring)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.RATE_LIMIT_FAILED_AUTH
        if limit > 0 and _failed_recently(address := client_address(request)):
            try:
                count, retry_after = peek(f"authfail:{address}",
                                          settings.RATE_LIMIT_WINDOW_SECONDS)
            except Exception:
                logger.warning("Rate limiter store unavailable; guard skipped", exc_info=True)
                count, retry_after = 0, 0
            if count >= limit:
                return failed_authentication_response(request.path, retry_after)
        return self.get_response(request)
