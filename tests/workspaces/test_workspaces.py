"""Workspaces: list, create, read, update, delete (contract §4.4) under both path spellings."""

from __future__ import annotations

import uuid

import pytest
from rest_framework.test import APIClient

from tests import factories
from tests.workspaces.helpers import detail
from workspaces.models import Environment, Role, TargetRoot, Workspace, WorkspaceMember

pytestmark = pytest.mark.django_db


def test_list_workspaces_in_membership_order(prefix, tenant_a, tenant_b,
                                             django_assert_max_num_queries):
    factories.add_member(tenant_b.workspace, tenant_a.user, Role.ADMIN)
    client = tenant_a.jwt_client()
    with django_assert_max_num_queries(3):
        response = client.get(f"{prefix}/workspaces")
    assert response.status_code == 200
    assert response.json() == [
        {"id": str(tenant_a.workspace.id), "name": "Alice WS", "slug": "alice-ws",
         "role": "owner", "is_personal": False},
        {"id": str(tenant_b.workspace.id), "name": "Bob WS", "slug": "bob-ws",
         "role": "admin", "is_personal": False},
    ]


def test_list_workspaces_accepts_an_identity_provider_token(prefix, tenant_a, oidc_provider):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {oidc_provider.token('alice-sub')}")
    response = client.get(f"{prefix}/workspaces")
    assert response.status_code == 200
    assert [w["slug"] for w in response.json()] == ["alice-ws"]


def test_list_workspaces_without_credentials_is_401(prefix, anon_client, db):
    response = anon_client.get(f"{prefix}/workspaces")
    assert response.status_code == 401
    assert detail(response).startswith("Not authenticated")
    assert response["WWW-Authenticate"] == "Bearer"


