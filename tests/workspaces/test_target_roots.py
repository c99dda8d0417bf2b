"""Target roots: per-environment CRUD, the legacy workspace list and the SDK endpoint
(contract §2.7, §4.9, §9)."""

from __future__ import annotations

import re
import uuid

import pytest

from tests import factories
from tests.workspaces.helpers import detail
from workspaces.models import TargetRoot

pytestmark = pytest.mark.django_db


def roots_url(prefix, environment):
    return (f"{prefix}/workspaces/{environment.workspace_id}/environments/{environment.id}"
            "/target-roots")


def make_root(environment, name="default", uri="s3://bucket/prefix/"):
    return TargetRoot.objects.create(environment=environment, name=name, uri_prefix=uri)


def test_list_roots_oldest_first(prefix, tenant_a, plain_member_client,
                                 django_assert_max_num_queries):
    first = make_root(tenant_a.environment)
    make_root(tenant_a.environment, "archive", "/mnt/archive")
    with django_assert_max_num_queries(4):
        response = plain_member_client.get(roots_url(prefix, tenant_a.environment))
    assert response.status_code == 200
    body = response.json()
    assert [r["name"] for r in body] == ["default", "archive"]
    assert body[0] == {"id": str(first.id), "environment_id": str(tenant_a.environment.id),
                       "name": "default", "uri_prefix": "s3://bucket/prefix/",
                       "created_at": body[0]["created_at"]}
    assert re.match(r"^\d{4}-.*\.\d{6}Z$", body[0]["created_at"])


def test_admin_creates_updates_and_deletes_a_root(prefix, tenant_a, admin_member_client):
    url = roots_url(prefix, tenant_a.environment)
    created = admin_member_client.post(url, {"name": "default", "uri_prefix": "~/out/"},
                                       format="json")
    assert created.status_code == 201
    root_url = f"{url}/{created.json()['id']}"
    assert admin_member_client.get(root_url).json()["uri_prefix"] == "~/out/"  # stored verbatim
    updated = admin_member_client.patch(root_url, {"uri_prefix": "s3://b/p"}, format="json")
    assert updated.status_code == 200
    assert (updated.json()["name"], updated.json()["uri_prefix"]) == ("default", "s3://b/p")
    renamed = admin_member_client.patch(root_url, {"name": "main", "uri_prefix": None},
                                        format="json")
    assert (renamed.json()["name"], renamed.json()["uri_prefix"]) == ("main", "s3://b/p")
    assert admin_member_client.delete(root_url).status_code == 204
    assert not TargetRoot.objects.filter(environment=tenant_a.environment).exists()
    missing = admin_member_client.get(root_url)
    assert missing.status_code == 404
    assert detail(missing) == "Target root not found"


def test_root_names_are_unique_per_environment(prefix, tenant_a):
    make_root(tenant_a.environment)
    other = make_root(tenant_a.environment, "other", "/o")
    client = tenant_a.jwt_client()
    url = roots_url(prefix, tenant_a.environment)
    response = client.post(url, {"name": "default", "uri_prefix": "/x"}, format="json")
    assert response.status_code == 409
    assert detail(response) == "Target root with name 'default' already exists"
    response = client.patch(f"{url}/{other.id}", {"name": "default"}, format="json")
    assert response.status_code == 409
    assert detail(response) == "Target root with name 'default' already exists"
    staging = factories.make_environment(tenant_a.workspace, "staging")
    ok = client.post(roots_url(prefix, staging), {"name": "default", "uri_prefix": "/x"},
                     format="json")
    assert ok.status_code == 201


@pytest.mark.parametrize(("body", "loc"), [
    ({"uri_prefix": "/x"}, ["body", "name"]),
    ({"name": "n"}, ["body", "uri_prefix"]),
    ({"name": "n", "uri_prefix": ""}, ["body", "uri_prefix"]),
    ({"name": "n", "uri_prefix": "x" * 513}, ["body", "uri_prefix"]),
    ({"name": "n" * 256, "uri_prefix": "/x"}, ["body", "name"]),
])
def test_root_body_is_validated(tenant_a, body, loc):
    response = tenant_a.jwt_client().post(roots_url("/api/v1/ui", tenant_a.environment), body,
                                          format="json")
    assert response.status_code == 422
    [item] = detail(response)
    assert item["loc"] == loc


def test_member_may_read_but_not_write(prefix, tenant_a, plain_member_client):
    root = make_root(tenant_a.environment)
    url = roots_url(prefix, tenant_a.environment)
    assert plain_member_client.get(f"{url}/{root.id}").status_code == 200
    for response in (
        plain_member_client.post(url, {"name": "n", "uri_prefix": "/x"}, format="json"),
        plain_member_client.patch(f"{url}/{root.id}", {"name": "n"}, format="json"),
        plain_member_client.delete(f"{url}/{root.id}"),
    ):
        assert response.status_code == 403
        assert detail(response) == "Requires admin role or higher"


