"""Environments: list, create, read, update, delete (contract §4.7)."""

from __future__ import annotations

import uuid

import pytest

from tests import factories
from tests.workspaces.helpers import detail
from workspaces.models import ApiKey, Environment, TargetRoot

pytestmark = pytest.mark.django_db


def envs_url(prefix, workspace):
    return f"{prefix}/workspaces/{workspace.id}/environments"


def env_url(prefix, environment):
    return f"{envs_url(prefix, environment.workspace)}/{environment.id}"


def test_list_environments_oldest_first(prefix, tenant_a, plain_member_client,
                                        django_assert_max_num_queries):
    staging = factories.make_environment(tenant_a.workspace, "staging", description="Stage")
    with django_assert_max_num_queries(3):
        response = plain_member_client.get(envs_url(prefix, tenant_a.workspace))
    assert response.status_code == 200
    assert response.json() == [
        {"id": str(tenant_a.environment.id), "workspace_id": str(tenant_a.workspace.id),
         "name": "Default", "slug": "default", "description": None, "owner_id": None},
        {"id": str(staging.id), "workspace_id": str(tenant_a.workspace.id),
         "name": "Staging", "slug": "staging", "description": "Stage", "owner_id": None},
    ]


def test_admin_creates_an_environment(prefix, tenant_a, admin_member_client):
    response = admin_member_client.post(envs_url(prefix, tenant_a.workspace),
                                        {"name": "Production", "slug": "prod"}, format="json")
    assert response.status_code == 201
    body = response.json()
    environment = Environment.objects.get(pk=body["id"])
    assert body == {"id": str(environment.id), "workspace_id": str(tenant_a.workspace.id),
                    "name": "Production", "slug": "prod", "description": None,
                    "owner_id": None}
    assert environment.max_concurrent_locks is None


def test_member_may_not_create_environments(prefix, tenant_a, plain_member_client):
    response = plain_member_client.post(envs_url(prefix, tenant_a.workspace),
                                        {"name": "P", "slug": "pp"}, format="json")
    assert response.status_code == 403
    assert detail(response) == "Requires admin role or higher"


def test_environment_slug_is_unique_in_its_workspace(prefix, tenant_a, tenant_b):
    url = envs_url(prefix, tenant_a.workspace)
    response = tenant_a.jwt_client().post(url, {"name": "D", "slug": "default"}, format="json")
    assert response.status_code == 409
    assert detail(response) == "Environment slug already exists in this workspace"
    other = tenant_b.jwt_client().post(envs_url(prefix, tenant_b.workspace),
                                       {"name": "S", "slug": "staging"}, format="json")
    mine = tenant_a.jwt_client().post(url, {"name": "S", "slug": "staging"}, format="json")
    assert (other.status_code, mine.status_code) == (201, 201)


def test_at_most_six_environments(prefix, tenant_a):
    for n in range(5):
        factories.make_environment(tenant_a.workspace, f"env-{n}")
    response = tenant_a.jwt_client().post(envs_url(prefix, tenant_a.workspace),
                                          {"name": "Seven", "slug": "seven"}, format="json")
    assert response.status_code == 403
    assert detail(response) == "Workspace can have at most 6 environments"
    assert tenant_a.workspace.environments.count() == 6


@pytest.mark.parametrize(("body", "loc"), [
    ({"slug": "ok"}, ["body", "name"]),
    ({"name": "N"}, ["body", "slug"]),
    ({"name": "N", "slug": "Not OK"}, ["body", "slug"]),
    ({"name": "N", "slug": "ok", "description": 3}, ["body", "description"]),
])
def test_environment_body_is_validated(tenant_a, body, loc):
    response = tenant_a.jwt_client().post(envs_url("/api/v1/ui", tenant_a.workspace), body,
                                          format="json")
    assert response.status_code == 422
    [item] = detail(response)
    assert item["loc"] == loc
    assert item["msg"]


def test_get_environment(prefix, tenant_a, plain_member_client):
    response = plain_member_client.get(env_url(prefix, tenant_a.environment))
    assert response.status_code == 200
    assert response.json()["slug"] == "default"
    assert "max_concurrent_locks" not in response.json()


def test_environment_of_another_workspace_is_not_found(prefix, tenant_a, tenant_b):
    client = tenant_a.jwt_client()
    base = envs_url(prefix, tenant_a.workspace)
    for environment_id in (tenant_b.environment.id, uuid.uuid4()):
        for method in ("get", "patch", "delete"):
            response = getattr(client, method)(f"{base}/{environment_id}", {}, format="json")
            assert response.status_code == 404
            assert detail(response) == "Environment not found"
    assert Environment.objects.filter(pk=tenant_b.environment.pk).exists()


def test_malformed_environment_id_is_422(prefix, tenant_a):
    response = tenant_a.jwt_client().get(f"{envs_url(prefix, tenant_a.workspace)}/nope")
    assert response.status_code == 422
    assert detail(response)[0]["loc"] == ["path", "environment_id"]


