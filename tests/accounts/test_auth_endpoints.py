"""JWKS, auth config and token exchange, under every alias (contract §4.2)."""

from __future__ import annotations

import uuid

import jwt
import pytest

from accounts.models import User
from accounts.tokens import decode_access_token, signing_keys
from tests import factories
from tests.factories import bearer_client as bearer
from workspaces.models import Workspace

pytestmark = pytest.mark.django_db

JWKS_PATHS = ["/.well-known/jwks.json", "/api/v1/.well-known/jwks.json"]
CONFIG_PATHS = ["/api/v1/auth/config", "/auth/config"]
EXCHANGE_PATHS = ["/api/v1/auth/exchange", "/auth/exchange"]


@pytest.mark.parametrize("path", JWKS_PATHS)
def test_jwks_publishes_the_signing_key(path, anon_client, tenant_a):
    response = anon_client.get(path)
    assert response.status_code == 200
    [key] = response.json()["keys"]
    assert {k: key[k] for k in ("kty", "use", "alg", "e")} == {
        "kty": "RSA", "use": "sig", "alg": "RS256", "e": "AQAB"}
    assert key["kid"] == signing_keys().kid
    assert "=" not in key["n"]
    public_key = jwt.PyJWK(key).key
    claims = jwt.decode(tenant_a.token(), public_key, algorithms=["RS256"], audience="stardag")
    assert claims["sub"] == str(tenant_a.user.id)


@pytest.mark.parametrize("path", CONFIG_PATHS)
def test_auth_config(path, anon_client, settings):
    settings.OIDC_ISSUER_URL = "http://keycloak:8080/realms/stardag"
    settings.OIDC_EXTERNAL_ISSUER_URL = ""
    settings.OIDC_SDK_CLIENT_ID = "stardag-sdk"
    assert anon_client.get(path).json() == {
        "oidc_issuer": "http://keycloak:8080/realms/stardag", "oidc_client_id": "stardag-sdk"}
    settings.OIDC_EXTERNAL_ISSUER_URL = "https://login.example.com/realms/stardag"
    settings.OIDC_SDK_CLIENT_ID = "cli"
    assert anon_client.get(path).json() == {
        "oidc_issuer": "https://login.example.com/realms/stardag", "oidc_client_id": "cli"}


