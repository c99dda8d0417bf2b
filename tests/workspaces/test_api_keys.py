"""API keys: list, create (shown once), revoke (idempotent) — contract §2.6, §4.8."""

from __future__ import annotations

import re
import uuid

import pytest

from tests import factories
from tests.workspaces.helpers import detail
from workspaces.api_keys import hash_api_key
from workspaces.models import ApiKey

pytestmark = pytest.mark.django_db

ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


def keys_url(prefix, environment):
    return (f"{prefix}/workspaces/{environment.workspace_id}/environments/{environment.id}"
            "/api-keys")


def test_admin_creates_a_key_and_sees_it_once(prefix, tenant_a, admin_member_client):
    response = admin_member_client.post(keys_url(prefix, tenant_a.environment), {"name": "CI"},
                                        format="json")
    assert response.status_code == 201
    body = response.json()
    raw = body["key"]
    env_hex = str(tenant_a.environment.id).replace("-", "")[:6]
    assert re.fullmatch(rf"sk_{env_hex}_[A-Za-z0-9_-]{{32}}", raw)
    assert len(raw) == 42
    assert body["key_prefix"] == raw[3:11]
    stored = ApiKey.objects.get(pk=body["id"])
    assert stored.key_hash == hash_api_key(raw)
    assert raw not in (stored.key_hash, stored.key_prefix)
    assert body["environment_id"] == str(tenant_a.environment.id)
    assert body["created_by_id"] == str(stored.created_by_id)
    assert ISO_UTC.match(body["created_at"])
    assert (body["last_used_at"], body["revoked_at"]) == (None, None)
    listed = admin_member_client.get(keys_url(prefix, tenant_a.environment)).json()
    assert all("key" not in item and "key_hash" not in item for item in listed)


def test_every_create_makes_a_new_key(tenant_a):
    client = tenant_a.jwt_client()
    url = keys_url("/api/v1", tenant_a.environment)
    first = client.post(url, {"name": "same"}, format="json").json()
    second = client.post(url, {"name": "same"}, format="json").json()
    assert first["id"] != second["id"]
    assert first["key"] != second["key"]


def test_member_lists_keys_newest_first_without_revoked(prefix, tenant_a, plain_member_client,
                                                        django_assert_max_num_queries):
    older = factories.make_api_key(tenant_a.environment, "older")
    revoked = ApiKey.objects.get(key_hash=hash_api_key(older))
    revoked.revoked_at = revoked.created_at
    revoked.save()
    factories.make_api_key(tenant_a.environment, "newest")
    url = keys_url(prefix, tenant_a.environment)
    with django_assert_max_num_queries(4):
        response = plain_member_client.get(url)
    assert response.status_code == 200
    assert [k["name"] for k in response.json()] == ["newest", "test key"]
    everything = plain_member_client.get(url, {"include_revoked": "TRUE"}).json()
    assert [k["name"] for k in everything] == ["newest", "older", "test key"]
    assert everything[1]["revoked_at"] is not None
    assert plain_member_client.get(url, {"include_revoked": "no"}).json() == response.json()


def test_include_revoked_must_be_boolean(tenant_a):
    response = tenant_a.jwt_client().get(keys_url("/api/v1", tenant_a.environment),
                                         {"include_revoked": "maybe"})
    assert response.status_code == 422
    assert detail(response)[0]["loc"] == ["query", "include_revoked"]
    assert detail(response)[0]["type"] == "bool_parsing"


def test_member_may_not_create_or_revoke(prefix, tenant_a, plain_member_client):
    key = ApiKey.objects.get(environment=tenant_a.environment)
    url = keys_url(prefix, tenant_a.environment)
    for response in (plain_member_client.post(url, {"name": "x"}, format="json"),
                     plain_member_client.delete(f"{url}/{key.id}")):
        assert response.status_code == 403
        assert detail(response) == "Requires admin role or higher"


def test_name_is_required(tenant_a):
    url = keys_url("/api/v1/ui", tenant_a.environment)
    response = tenant_a.jwt_client().post(url, {}, format="json")
    assert response.status_code == 422
    assert detail(response)[0]["loc"] == ["body", "name"]
    response = tenant_a.jwt_client().post(url)
    assert detail(response)[0]["loc"] == ["body"]


def test_revoke_is_idempotent_and_keeps_first_time(prefix, tenant_a, admin_member_client, client_a):
    key = ApiKey.objects.get(environment=tenant_a.environment)
    url = f"{keys_url(prefix, tenant_a.environment)}/{key.id}"
    assert client_a.get("/api/v1/target-roots").status_code == 200
    assert admin_member_client.delete(url).status_code == 204
    key.refresh_from_db()
    first = key.revoked_at
    assert first is not None
    response = admin_member_client.delete(url)
    assert response.status_code == 204
    key.refresh_from_db()
    assert key.revoked_at == first
    rejected = client_a.get("/api/v1/target-roots")
    assert rejected.status_code == 401
    assert detail(rejected) == "Invalid API key"


def test_revoke_key_of_another_environment_is_404(prefix, tenant_a, tenant_b):
    other_env = factories.make_environment(tenant_a.workspace, "other")
    other_key = ApiKey.objects.get(key_hash=hash_api_key(factories.make_api_key(other_env)))
    bob_key = ApiKey.objects.get(environment=tenant_b.environment)
    client = tenant_a.jwt_client()
    for key_id in (other_key.id, bob_key.id, uuid.uuid4()):
        response = client.delete(f"{keys_url(prefix, tenant_a.environment)}/{key_id}")
        assert response.status_code == 404
        assert detail(response) == "API key not found"
    assert ApiKey.objects.filter(revoked_at__isnull=False).count() == 0


def test_environment_outside_workspace_is_404(prefix, tenant_a, tenant_b):
    bob_key = ApiKey.objects.get(environment=tenant_b.environment)
    url = (f"{prefix}/workspaces/{tenant_a.workspace.id}/environments/"
           f"{tenant_b.environment.id}/api-keys")
    client = tenant_a.jwt_client()
    for response in (client.get(url), client.post(url, {"name": "x"}, format="json"),
                     client.delete(f"{url}/{bob_key.id}")):
        assert response.status_code == 404
        assert detail(response) == "Environment not found"


def test_malformed_key_id_is_422(prefix, tenant_a):
    response = tenant_a.jwt_client().delete(f"{keys_url(prefix, tenant_a.environment)}/k")
    assert response.status_code == 422
    assert detail(response)[0]["loc"] == ["path", "key_id"]
