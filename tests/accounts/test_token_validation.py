"""Bearer-token validation: identity-provider tokens (§3.3) and our internal tokens (§3.2),
with the 401 wording the SDK interprets (§3.9)."""

from __future__ import annotations

import time
import uuid

import jwt
import pytest
from rest_framework.test import APIClient

from accounts.oidc import JwksCache
from accounts.tokens import signing_keys
from tests import factories
from tests.factories import bearer_client as bearer

pytestmark = pytest.mark.django_db

ME = "/api/v1/ui/me"


def detail_of(response) -> str:
    assert response.status_code == 401, response.content
    assert response["WWW-Authenticate"] == "Bearer"
    return response.json()["detail"]


# --- Identity-provider tokens -----------------------------------------------------------------


def test_valid_identity_provider_token(tenant_a, oidc_provider):
    response = bearer(oidc_provider.token("alice-sub")).get(ME)
    assert response.status_code == 200
    assert response.json()["user"]["id"] == str(tenant_a.user.id)


def test_expired_token(tenant_a, oidc_provider):
    token = oidc_provider.token("alice-sub", expires_in=-120)
    assert detail_of(bearer(token).get(ME)) == "Token has expired"


@pytest.mark.parametrize("aud", ["someone-else", ["a", "b"]])
def test_wrong_audience(aud, tenant_a, oidc_provider):
    message = detail_of(bearer(oidc_provider.token("alice-sub", aud=aud)).get(ME))
    assert message.startswith("Invalid audience")


@pytest.mark.parametrize("aud", [None, "stardag-ui", ["account", "stardag-sdk"]])
def test_accepted_audiences(aud, tenant_a, oidc_provider):
    assert bearer(oidc_provider.token("alice-sub", aud=aud)).get(ME).status_code == 200


def test_configured_audience_list(tenant_a, oidc_provider, settings):
    settings.OIDC_AUDIENCE = ["custom"]
    assert bearer(oidc_provider.token("alice-sub", aud="custom")).get(ME).status_code == 200
    assert bearer(oidc_provider.token("alice-sub")).get(ME).status_code == 401


def test_wrong_issuer(tenant_a, oidc_provider):
    token = oidc_provider.token("alice-sub", issuer="https://evil.example.com")
    assert detail_of(bearer(token).get(ME)).startswith("Invalid token")


def test_external_issuer_is_accepted(tenant_a, oidc_provider, settings):
    settings.OIDC_EXTERNAL_ISSUER_URL = "https://login.example.com/realms/stardag"
    token = oidc_provider.token("alice-sub", issuer="https://login.example.com/realms/stardag")
    assert bearer(token).get(ME).status_code == 200


def test_missing_kid(tenant_a, oidc_provider):
    assert detail_of(bearer(oidc_provider.token("alice-sub", kid="")).get(ME)).startswith(
        "Invalid token")


def test_unknown_kid_refetches_the_key_set_once(tenant_a, oidc_provider):
    assert bearer(oidc_provider.token("alice-sub")).get(ME).status_code == 200  # warm cache
    fetches = oidc_provider.jwks_requests
    oidc_provider.rotate()
    assert bearer(oidc_provider.token("alice-sub")).get(ME).status_code == 200
    assert oidc_provider.jwks_requests == fetches + 1
    assert bearer(oidc_provider.token("alice-sub")).get(ME).status_code == 200
    assert oidc_provider.jwks_requests == fetches + 1  # cached again


def test_kid_missing_after_refetch(tenant_a, oidc_provider):
    assert bearer(oidc_provider.token("alice-sub")).get(ME).status_code == 200
    fetches = oidc_provider.jwks_requests
    message = detail_of(bearer(oidc_provider.token("alice-sub", kid="ghost")).get(ME))
    assert message == "Unable to find key with ID: ghost"
    assert oidc_provider.jwks_requests == fetches + 1


def test_jwks_unreachable(tenant_a, oidc_provider, settings):
    settings.OIDC_JWKS_URL = "http://127.0.0.1:9/realms/stardag/protocol/openid-connect/certs"
    message = detail_of(bearer(oidc_provider.token("alice-sub")).get(ME))
    assert message == "Unable to validate token (JWKS fetch failed)"


