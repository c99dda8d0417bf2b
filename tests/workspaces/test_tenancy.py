"""Tenancy (acceptance 3): a user of workspace A learns nothing about workspace B's objects,
and an API key of one environment reads nothing of another."""

from __future__ import annotations

import pytest

from tests import factories
from tests.workspaces.helpers import detail, jwt_client
from workspaces.models import (
    ApiKey,
    Environment,
    Invite,
    TargetRoot,
    Workspace,
    WorkspaceMember,
)

pytestmark = pytest.mark.django_db

WS = "{p}/workspaces/{ws}"
ENV = WS + "/environments/{env}"
ENDPOINTS = [
    ("get", WS), ("patch", WS), ("delete", WS),
    ("get", WS + "/members"), ("patch", WS + "/members/{member}"),
    ("delete", WS + "/members/{member}"),
    ("get", WS + "/invites"), ("post", WS + "/invites"), ("delete", WS + "/invites/{invite}"),
    ("get", WS + "/environments"), ("post", WS + "/environments"),
    ("get", ENV), ("patch", ENV), ("delete", ENV),
    ("get", ENV + "/api-keys"), ("post", ENV + "/api-keys"),
    ("delete", ENV + "/api-keys/{key}"),
    ("get", ENV + "/target-roots"), ("post", ENV + "/target-roots"),
    ("get", ENV + "/target-roots/{root}"), ("patch", ENV + "/target-roots/{root}"),
    ("delete", ENV + "/target-roots/{root}"),
    ("get", WS + "/target-roots"),
]
CHILD_ENDPOINTS = [(method, template) for method, template in ENDPOINTS
                   if template.count("/") > WS.count("/") + 1]
BODIES = {"post": {"name": "Evil", "slug": "evil", "email": "evil@x.io", "uri_prefix": "/e"},
          "patch": {"name": "Evil", "role": "owner", "uri_prefix": "/e"}}


@pytest.fixture
def workspace_b(tenant_b):
    """Tenant B's workspace with one object of every kind (and two environments)."""
    factories.make_environment(tenant_b.workspace, "spare")
    return {
        "ws": tenant_b.workspace.id,
        "env": tenant_b.environment.id,
        "member": WorkspaceMember.objects.get(workspace=tenant_b.workspace).id,
        "invite": Invite.objects.create(workspace=tenant_b.workspace, email="z@x.io").id,
        "key": ApiKey.objects.get(environment=tenant_b.environment).id,
        "root": TargetRoot.objects.create(environment=tenant_b.environment, name="default",
                                          uri_prefix="s3://bob/").id,
    }


def snapshot(tenant_b):
    workspace = Workspace.objects.get(pk=tenant_b.workspace.pk)
    return (
        workspace.name,
        list(WorkspaceMember.objects.filter(workspace=workspace).values_list("role", flat=True)),
        list(Invite.objects.filter(workspace=workspace).values_list("status", flat=True)),
        list(Environment.objects.filter(workspace=workspace).values_list("name", flat=True)),
        list(ApiKey.objects.filter(environment__workspace=workspace)
             .values_list("revoked_at", flat=True)),
        list(TargetRoot.objects.filter(environment__workspace=workspace)
             .values_list("name", "uri_prefix")),
    )


@pytest.mark.parametrize(("method", "template"), ENDPOINTS)
def test_other_workspace_is_invisible(prefix, method, template, tenant_a, tenant_b,
                                      workspace_b):
    before = snapshot(tenant_b)
    client = tenant_a.jwt_client()
    response = getattr(client, method)(template.format(p=prefix, **workspace_b),
                                       BODIES.get(method), format="json")
    assert response.status_code == 404
    assert detail(response) == "Workspace not found"
    assert snapshot(tenant_b) == before


@pytest.mark.parametrize(("method", "template"), CHILD_ENDPOINTS)
def test_own_workspace_path_with_other_workspace_ids_is_404(method, template, tenant_a,
                                                            tenant_b, workspace_b):
    """Mixing A's workspace id with B's child ids never reaches B's objects."""
    before = snapshot(tenant_b)
    ids = {**workspace_b, "ws": tenant_a.workspace.id}
    response = getattr(tenant_a.jwt_client(), method)(template.format(p="/api/v1/ui", **ids),
                                                      BODIES.get(method), format="json")
    assert response.status_code == 404
    assert snapshot(tenant_b) == before


def test_a_token_for_workspace_b_does_not_open_workspace_a(tenant_a, tenant_b):
    """Membership decides, not the token's workspace claim (§3.7)."""
    client = jwt_client(tenant_b.user, tenant_a.workspace)
    response = client.get(f"/api/v1/ui/workspaces/{tenant_a.workspace.id}/environments")
    assert response.status_code == 404


def test_api_key_reads_only_its_environment(tenant_a, client_a, client_b):
    TargetRoot.objects.create(environment=tenant_a.environment, name="a", uri_prefix="/a")
    staging = factories.make_environment(tenant_a.workspace, "staging")
    TargetRoot.objects.create(environment=staging, name="staging", uri_prefix="/s")
    assert client_a.get("/api/v1/target-roots").json() == [{"name": "a", "uri_prefix": "/a"}]
    assert client_b.get("/api/v1/target-roots").json() == []
    staging_client = tenant_a.key_client()
    staging_client.credentials(HTTP_X_API_KEY=factories.make_api_key(staging))
    assert staging_client.get("/api/v1/target-roots").json() == [
        {"name": "staging", "uri_prefix": "/s"}]


def test_api_key_ignores_environment_id_of_another_environment(tenant_a, tenant_b, client_a):
    TargetRoot.objects.create(environment=tenant_b.environment, name="b", uri_prefix="/b")
    response = client_a.get("/api/v1/target-roots",
                            {"environment_id": str(tenant_b.environment.id)})
    assert response.status_code == 200
    assert response.json() == []
