"""Rate limiting (contract §8.6, issue 11): per credential, shared store, the contract's 429."""

from __future__ import annotations

import pytest
from django.core.cache import caches

from locks.models import Lock


@pytest.fixture
def limits(db, settings):
    """A tight limit on a fresh store; ``limits(requests=..., failed=..., anonymous=...)``."""
    caches["ratelimit"].clear()

    def configure(*, requests: int = 0, failed: int = 0, anonymous: int = 0,
                  window: int = 3600) -> None:
        settings.RATE_LIMIT_REQUESTS = requests
        settings.RATE_LIMIT_FAILED_AUTH = failed
        settings.RATE_LIMIT_ANONYMOUS_REQUESTS = anonymous
        settings.RATE_LIMIT_WINDOW_SECONDS = window

    yield configure
    caches["ratelimit"].clear()


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
