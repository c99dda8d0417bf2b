"""Rate limiting (contract §8.6, issue 11): per credential, shared store, the contract's 429."""

from __future__ import annotations

import pytest
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext

from locks.models import Lock
from stardag_site import ratelimit
from stardag_site.ratelimit import forget_leases, peek
from workspaces.models import ApiKey


@pytest.fixture
def limits(db, settings):
    """A tight limit on a fresh store and no leases; ``limits(requests=..., failed=...,
    anonymous=...)``."""
    caches["ratelimit"].clear()
    forget_leases()

    def configure(*, requests: int = 0, failed: int = 0, anonymous: int = 0,
                  window: int = 3600) -> None:
        settings.RATE_LIMIT_REQUESTS = requests
        settings.RATE_LIMIT_FAILED_AUTH = failed
        settings.RATE_LIMIT_ANONYMOUS_REQUESTS = anonymous
        settings.RATE_LIMIT_WINDOW_SECONDS = window

    yield configure
    caches["ratelimit"].clear()
    forget_leases()


def assert_rate_limited(response) -> None:
    assert response.status_code == 429
    assert response.json()["detail"]["error_code"] == "RATE_LIMIT"
    assert response.json()["detail"]["message"].startswith("Rate limit exceeded")
    assert 1 <= int(response["Retry-After"]) <= 3600


def test_api_key_over_its_limit_gets_429_with_retry_after(client_a, client_b, limits):
    limits(requests=5)
    for _ in range(5):
        assert client_a.get("/api/v1/builds").status_code == 200
    assert_rate_limited(client_a.get("/api/v1/builds"))
    assert_rate_limited(client_a.post("/api/v1/builds", {}, format="json"))
    assert client_b.get("/api/v1/builds").status_code == 200  # another credential
    from builds.models import Build

    assert Build.objects.count() == 0


def test_user_tokens_share_the_users_limit(tenant_a, limits):
    limits(requests=3)
    for _ in range(3):
        assert tenant_a.jwt_client().get("/api/v1/ui/workspaces").status_code == 200
    assert_rate_limited(tenant_a.jwt_client().get("/api/v1/ui/me"))


def test_lock_endpoints_are_never_rate_limited(client_a, limits):
    limits(requests=2)
    for n in range(6):
        response = client_a.post(f"/api/v1/locks/l{n}/acquire",
                                 {"owner_id": "o", "ttl_seconds": 60}, format="json")
        assert response.status_code == 200, response.content
    assert Lock.objects.count() == 6
    assert client_a.get("/api/v1/builds").status_code == 200  # the lock calls did not count
    assert client_a.get("/api/v1/builds").status_code == 200
    assert_rate_limited(client_a.get("/api/v1/builds"))


def test_anonymous_calls_are_limited_per_address(anon_client, limits):
    limits(anonymous=2)
    assert anon_client.get("/api/v1/auth/config").status_code == 200
    assert anon_client.get("/api/v1/auth/config").status_code == 200
    assert_rate_limited(anon_client.get("/api/v1/auth/config"))
    other = anon_client.get("/api/v1/auth/config", REMOTE_ADDR="10.0.0.9")
    assert other.status_code == 200


def test_failed_authentication_is_limited_per_address(client_a, anon_client, limits):
    limits(failed=3)
    guesses = [anon_client.get("/api/v1/builds", HTTP_X_API_KEY=f"sk_guess{n}")
               for n in range(3)]
    assert [r.status_code for r in guesses] == [401, 401, 401]
    assert_rate_limited(anon_client.get("/api/v1/builds", HTTP_X_API_KEY="sk_guess4"))
    # Past the limit even a valid key from that address is refused before it is checked...
    assert_rate_limited(client_a.get("/api/v1/builds"))
    # ...and lock endpoints answer 401 (a 429 there means "concurrency limit" to the SDK).
    locked = client_a.post("/api/v1/locks/x/acquire", {"owner_id": "o", "ttl_seconds": 5},
                           format="json")
    assert locked.status_code == 401 and "Retry-After" in locked
    assert Lock.objects.count() == 0
    # Another address is unaffected.
    assert client_a.get("/api/v1/builds", REMOTE_ADDR="10.0.0.7").status_code == 200


