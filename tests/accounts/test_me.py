"""``GET /api/v1/ui/me`` and its alias ``/api/v1/me`` (contract §4.3)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from tests import factories
from workspaces.models import Role

pytestmark = pytest.mark.django_db

PATHS = ["/api/v1/ui/me", "/api/v1/me"]


@pytest.mark.parametrize("path", PATHS)
def test_me_with_internal_token(path, tenant_a, tenant_b, django_assert_max_num_queries):
    factories.add_member(tenant_b.workspace, tenant_a.user, Role.MEMBER)
    client = tenant_a.jwt_client()
    with django_assert_max_num_queries(2):
        response = client.get(path)
    assert response.status_code == 200
    assert response.json() == {
        "user": {"id": str(tenant_a.user.id), "external_id": "alice-sub",
                 "email": "alice@example.com", "display_name": "Alice"},
        "workspaces": [
            {"id": str(tenant_a.workspace.id), "name": "Alice WS", "slug": "alice-ws",
             "role": "owner", "is_personal": False},
            {"id": str(tenant_b.workspace.id), "name": "Bob WS", "slug": "bob-ws",
             "role": "member", "is_personal": False},
        ],
    }


@pytest.mark.parametrize("path", PATHS)
def test_me_provisions_a_new_user_from_an_identity_provider_token(path, oidc_provider):
    client = APIClient()
    token = oidc_provider.token("erin-sub", email="Erin.Smith@Example.com", name=None,
                                given_name="Erin", family_name="Smith")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    response = client.get(path)
    assert response.status_code == 200
    body = response.json()
    user = User.objects.get(external_id="erin-sub")
    assert body["user"] == {"id": str(user.id), "external_id": "erin-sub",
                            "email": "Erin.Smith@Example.com", "display_name": "Erin Smith"}
    [workspace] = body["workspaces"]
    assert workspace == {"id": workspace["id"], "name": "Erin Smith's Workspace",
                         "slug": "erin-smith", "role": "owner", "is_personal": True}
    assert client.get(path).json() == body  # second contact: same user, nothing new
    assert User.objects.filter(email__iexact="erin.smith@example.com").count() == 1


def test_personal_workspace_comes_first(oidc_provider, tenant_b):
    client = APIClient()
    token = oidc_provider.token("fay-sub", email="fay@x.io")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    client.get("/api/v1/ui/me")
    factories.add_member(tenant_b.workspace, User.objects.get(external_id="fay-sub"))
    slugs = [w["slug"] for w in client.get("/api/v1/ui/me").json()["workspaces"]]
    assert slugs == ["fay", "bob-ws"]


def test_me_with_identity_provider_token_errors(tenant_a, oidc_provider):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {oidc_provider.token('x-sub', email=None)}")
    response = client.get("/api/v1/ui/me")
    assert response.status_code == 400
    assert response.json()["detail"] == "Token must contain email claim for user creation"
    client.credentials(HTTP_AUTHORIZATION="Bearer " + oidc_provider.token(
        "x-sub", email="alice@example.com", email_verified=False))
    response = client.get("/api/v1/me")
    assert response.status_code == 409


@pytest.mark.parametrize("path", PATHS)
def test_me_needs_a_bearer_token(path, client_a):
    response = client_a.get(path)  # an API key is ignored here
    assert response.status_code == 401
    assert response.json()["detail"].startswith("Not authenticated")