@pytest.mark.parametrize("path", EXCHANGE_PATHS)
def test_exchange_mints_a_workspace_token(path, tenant_a, oidc_provider):
    response = bearer(oidc_provider.token("alice-sub")).post(
        path, {"workspace_id": str(tenant_a.workspace.id)}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    claims = decode_access_token(body["access_token"])
    assert claims["sub"] == str(tenant_a.user.id)
    assert claims["workspace_id"] == str(tenant_a.workspace.id)
    assert (claims["iss"], claims["aud"], claims["exp"] - claims["iat"]) == (
        "stardag-api", "stardag", 3600)
    header = jwt.get_unverified_header(body["access_token"])
    assert (header["alg"], header["typ"], header["kid"]) == ("RS256", "JWT", signing_keys().kid)
    workspace = bearer(body["access_token"]).get(
        f"/api/v1/ui/workspaces/{tenant_a.workspace.id}")
    assert workspace.status_code == 200


def test_exchange_ttl_follows_settings(tenant_a, oidc_provider, settings):
    settings.JWT_ACCESS_TOKEN_TTL_MINUTES = 240
    response = bearer(oidc_provider.token("alice-sub")).post(
        "/api/v1/auth/exchange", {"workspace_id": str(tenant_a.workspace.id)}, format="json")
    assert response.json()["expires_in"] == 14400


def test_each_exchange_is_a_fresh_token(tenant_a, oidc_provider):
    client = bearer(oidc_provider.token("alice-sub"))
    body = {"workspace_id": str(tenant_a.workspace.id)}
    first = client.post("/api/v1/auth/exchange", body, format="json").json()["access_token"]
    second = client.post("/auth/exchange", body, format="json").json()["access_token"]
    assert first != second
    assert decode_access_token(first)["sub"] == decode_access_token(second)["sub"]


@pytest.mark.parametrize("path", EXCHANGE_PATHS)
def test_exchange_provisions_a_new_user(path, oidc_provider):
    client = bearer(oidc_provider.token("dave-sub", email="dave@example.com", name="Dave"))
    response = client.post(path, {"workspace_id": str(uuid.uuid4())}, format="json")
    assert response.status_code == 403
    personal = Workspace.objects.get(created_by__external_id="dave-sub")
    assert (personal.is_personal, personal.slug, personal.name) == (
        True, "dave", "Dave's Workspace")
    response = client.post(path, {"workspace_id": str(personal.id)}, format="json")
    assert response.status_code == 200


@pytest.mark.parametrize("path", EXCHANGE_PATHS)
def test_exchange_for_a_foreign_or_unknown_workspace_is_403(path, tenant_a, tenant_b,
                                                            oidc_provider):
    client = bearer(oidc_provider.token("alice-sub"))
    for workspace_id in (tenant_b.workspace.id, uuid.uuid4()):
        response = client.post(path, {"workspace_id": str(workspace_id)}, format="json")
        assert response.status_code == 403
        assert response.json() == {"detail": "Not a member of the requested workspace"}


@pytest.mark.parametrize(("body", "type_"), [
    ({}, "missing"), ({"workspace_id": "nope"}, "uuid_parsing"),
    ({"workspace_id": 12}, "uuid_parsing"),
])
def test_exchange_validates_the_body(body, type_, tenant_a, oidc_provider):
    response = bearer(oidc_provider.token("alice-sub")).post("/api/v1/auth/exchange", body,
                                                             format="json")
    assert response.status_code == 422
    [item] = response.json()["detail"]
    assert (item["loc"], item["type"]) == (["body", "workspace_id"], type_)


def test_exchange_without_body_is_422(tenant_a, oidc_provider):
    response = bearer(oidc_provider.token("alice-sub")).post("/api/v1/auth/exchange")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body"]


@pytest.mark.parametrize("path", EXCHANGE_PATHS)
def test_exchange_without_token_is_401(path, anon_client):
    response = anon_client.post(path, {"workspace_id": str(uuid.uuid4())}, format="json")
    assert response.status_code == 401
    assert response.json()["detail"].startswith("Not authenticated")
    assert response["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize("path", EXCHANGE_PATHS)
def test_exchange_rejects_internal_tokens(path, tenant_a):
    response = tenant_a.jwt_client().post(path, {"workspace_id": str(tenant_a.workspace.id)},
                                          format="json")
    assert response.status_code == 401
    assert response.json()["detail"].startswith("Invalid token")


def test_exchange_without_email_on_first_contact_is_400(oidc_provider):
    response = bearer(oidc_provider.token("nomail-sub", email=None)).post(
        "/api/v1/auth/exchange", {"workspace_id": str(uuid.uuid4())}, format="json")
    assert response.status_code == 400
    assert response.json() == {"detail": "Token must contain email claim for user creation"}
    assert not User.objects.filter(external_id="nomail-sub").exists()


def test_exchange_with_unverified_email_collision_is_409(tenant_a, oidc_provider):
    token = oidc_provider.token("other-sub", email="ALICE@example.com", email_verified=False)
    response = bearer(token).post("/auth/exchange",
                                  {"workspace_id": str(tenant_a.workspace.id)}, format="json")
    assert response.status_code == 409
    assert response.json() == {"detail": "Email already registered to another identity"}
    tenant_a.user.refresh_from_db()
    assert tenant_a.user.external_id == "alice-sub"


def test_exchange_with_verified_email_relinks_the_user(tenant_a, oidc_provider):
    token = oidc_provider.token("new-idp-sub", email="alice@example.com")
    response = bearer(token).post("/auth/exchange",
                                  {"workspace_id": str(tenant_a.workspace.id)}, format="json")
    assert response.status_code == 200
    tenant_a.user.refresh_from_db()
    assert tenant_a.user.external_id == "new-idp-sub"
    assert decode_access_token(response.json()["access_token"])["sub"] == str(tenant_a.user.id)


def test_exchange_for_a_workspace_joined_later(tenant_a, tenant_b, oidc_provider):
    factories.add_member(tenant_b.workspace, tenant_a.user)
    response = bearer(oidc_provider.token("alice-sub")).post(
        "/api/v1/auth/exchange", {"workspace_id": str(tenant_b.workspace.id)}, format="json")
    assert response.status_code == 200