def test_limiter_fails_open_when_its_store_is_unavailable(client_a, anon_client, settings):
    settings.RATE_LIMIT_REQUESTS = 1
    settings.RATE_LIMIT_FAILED_AUTH = 1
    settings.CACHES = {**settings.CACHES, "ratelimit": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
        "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
    }}
    for _ in range(3):
        assert client_a.get("/api/v1/builds").status_code == 200
        assert anon_client.get("/api/v1/builds", HTTP_X_API_KEY="sk_no").status_code == 401


def test_database_counter_is_one_statement_per_hit(db, monkeypatch):
    """The default store counts with one upsert (no read-then-write transaction), and stale
    windows are swept by the hits themselves."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from stardag_site.ratelimit import CounterDatabaseCache

    cache = caches["ratelimit"]
    assert isinstance(cache, CounterDatabaseCache)
    cache.clear()
    monkeypatch.setattr(CounterDatabaseCache, "SWEEP_EVERY", 10**9)
    with CaptureQueriesContext(connection) as captured:
        assert [cache.hit("w:1", 60) for _ in range(3)] == [1, 2, 3]
    statements = [q["sql"] for q in captured.captured_queries
                  if not q["sql"].upper().startswith(("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE"))]
    assert len(statements) == 3
    assert cache.count("w:1") == 3 and cache.count("w:other") == 0
    assert cache.hit("w:old", -10) == 1  # already expired: never counted again, swept below
    assert cache.count("w:old") == 0
    monkeypatch.setattr(CounterDatabaseCache, "SWEEP_EVERY", 1)
    assert cache.hit("w:1", 60) == 4
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM stardag_rate_limit_cache")
        assert cursor.fetchone()[0] == 1
    cache.clear()


def _persistence(table: str) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT relpersistence FROM pg_class WHERE relname = %s", [table])
        return cursor.fetchone()[0]


@pytest.mark.postgres
def test_migration_makes_the_counter_table_unlogged_on_postgresql(db):
    """``accounts/0004`` turns the counter table unlogged (no WAL, no flush per hit) and back;
    the counters work the same either way."""
    import importlib

    from django.db import connection

    migration = importlib.import_module("accounts.migrations.0004_rate_limit_cache_unlogged")
    table = "stardag_rate_limit_cache"
    cache = caches["ratelimit"]
    cache.clear()
    with connection.schema_editor() as editor:
        migration.set_unlogged(None, editor)
    assert _persistence(table) == "u"
    assert [cache.hit("u:1", 60) for _ in range(2)] == [1, 2]
    with connection.schema_editor() as editor:
        migration.set_logged(None, editor)
    assert _persistence(table) == "p"
    assert cache.hit("u:1", 60) == 3
    cache.clear()


# --- Leases: blocks of quota per process (issue 10) --------------------------------------------

def _counter_statements(captured: CaptureQueriesContext) -> int:
    return sum(1 for q in captured.captured_queries
               if "stardag_rate_limit_cache" in q["sql"] and "ON CONFLICT" in q["sql"].upper())


def _served(client, n: int) -> list[int]:
    return [client.get("/api/v1/builds").status_code for _ in range(n)]


def test_far_from_the_limit_a_process_claims_blocks_not_requests(client_a, limits):
    """Far below the limit the counter is touched once per block (1 token, then 64), not once
    per request; every request served was counted before it was served."""
    limits(requests=10_000)
    with CaptureQueriesContext(connection) as captured:
        assert set(_served(client_a, 40)) == {200}
    assert _counter_statements(captured) <= 3  # 1 + 64 tokens: two claims
    counted, _ = peek(f"key:{ApiKey.objects.get().pk}", 3600)
    assert counted >= 40
    assert counted <= 1 + ratelimit.MAX_LEASE


def test_leases_never_serve_more_than_the_limit(client_a, limits):
    """One process serving everything spends every token it claims: exactly the limit is
    served, with far fewer counter statements than requests, then 429 (counted one by one)."""
    limits(requests=100)
    with CaptureQueriesContext(connection) as captured:
        assert set(_served(client_a, 100)) == {200}
    # 53 claims: 1 token, then blocks of (100 - count) // 16 (6, 5, ..., 2), then 31 single
    # tokens within 2 * LEASE_SHARE of the limit.
    assert 1 < _counter_statements(captured) <= 60
    identity = f"key:{ApiKey.objects.get().pk}"
    assert peek(identity, 3600)[0] == 100  # within 2 * LEASE_SHARE of the limit: 1 per claim
    assert_rate_limited(client_a.get("/api/v1/builds"))
    assert_rate_limited(client_a.get("/api/v1/builds"))
    assert peek(identity, 3600)[0] == 102


def test_two_processes_with_their_own_leases_share_one_limit(client_a, limits, monkeypatch):
    """Two processes (two lease tables) alternating on one key: never more than the limit in
    total. Both keep their tokens, so all of the limit is served in the end, though one may
    be refused while the other still holds tokens (the early refusal the docstring allows)."""
    limits(requests=50)
    processes: list[dict] = [{}, {}]
    statuses = []
    for turn in range(40):
        monkeypatch.setattr(ratelimit, "_leases", processes[turn % 2])
        statuses += _served(client_a, 3)
    assert statuses.count(200) == 50
    assert set(statuses) == {200, 429}
    assert all(lease.remaining == 0 for table in processes for lease in table.values())


def test_new_processes_lose_only_their_unspent_tokens(client_a, limits):
    """A new process (``forget_leases``) every 5 requests: the tokens the old one held are
    counted but never served, so the served count is the limit minus exactly those tokens, and
    each is under the largest block (``(limit - 1) // LEASE_SHARE`` = 3 for a limit of 50):
    50 - 2 * (processes retired before the first 429) <= served <= 50, never more."""
    limits(requests=50)
    statuses: list[int] = []
    unspent = retired = 0
    while 429 not in statuses:
        statuses += _served(client_a, 5)
        unspent += sum(lease.remaining for lease in ratelimit._leases.values())
        retired += 429 not in statuses
        forget_leases()
    statuses += _served(client_a, 5)
    served = statuses.count(200)
    assert statuses == [200] * served + [429] * (len(statuses) - served)  # nothing served late
    assert served + unspent == 50
    assert 50 - 2 * retired <= served <= 50
    assert unspent > 0  # the test retired processes that held tokens


def test_a_new_window_starts_without_a_lease(client_a, limits, monkeypatch):
    """Tokens of a past window are never spent in the next one: its first request claims one
    token afresh, and the old window's lease is dropped."""
    limits(requests=10_000)
    start = (int(ratelimit.time.time()) // 3600 + 1) * 3600 + 10  # well inside a window
    now = [float(start)]
    monkeypatch.setattr(ratelimit.time, "time", lambda: now[0])
    identity = f"key:{ApiKey.objects.get().pk}"
    assert set(_served(client_a, 3)) == {200}
    assert peek(identity, 3600)[0] == 1 + ratelimit.MAX_LEASE  # the lease holds 62 more
    now[0] += 3600
    assert _served(client_a, 1) == [200]
    assert peek(identity, 3600)[0] == 1
    assert [key[2] for key in ratelimit._leases] == [start // 3600 + 1]
    assert _served(client_a, 1) == [200]
    assert peek(identity, 3600)[0] == 1 + ratelimit.MAX_LEASE


def test_database_counter_adds_an_amount_in_one_statement(db):
    cache = caches["ratelimit"]
    cache.clear()
    with CaptureQueriesContext(connection) as captured:
        assert [cache.hit("a:1", 60, n) for n in (5, 64, 1)] == [5, 69, 70]
    assert _counter_statements(captured) == 3
    cache.clear()


def test_clearing_the_store_forgets_the_leases(client_a, limits):
    limits(requests=10_000)
    assert set(_served(client_a, 2)) == {200}
    assert ratelimit._leases
    caches["ratelimit"].clear()
    assert not ratelimit._leases