def test_token_signed_by_another_key(tenant_a, oidc_provider):
    good = oidc_provider.token("alice-sub")
    header, payload, _ = good.split(".")
    forged = jwt.encode(jwt.decode(good, options={"verify_signature": False}),
                        signing_keys().private_key, algorithm="RS256",
                        headers={"kid": oidc_provider.kid})
    assert detail_of(bearer(forged).get(ME)).startswith("Invalid token")
    assert detail_of(bearer(f"{header}.{payload}.AAAA").get(ME)).startswith("Invalid token")


def test_garbage_token(db):
    assert detail_of(bearer("not-a-jwt").get(ME)).startswith("Invalid token")


def test_api_key_as_bearer_is_a_malformed_token(tenant_a):
    message = detail_of(bearer(tenant_a.api_key).get(ME))
    assert message.startswith("Invalid token")
    assert "api key" not in message.lower()


def test_missing_and_non_bearer_credentials(db):
    assert detail_of(APIClient().get(ME)).startswith("Not authenticated")
    basic = APIClient()
    basic.credentials(HTTP_AUTHORIZATION="Basic dXNlcjpwYXNz")
    assert detail_of(basic.get(ME)).startswith("Not authenticated")


# --- Internal tokens --------------------------------------------------------------------------


def internal(user, workspace, **overrides) -> str:
    keys = signing_keys()
    now = int(time.time())
    claims = {"sub": str(user.id), "workspace_id": str(workspace.id), "iss": "stardag-api",
              "aud": "stardag", "iat": now, "exp": now + 600, **overrides}
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, keys.private_key, algorithm="RS256",
                      headers={"kid": keys.kid, "typ": "JWT"})


def workspace_url(tenant) -> str:
    return f"/api/v1/ui/workspaces/{tenant.workspace.id}"


def test_internal_token_opens_workspace_endpoints(tenant_a):
    assert bearer(internal(tenant_a.user, tenant_a.workspace)).get(
        workspace_url(tenant_a)).status_code == 200
    lower = APIClient()
    lower.credentials(HTTP_AUTHORIZATION=f"bearer {tenant_a.token()}")
    assert lower.get(workspace_url(tenant_a)).status_code == 200


def test_expired_internal_token(tenant_a):
    past = int(time.time()) - 3600
    token = internal(tenant_a.user, tenant_a.workspace, iat=past - 600, exp=past)
    assert detail_of(bearer(token).get(workspace_url(tenant_a))) == "Token has expired"


def test_internal_token_within_clock_leeway(tenant_a):
    token = internal(tenant_a.user, tenant_a.workspace, exp=int(time.time()) - 20)
    assert bearer(token).get(workspace_url(tenant_a)).status_code == 200


@pytest.mark.parametrize("overrides", [
    {"iss": "someone-else"}, {"aud": "other"}, {"workspace_id": None}, {"sub": None},
    {"exp": None}, {"sub": "not-a-uuid"},
])
def test_invalid_internal_claims(tenant_a, overrides):
    token = internal(tenant_a.user, tenant_a.workspace, **overrides)
    assert detail_of(bearer(token).get(workspace_url(tenant_a))).startswith("Invalid token")


def test_tampered_internal_token(tenant_a, tenant_b):
    header, _, signature = tenant_a.token().split(".")
    _, other_payload, _ = factories.internal_token(tenant_b.user, tenant_a.workspace).split(".")
    tampered = f"{header}.{other_payload}.{signature}"
    assert detail_of(bearer(tampered).get(workspace_url(tenant_a))).startswith("Invalid token")


def test_internal_token_of_a_deleted_or_inactive_user(tenant_a):
    ghost = internal(tenant_a.user, tenant_a.workspace, sub=str(uuid.uuid4()))
    assert detail_of(bearer(ghost).get(workspace_url(tenant_a))) == "User not found"
    tenant_a.user.is_active = False
    tenant_a.user.save()
    assert detail_of(bearer(tenant_a.token()).get(workspace_url(tenant_a))) == (
        "User account is disabled")


def test_internal_token_works_on_me(tenant_a):
    response = tenant_a.jwt_client().get(ME)
    assert response.status_code == 200
    assert response.json()["user"]["email"] == "alice@example.com"