def test_root_of_another_environment_is_not_found(prefix, tenant_a, tenant_b):
    staging = factories.make_environment(tenant_a.workspace, "staging")
    mine_elsewhere = make_root(staging)
    bobs = make_root(tenant_b.environment)
    client = tenant_a.jwt_client()
    url = roots_url(prefix, tenant_a.environment)
    for root_id in (mine_elsewhere.id, bobs.id, uuid.uuid4()):
        for method in ("get", "patch", "delete"):
            response = getattr(client, method)(f"{url}/{root_id}", {"name": "x"}, format="json")
            assert response.status_code == 404
            assert detail(response) == "Target root not found"
    assert TargetRoot.objects.filter(name="default").count() == 2


def test_malformed_root_id_is_422(prefix, tenant_a):
    response = tenant_a.jwt_client().get(f"{roots_url(prefix, tenant_a.environment)}/r")
    assert response.status_code == 422
    assert detail(response)[0]["loc"] == ["path", "root_id"]


def test_legacy_workspace_target_roots(prefix, tenant_a, tenant_b, plain_member_client,
                                       django_assert_max_num_queries):
    staging = factories.make_environment(tenant_a.workspace, "staging")
    first = make_root(tenant_a.environment)
    second = make_root(staging, "default", "s3://staging/")
    make_root(tenant_b.environment)
    with django_assert_max_num_queries(3):
        response = plain_member_client.get(f"{prefix}/workspaces/{tenant_a.workspace.id}"
                                           "/target-roots")
    assert response.status_code == 200
    assert [(r["id"], r["environment_id"]) for r in response.json()] == [
        (str(first.id), str(tenant_a.environment.id)), (str(second.id), str(staging.id))]
    hidden = tenant_a.jwt_client().get(f"{prefix}/workspaces/{tenant_b.workspace.id}"
                                       "/target-roots")
    assert hidden.status_code == 404


def test_sdk_target_roots_with_api_key(tenant_a, tenant_b, client_a,
                                       django_assert_max_num_queries):
    make_root(tenant_a.environment)
    make_root(tenant_a.environment, "archive", "/mnt/a")
    make_root(tenant_b.environment, "bobs", "/mnt/b")
    make_root(factories.make_environment(tenant_a.workspace, "staging"), "staging", "/s")
    with django_assert_max_num_queries(3):
        response = client_a.get("/api/v1/target-roots", {"environment_id": "ignored"})
    assert response.status_code == 200
    assert response.json() == [{"name": "default", "uri_prefix": "s3://bucket/prefix/"},
                               {"name": "archive", "uri_prefix": "/mnt/a"}]


def test_sdk_target_roots_with_internal_token(tenant_a, tenant_b):
    staging = factories.make_environment(tenant_a.workspace, "staging")
    make_root(staging, "s", "/s")
    client = tenant_a.jwt_client()
    by_id = client.get("/api/v1/target-roots", {"environment_id": str(staging.id)})
    by_slug = client.get("/api/v1/target-roots", {"environment_id": "staging"})
    assert by_id.json() == by_slug.json() == [{"name": "s", "uri_prefix": "/s"}]
    missing = client.get("/api/v1/target-roots")
    assert missing.status_code == 400
    assert detail(missing) == "environment_id is required when using JWT authentication"
    foreign = client.get("/api/v1/target-roots", {"environment_id": str(tenant_b.environment.id)})
    assert foreign.status_code == 403
    assert detail(foreign) == "Environment does not belong to your workspace"
    unknown = client.get("/api/v1/target-roots", {"environment_id": "nope"})
    assert unknown.status_code == 404
    assert detail(unknown) == "Environment not found"


def test_sdk_target_roots_needs_credentials(anon_client, db):
    response = anon_client.get("/api/v1/target-roots")
    assert response.status_code == 401
    assert detail(response) == "Not authenticated. Provide an X-API-Key header or a Bearer token."
    assert response["WWW-Authenticate"] == 'Bearer, ApiKey realm="sdk"'


def test_sdk_target_roots_rejects_identity_provider_tokens(tenant_a, oidc_provider, anon_client):
    anon_client.credentials(HTTP_AUTHORIZATION=f"Bearer {oidc_provider.token('alice-sub')}")
    response = anon_client.get("/api/v1/target-roots",
                               {"environment_id": str(tenant_a.environment.id)})
    assert response.status_code == 401