def test_patch_environment_semantics(prefix, tenant_a, admin_member_client):
    url = env_url(prefix, tenant_a.environment)
    response = admin_member_client.patch(url, {"name": "Dev", "description": "Mine",
                                        "max_concurrent_locks": 4, "slug": "ignored"},
                                  format="json")
    assert response.status_code == 200
    assert response.json()["name"] == "Dev"
    assert response.json()["slug"] == "default"  # immutable
    tenant_a.environment.refresh_from_db()
    assert (tenant_a.environment.description, tenant_a.environment.max_concurrent_locks) == (
        "Mine", 4)
    admin_member_client.patch(url, {"name": None, "description": None,
                                     "max_concurrent_locks": None},
                              format="json")
    admin_member_client.patch(url)
    tenant_a.environment.refresh_from_db()
    assert (tenant_a.environment.name, tenant_a.environment.description,
            tenant_a.environment.max_concurrent_locks) == ("Dev", "Mine", 4)
    admin_member_client.patch(url, {"description": "", "max_concurrent_locks": 0}, format="json")
    tenant_a.environment.refresh_from_db()
    assert tenant_a.environment.description is None
    assert tenant_a.environment.max_concurrent_locks is None  # 0 removes the limit


@pytest.mark.parametrize(("value", "type_"), [(-1, "greater_than_equal"), ("3", "int_parsing"),
                                              (True, "int_parsing"), (1.5, "int_parsing")])
def test_max_concurrent_locks_is_validated(tenant_a, value, type_):
    response = tenant_a.jwt_client().patch(env_url("/api/v1", tenant_a.environment),
                                           {"max_concurrent_locks": value}, format="json")
    assert response.status_code == 422
    [item] = detail(response)
    assert (item["loc"], item["type"]) == (["body", "max_concurrent_locks"], type_)


def test_member_may_not_update_or_delete(prefix, tenant_a, plain_member_client):
    factories.make_environment(tenant_a.workspace, "spare")
    url = env_url(prefix, tenant_a.environment)
    for response in (plain_member_client.patch(url, {"name": "X"}, format="json"),
                     plain_member_client.delete(url)):
        assert response.status_code == 403
        assert detail(response) == "Requires admin role or higher"


def test_delete_environment_cascades(prefix, tenant_a, admin_member_client):
    staging = factories.make_environment(tenant_a.workspace, "staging")
    factories.make_api_key(staging)
    TargetRoot.objects.create(environment=staging, name="default", uri_prefix="s3://x/")
    response = admin_member_client.delete(env_url(prefix, staging))
    assert response.status_code == 204
    assert response.content == b""
    assert not Environment.objects.filter(pk=staging.pk).exists()
    assert not ApiKey.objects.filter(environment_id=staging.pk).exists()
    assert not TargetRoot.objects.filter(environment_id=staging.pk).exists()


def test_last_environment_cannot_be_deleted(prefix, tenant_a):
    response = tenant_a.jwt_client().delete(env_url(prefix, tenant_a.environment))
    assert response.status_code == 400
    assert detail(response) == "Cannot delete the last environment"
    assert Environment.objects.filter(pk=tenant_a.environment.pk).exists()


def test_delete_environment_removes_its_registry_data(tenant_a):
    """Builds, tasks, events and locks of a deleted environment go with it (§2.5)."""
    from builds.models import Build, Event
    from locks.models import Lock
    from tasks.models import Task

    staging = factories.make_environment(tenant_a.workspace, "staging")
    sdk = tenant_a.key_client()
    sdk.credentials(HTTP_X_API_KEY=factories.make_api_key(staging))
    build = sdk.post("/api/v1/builds", {}, format="json")
    assert build.status_code == 201, build.content
    task_id = str(uuid.uuid4())
    registered = sdk.post(f"/api/v1/builds/{build.json()['id']}/tasks", {
        "task_id": task_id, "task_name": "T", "task_namespace": "ns", "task_data": {},
        "version": "1", "output_uri": "/tmp/x", "dependency_task_ids": []}, format="json")
    assert registered.status_code == 201, registered.content
    lock = sdk.post("/api/v1/locks/job/acquire", {"owner_id": "me", "ttl_seconds": 60},
                    format="json")
    assert lock.status_code == 200, lock.content
    assert Event.objects.filter(build__environment=staging).exists()

    response = tenant_a.jwt_client().delete(env_url("/api/v1", staging))
    assert response.status_code == 204
    assert not Build.objects.filter(environment_id=staging.pk).exists()
    assert not Task.objects.filter(environment_id=staging.pk).exists()
    assert not Event.objects.filter(build__environment_id=staging.pk).exists()
    assert not Lock.objects.filter(environment_id=staging.pk).exists()
