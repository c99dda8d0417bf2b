"""Identity-provider token checks of issue 8, item 14: a small clock leeway, ``azp`` checked
when ``aud`` is absent, and a timeout on every call the admin's SSO login makes."""

from __future__ import annotations

import threading
import time

import pytest
import requests

from accounts.oidc import AdminOIDCBackend
from tests.factories import bearer_client as bearer
from tests.oidc_provider import LocalJsonServer

pytestmark = pytest.mark.django_db

ME = "/api/v1/ui/me"


def status_and_detail(response) -> tuple[int, str | None]:
    body = response.json()
    return response.status_code, body.get("detail") if isinstance(body, dict) else None


# --- Clock leeway -----------------------------------------------------------------------------


def test_token_expired_within_the_leeway_is_accepted(tenant_a, oidc_provider):
    token = oidc_provider.token("alice-sub", expires_in=-10)
    assert bearer(token).get(ME).status_code == 200


def test_token_issued_by_a_clock_slightly_ahead_is_accepted(tenant_a, oidc_provider):
    ahead = int(time.time()) + 10
    token = oidc_provider.token("alice-sub", iat=ahead, nbf=ahead)
    assert bearer(token).get(ME).status_code == 200


def test_token_expired_beyond_the_leeway_is_refused(tenant_a, oidc_provider):
    token = oidc_provider.token("alice-sub", expires_in=-45)
    assert status_and_detail(bearer(token).get(ME)) == (401, "Token has expired")


def test_token_not_yet_valid_beyond_the_leeway_is_refused(tenant_a, oidc_provider):
    token = oidc_provider.token("alice-sub", nbf=int(time.time()) + 120)
    status, detail = status_and_detail(bearer(token).get(ME))
    assert status == 401 and detail.startswith("Invalid token")


def test_leeway_is_configurable(tenant_a, oidc_provider, settings):
    assert settings.OIDC_CLOCK_LEEWAY_SECONDS == 30  # the default (env OIDC_CLOCK_LEEWAY_SECONDS)
    settings.OIDC_CLOCK_LEEWAY_SECONDS = 0
    token = oidc_provider.token("alice-sub", expires_in=-10)
    assert status_and_detail(bearer(token).get(ME)) == (401, "Token has expired")
    settings.OIDC_CLOCK_LEEWAY_SECONDS = 120
    token = oidc_provider.token("alice-sub", expires_in=-90)
    assert bearer(token).get(ME).status_code == 200


# --- azp when aud is absent -------------------------------------------------------------------


def test_token_without_aud_issued_to_another_client_is_refused(tenant_a, oidc_provider):
    token = oidc_provider.token("alice-sub", aud=None, azp="some-other-app")
    status, detail = status_and_detail(bearer(token).get(ME))
    assert status == 401 and detail.startswith("Invalid audience")


@pytest.mark.parametrize("azp", ["stardag-sdk", "stardag-ui"])
def test_token_without_aud_issued_to_our_client_is_accepted(tenant_a, oidc_provider, azp):
    assert bearer(oidc_provider.token("alice-sub", aud=None, azp=azp)).get(ME).status_code == 200


def test_accepted_aud_decides_whatever_azp_says(tenant_a, oidc_provider):
    """``azp`` names the client that asked for the token; an ``aud`` that names us is enough
    (and one that does not is refused whatever ``azp`` says)."""
    ok = oidc_provider.token("alice-sub", aud=["account", "stardag-sdk"], azp="web-portal")
    assert bearer(ok).get(ME).status_code == 200
    wrong = oidc_provider.token("alice-sub", aud="account", azp="stardag-sdk")
    assert status_and_detail(bearer(wrong).get(ME))[0] == 401


# --- Admin SSO: every call to the provider has a timeout ---------------------------------------


@pytest.fixture
def hanging_provider(settings):
    """Token (POST), userinfo and JWKS (GET) endpoints that answer only after 20 s."""
    release = threading.Event()

    def hang(_request):
        release.wait(timeout=20)
        return 200, b"{}"

    post, get = LocalJsonServer(hang, method="POST"), LocalJsonServer(hang)
    settings.OIDC_OP_TOKEN_ENDPOINT = f"{post.url}/token"
    settings.OIDC_OP_USER_ENDPOINT = f"{get.url}/userinfo"
    settings.OIDC_OP_JWKS_ENDPOINT = f"{get.url}/certs"
    settings.OIDC_RP_CLIENT_ID = "stardag-admin"
    settings.OIDC_RP_CLIENT_SECRET = "secret"
    yield
    release.set()
    post.close()
    get.close()


def test_admin_sso_calls_to_the_provider_time_out(hanging_provider, settings):
    assert settings.OIDC_TIMEOUT == 10  # the default (env OIDC_ADMIN_SSO_TIMEOUT)
    settings.OIDC_TIMEOUT = 1
    backend = AdminOIDCBackend()
    calls = {
        "token": lambda: backend.get_token({"code": "c", "grant_type": "authorization_code"}),
        "userinfo": lambda: backend.get_userinfo("access", "id", {}),
        "jwks": lambda: backend.retrieve_matching_jwk("x.y.z"),
    }
    outcomes: dict[str, tuple[float, str]] = {}

    def run(name: str) -> None:
        started = time.monotonic()
        try:
            calls[name]()
            outcomes[name] = (time.monotonic() - started, "answered")
        except requests.exceptions.Timeout:
            outcomes[name] = (time.monotonic() - started, "timed out")

    threads = [threading.Thread(target=run, args=(name,), daemon=True) for name in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=8)
    assert {name: outcome for name, (_, outcome) in outcomes.items()} == {
        name: "timed out" for name in calls}
    assert max(elapsed for elapsed, _ in outcomes.values()) < 5
