"""A slow identity provider must not stall workers (issue 8, item 5).

Before the fix the JWKS refresh held a process-wide lock during the HTTP fetch and a failed
refresh dropped the cached keys: four logins against a hanging provider finished after 1, 2, 3
and 4 timeouts, and every login failed while the provider was down. Now the fetch runs outside
the lock (one in flight), a request whose key is cached never waits, and the last good key set
serves while refreshes fail. The tests use real threads against the local provider's real HTTP
endpoint, made to hang or fail.
"""

from __future__ import annotations

import threading
import time

import pytest

from accounts.oidc import JwksCache, OidcTokenError, jwks_cache, verify_oidc_token
from tests.concurrency import run_threads
from tests.factories import bearer_client

FETCH_FAILED = "Unable to validate token (JWKS fetch failed)"


def timed_verify(token: str) -> tuple[float, str]:
    """Seconds one verification took, and "ok" or the 401 detail."""
    started = time.monotonic()
    try:
        verify_oidc_token(token)
        outcome = "ok"
    except OidcTokenError as exc:
        outcome = str(exc)
    return time.monotonic() - started, outcome


def wait_for_requests(provider, count: int, seconds: float = 5) -> int:
    """The provider's request count once it reached ``count`` (a background fetch may not
    have connected yet), or after ``seconds``."""
    deadline = time.monotonic() + seconds
    while provider.jwks_requests < count and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.1)  # and a moment for any further (unwanted) fetch to show up
    return provider.jwks_requests


def wait_for_idle_cache(seconds: float = 10) -> None:
    """Until no background fetch is in flight (its outcome is then recorded)."""
    deadline = time.monotonic() + seconds
    while jwks_cache._in_flight is not None and time.monotonic() < deadline:
        time.sleep(0.02)


def test_cold_cache_logins_share_one_fetch_and_do_not_serialize(oidc_provider, settings):
    settings.OIDC_JWKS_TIMEOUT = 1
    oidc_provider.hang()
    before = oidc_provider.jwks_requests
    results = run_threads(4, lambda i: timed_verify(oidc_provider.token(f"user-{i}")))
    assert [outcome for _, outcome in results] == [FETCH_FAILED] * 4
    # One fetch, and everyone waited for that one: about one timeout, not 1, 2, 3, 4 timeouts.
    assert max(elapsed for elapsed, _ in results) < 2.5, results
    assert oidc_provider.jwks_requests - before == 1


def test_cold_cache_logins_all_get_the_keys_of_one_fetch(oidc_provider):
    before = oidc_provider.jwks_requests
    results = run_threads(4, lambda i: timed_verify(oidc_provider.token(f"user-{i}")))
    assert [outcome for _, outcome in results] == ["ok"] * 4
    assert oidc_provider.jwks_requests - before == 1


def test_stale_keys_serve_at_once_while_the_provider_hangs(oidc_provider, settings):
    settings.OIDC_JWKS_TIMEOUT = 3
    assert timed_verify(oidc_provider.token())[1] == "ok"  # warm
    settings.OIDC_JWKS_CACHE_TTL = 0  # every later request finds the set stale
    oidc_provider.hang()
    before = oidc_provider.jwks_requests
    results = run_threads(4, lambda i: timed_verify(oidc_provider.token(f"user-{i}")))
    assert [outcome for _, outcome in results] == ["ok"] * 4
    assert max(elapsed for elapsed, _ in results) < 1.0, results
    assert wait_for_requests(oidc_provider, before + 1) - before == 1  # one refresh, not four


def test_last_good_key_set_serves_while_refreshes_fail(oidc_provider, settings):
    assert timed_verify(oidc_provider.token())[1] == "ok"
    settings.OIDC_JWKS_CACHE_TTL = 0
    oidc_provider.fail()
    before = oidc_provider.jwks_requests
    assert timed_verify(oidc_provider.token())[1] == "ok"  # starts a refresh; serves the cache
    wait_for_idle_cache()
    assert oidc_provider.jwks_requests - before == 1
    for _ in range(5):  # the refresh failed: keep serving, and do not hammer the provider
        assert timed_verify(oidc_provider.token())[1] == "ok"
    assert oidc_provider.jwks_requests - before == 1
    assert jwks_cache._retry_at > time.monotonic() + JwksCache.FAILED_REFRESH_RETRY_SECONDS - 5


def test_unknown_key_id_fetch_does_not_hold_up_known_keys(oidc_provider, settings):
    """A rotation refetch for one request (the provider hangs) leaves other logins alone."""
    settings.OIDC_JWKS_TIMEOUT = 3
    assert timed_verify(oidc_provider.token())[1] == "ok"
    oidc_provider.hang()
    waiting = threading.Thread(target=timed_verify,
                               args=(oidc_provider.token(kid="rotated-away"),))
    waiting.start()
    try:
        deadline = time.monotonic() + 5
        while jwks_cache._in_flight is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert jwks_cache._in_flight is not None
        elapsed, outcome = timed_verify(oidc_provider.token())
        assert (outcome, elapsed < 1.0) == ("ok", True), elapsed
    finally:
        oidc_provider.recover()
        waiting.join(timeout=10)


@pytest.mark.django_db(transaction=True)
def test_http_logins_and_api_key_requests_stay_fast_on_a_hanging_provider(
        oidc_provider, settings, tenant_a):
    """Over the HTTP stack, with real threads: identity-provider logins and API-key requests
    run side by side while the provider hangs; none of them waits on it."""
    settings.OIDC_JWKS_TIMEOUT = 3
    idp = bearer_client(oidc_provider.token("alice-sub"))
    key = tenant_a.key_client()
    assert idp.get("/api/v1/ui/me").status_code == 200  # warm key cache, user provisioned
    assert key.get("/api/v1/target-roots").status_code == 200  # key's last_used_at written
    settings.OIDC_JWKS_CACHE_TTL = 0
    oidc_provider.hang()

    def request(i: int) -> tuple[float, int]:
        started = time.monotonic()
        if i % 2:
            status = key.get("/api/v1/target-roots").status_code
        else:
            status = bearer_client(oidc_provider.token("alice-sub")).get(
                "/api/v1/ui/me").status_code
        return time.monotonic() - started, status

    results = run_threads(8, request)
    assert [status for _, status in results] == [200] * 8
    assert max(elapsed for elapsed, _ in results) < 2.0, results