def test_create_workspace_with_defaults(prefix, tenant_a):
    response = tenant_a.jwt_client().post(f"{prefix}/workspaces",
                                          {"name": "Team", "slug": "team"}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body == {"id": body["id"], "name": "Team", "slug": "team", "description": None,
                    "is_personal": False}
    workspace = Workspace.objects.get(pk=body["id"])
    assert workspace.created_by == tenant_a.user
    assert WorkspaceMember.objects.get(workspace=workspace).role == Role.OWNER
    environment = Environment.objects.get(workspace=workspace)
    assert (environment.name, environment.slug, environment.description) == (
        "Default", "default", "Default environment")
    assert not TargetRoot.objects.filter(environment=environment).exists()


def test_create_workspace_with_initial_environment_and_target_root(prefix, tenant_a):
    body = {"name": "Data", "slug": "data_team", "description": "Our data",
            "initial_environment_name": "Production", "initial_environment_slug": "prod",
            "initial_target_root_name": "default", "initial_target_root_uri": "s3://b/p/"}
    response = tenant_a.jwt_client().post(f"{prefix}/workspaces", body, format="json")
    assert response.status_code == 201
    assert response.json()["description"] == "Our data"
    environment = Environment.objects.get(workspace_id=response.json()["id"])
    assert (environment.name, environment.slug, environment.description) == (
        "Production", "prod", "Production environment")
    root = TargetRoot.objects.get(environment=environment)
    assert (root.name, root.uri_prefix) == ("default", "s3://b/p/")


def test_target_root_needs_both_name_and_uri(tenant_a):
    response = tenant_a.jwt_client().post(
        "/api/v1/workspaces", {"name": "X", "slug": "xx", "initial_target_root_name": "d"},
        format="json")
    assert response.status_code == 201
    assert not TargetRoot.objects.filter(environment__workspace_id=response.json()["id"]).exists()


def test_new_user_creates_a_workspace_with_an_identity_provider_token(prefix, oidc_provider):
    client = APIClient()
    token = oidc_provider.token("carol-sub", email="carol@example.com", name="Carol")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    response = client.post(f"{prefix}/workspaces", {"name": "Carol Team", "slug": "carol-team"},
                           format="json")
    assert response.status_code == 201
    slugs = set(Workspace.objects.filter(created_by__external_id="carol-sub")
                .values_list("slug", flat=True))
    assert slugs == {"carol", "carol-team"}  # personal workspace provisioned first


def test_workspace_quota_counts_the_personal_workspace(prefix, tenant_a):
    factories.make_workspace(tenant_a.user, slug="personal-a", is_personal=True)
    client = tenant_a.jwt_client()
    assert client.post(f"{prefix}/workspaces", {"name": "3", "slug": "third"},
                       format="json").status_code == 201
    response = client.post(f"{prefix}/workspaces", {"name": "4", "slug": "fourth"},
                           format="json")
    assert response.status_code == 403
    assert detail(response) == "You can create at most 3 workspaces"
    assert not Workspace.objects.filter(slug="fourth").exists()


def test_workspace_slug_is_globally_unique(prefix, tenant_a, tenant_b):
    response = tenant_a.jwt_client().post(f"{prefix}/workspaces",
                                          {"name": "Copy", "slug": "bob-ws"}, format="json")
    assert response.status_code == 409
    assert detail(response) == "Workspace slug already exists"


@pytest.mark.parametrize("slug", ["a", "-ab", "ab-", "Ab", "a b", "a.b", "x" * 65, "ab_"])
def test_workspace_slug_rule(slug, tenant_a):
    response = tenant_a.jwt_client().post("/api/v1/ui/workspaces", {"name": "N", "slug": slug},
                                          format="json")
    assert response.status_code == 422
    [item] = detail(response)
    assert item["loc"] == ["body", "slug"]
    assert item["input"] == slug


@pytest.mark.parametrize("slug", ["ab", "a-b", "a_b", "a1", "0" * 64, "x--y"])
def test_valid_slugs_are_accepted(slug, tenant_a):
    response = tenant_a.jwt_client().post("/api/v1/ui/workspaces", {"name": "N", "slug": slug},
                                          format="json")
    assert response.status_code == 201, response.json()


@pytest.mark.parametrize(("body", "loc", "type_"), [
    ({"slug": "ok"}, ["body", "name"], "missing"),
    ({"name": "N"}, ["body", "slug"], "missing"),
    ({"name": "", "slug": "ok"}, ["body", "name"], "string_too_short"),
    ({"name": "n" * 256, "slug": "ok"}, ["body", "name"], "string_too_long"),
    ({"name": 5, "slug": "ok"}, ["body", "name"], "string_type"),
    ({"name": "N", "slug": "ok", "initial_environment_slug": "Bad!"},
     ["body", "initial_environment_slug"], "value_error"),
])
def test_create_workspace_validation(body, loc, type_, tenant_a):
    response = tenant_a.jwt_client().post("/api/v1/workspaces", body, format="json")
    assert response.status_code == 422
    [item] = detail(response)
    assert (item["loc"], item["type"]) == (loc, type_)
    assert item["msg"]


def test_create_workspace_without_body_is_422(tenant_a):
    response = tenant_a.jwt_client().post("/api/v1/ui/workspaces")
    assert response.status_code == 422
    assert detail(response) == [{"type": "missing", "loc": ["body"], "msg": "Field required",
                                 "input": None}]


def test_create_workspace_with_malformed_json_is_422(tenant_a):
    response = tenant_a.jwt_client().post("/api/v1/ui/workspaces", "{nope",
                                          content_type="application/json")
    assert response.status_code == 422
    assert detail(response)[0]["type"] == "json_invalid"


def test_get_workspace_detail(prefix, tenant_a, tenant_b, django_assert_max_num_queries):
    factories.add_member(tenant_a.workspace, tenant_b.user)
    factories.make_environment(tenant_a.workspace, "staging")
    client = tenant_a.jwt_client()
    with django_assert_max_num_queries(3):
        response = client.get(f"{prefix}/workspaces/{tenant_a.workspace.id}")
    assert response.status_code == 200
    assert response.json() == {
        "id": str(tenant_a.workspace.id), "name": "Alice WS", "slug": "alice-ws",
        "description": None, "is_personal": False, "member_count": 2, "environment_count": 2,
    }


def test_personal_flag_is_reported(prefix, tenant_a):
    personal = factories.make_workspace(tenant_a.user, slug="alice", is_personal=True)
    response = tenant_a.jwt_client().get(f"{prefix}/workspaces/{personal.id}")
    assert response.json()["is_personal"] is True


def test_member_may_read_a_workspace(prefix, tenant_a, plain_member_client):
    response = plain_member_client.get(f"{prefix}/workspaces/{tenant_a.workspace.id}")
    assert response.status_code == 200


def test_patch_workspace_semantics(prefix, tenant_a, admin_member_client):
    url = f"{prefix}/workspaces/{tenant_a.workspace.id}"
    response = admin_member_client.patch(url, {"name": "Renamed", "description": "About"},
                                         format="json")
    assert response.status_code == 200
    assert response.json()["name"] == "Renamed"
    assert response.json()["description"] == "About"
    # absent and null leave fields unchanged
    response = admin_member_client.patch(url, {"name": None}, format="json")
    assert response.json()["description"] == "About"
    response = admin_member_client.patch(url, {"description": None}, format="json")
    assert (response.json()["name"], response.json()["description"]) == ("Renamed", "About")
    assert admin_member_client.patch(url).json()["name"] == "Renamed"
    # "" clears the description (stored as null)
    response = admin_member_client.patch(url, {"description": ""}, format="json")
    assert response.json()["description"] is None
    tenant_a.workspace.refresh_from_db()
    assert (tenant_a.workspace.name, tenant_a.workspace.description) == ("Renamed", None)


def test_patch_workspace_rejects_empty_name(tenant_a):
    response = tenant_a.jwt_client().patch(f"/api/v1/workspaces/{tenant_a.workspace.id}",
                                           {"name": ""}, format="json")
    assert response.status_code == 422
    assert detail(response)[0]["loc"] == ["body", "name"]


def test_member_may_not_update_a_workspace(prefix, tenant_a, plain_member_client):
    response = plain_member_client.patch(f"{prefix}/workspaces/{tenant_a.workspace.id}",
                                         {"name": "X"}, format="json")
    assert response.status_code == 403
    assert detail(response) == "Requires admin role or higher"


def test_owner_deletes_a_workspace_with_everything_in_it(prefix, tenant_a):
    workspace_id = tenant_a.workspace.id
    response = tenant_a.jwt_client().delete(f"{prefix}/workspaces/{workspace_id}")
    assert response.status_code == 204
    assert response.content == b""
    assert not Workspace.objects.filter(pk=workspace_id).exists()
    assert not Environment.objects.filter(workspace_id=workspace_id).exists()
    assert not WorkspaceMember.objects.filter(workspace_id=workspace_id).exists()


def test_admin_may_not_delete_a_workspace(prefix, tenant_a, admin_member_client):
    response = admin_member_client.delete(f"{prefix}/workspaces/{tenant_a.workspace.id}")
    assert response.status_code == 403
    assert detail(response) == "Requires owner role or higher"
    assert Workspace.objects.filter(pk=tenant_a.workspace.id).exists()


def test_personal_workspace_cannot_be_deleted(prefix, tenant_a):
    personal = factories.make_workspace(tenant_a.user, slug="alice", is_personal=True)
    response = tenant_a.jwt_client().delete(f"{prefix}/workspaces/{personal.id}")
    assert response.status_code == 403
    assert detail(response) == "Cannot delete a personal workspace"


@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_non_member_gets_404(method, prefix, tenant_a, tenant_b):
    client = tenant_a.jwt_client()
    for workspace_id in (tenant_b.workspace.id, uuid.uuid4()):
        response = getattr(client, method)(f"{prefix}/workspaces/{workspace_id}")
        assert response.status_code == 404
        assert detail(response) == "Workspace not found"


def test_malformed_workspace_id_is_422(prefix, tenant_a):
    response = tenant_a.jwt_client().get(f"{prefix}/workspaces/not-a-uuid")
    assert response.status_code == 422
    assert detail(response) == [{"type": "uuid_parsing", "loc": ["path", "workspace_id"],
                                 "msg": "Input should be a valid UUID", "input": "not-a-uuid"}]


def test_workspace_endpoints_reject_identity_provider_tokens(prefix, tenant_a, oidc_provider):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {oidc_provider.token('alice-sub')}")
    response = client.get(f"{prefix}/workspaces/{tenant_a.workspace.id}")
    assert response.status_code == 401
    assert detail(response).startswith("Invalid token")


def test_api_key_is_ignored_on_workspace_endpoints(prefix, tenant_a, client_a):
    response = client_a.get(f"{prefix}/workspaces/{tenant_a.workspace.id}")
    assert response.status_code == 401
    assert detail(response).startswith("Not authenticated")


def test_trailing_slash_is_accepted_without_redirect(tenant_a):
    response = tenant_a.jwt_client().get(f"/api/v1/ui/workspaces/{tenant_a.workspace.id}/")
    assert response.status_code == 200