def test_made_up_key_ids_cannot_make_the_server_hammer_the_provider(tenant_a, oidc_provider):
    assert bearer(oidc_provider.token("alice-sub")).get(ME).status_code == 200
    fetches = oidc_provider.jwks_requests
    for n in range(20):
        response = bearer(oidc_provider.token("alice-sub", kid=f"ghost-{n}")).get(ME)
        assert response.status_code == 401
        assert detail_of(response) == f"Unable to find key with ID: ghost-{n}"
    assert oidc_provider.jwks_requests - fetches == JwksCache.ROTATION_REFETCHES_PER_MINUTE


def test_refetch_budget_does_not_depend_on_the_machine_uptime(tenant_a, oidc_provider,
                                                              monkeypatch):
    """The monotonic clock counts from boot. On a machine up for less than the cache TTL, a
    cleared cache used to look fresh, so the first token spent a rotation refetch and the test
    above counted 5 instead of 6 (seen on a fresh CI machine)."""
    uptime = [42.0]
    monkeypatch.setattr("accounts.oidc.time.monotonic", lambda: uptime[0])
    test_made_up_key_ids_cannot_make_the_server_hammer_the_provider(tenant_a, oidc_provider)
    uptime[0] += 61  # a minute later the budget is back
    fetches = oidc_provider.jwks_requests
    for n in range(3):
        bearer(oidc_provider.token("alice-sub", kid=f"later-{n}")).get(ME)
    assert oidc_provider.jwks_requests - fetches == 3


def test_expired_internal_token_on_me_says_expired(tenant_a):
    """/ui/me accepts both token kinds; an expired token of ours must still read "expired"."""
    past = int(time.time()) - 3600
    token = internal(tenant_a.user, tenant_a.workspace, iat=past - 600, exp=past)
    response = bearer(token).get(ME)
    assert response.status_code == 401
    assert detail_of(response) == "Token has expired"


# --- Verified-token cache (accounts.tokens._VERIFIED) -----------------------------------------


def test_a_token_verified_once_still_expires(tenant_a, monkeypatch):
    """The second use of a token skips the signature check, not the expiry check."""
    token = internal(tenant_a.user, tenant_a.workspace, exp=int(time.time()) + 5)
    assert bearer(token).get(workspace_url(tenant_a)).status_code == 200
    later = time.time() + 5 + 61  # past exp and the 60 s leeway
    monkeypatch.setattr("accounts.tokens.time.time", lambda: later)
    assert detail_of(bearer(token).get(workspace_url(tenant_a))) == "Token has expired"


def test_a_verified_token_altered_by_one_character_is_refused(tenant_a):
    token = internal(tenant_a.user, tenant_a.workspace)
    assert bearer(token).get(workspace_url(tenant_a)).status_code == 200
    header, payload, signature = token.split(".")
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    message = detail_of(bearer(f"{header}.{payload}.{flipped}").get(workspace_url(tenant_a)))
    assert message.startswith("Invalid token")


def test_a_verified_token_is_refused_once_its_key_is_rotated_out(tenant_a, settings):
    """A cached verification holds only for the signing keys it was checked against."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    token = internal(tenant_a.user, tenant_a.workspace)
    assert bearer(token).get(workspace_url(tenant_a)).status_code == 200
    new_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    settings.JWT_PRIVATE_KEY = new_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()).decode()
    settings.JWT_KEY_ID = ""
    settings.JWT_ADDITIONAL_PUBLIC_KEYS = ""
    signing_keys.cache_clear()
    try:
        message = detail_of(bearer(token).get(workspace_url(tenant_a)))
    finally:
        signing_keys.cache_clear()
    assert message == "Invalid token: unknown signing key"


def test_a_verified_token_is_refused_when_the_issuer_changes(tenant_a, settings):
    token = internal(tenant_a.user, tenant_a.workspace)
    assert bearer(token).get(workspace_url(tenant_a)).status_code == 200
    settings.JWT_ISSUER = "another-issuer"
    message = detail_of(bearer(token).get(workspace_url(tenant_a)))
    assert message.startswith("Invalid"), message
    assert "issuer" in message.lower(), message
