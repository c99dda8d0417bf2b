"""The admin as the operators' console (password sign-in, SSO link, API keys shown once)."""

from __future__ import annotations

import re

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from accounts.oidc import AdminOIDCBackend
from tests import factories
from workspaces.api_keys import hash_api_key
from workspaces.models import ApiKey, Invite, TargetRoot

pytestmark = pytest.mark.django_db


def test_superuser_signs_in_with_a_password(client, admin_user):
    response = client.post("/admin/login/?next=/admin/",
                           {"username": "ADMIN@example.com", "password": "password"})
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_login_page_has_no_sso_link_without_oidc(client, settings):
    settings.OIDC_ADMIN_SSO_ENABLED = False
    body = client.get("/admin/login/").content.decode()
    assert 'name="password"' in body
    assert "Sign in with SSO" not in body


@pytest.mark.urls("tests.accounts.sso_urls")
def test_login_page_offers_sso_when_configured(client, settings):
    settings.OIDC_ADMIN_SSO_ENABLED = True
    body = client.get("/admin/login/?next=/admin/workspaces/").content.decode()
    assert "Sign in with SSO" in body
    assert 'href="/oidc/authenticate/?next=/admin/workspaces/"' in body
    assert 'name="password"' in body  # password sign-in stays


@pytest.mark.parametrize("model", ["accounts/user", "workspaces/workspace", "workspaces/invite",
                                   "workspaces/environment", "workspaces/targetroot",
                                   "workspaces/apikey"])
def test_changelists_render_with_search(admin_client, tenant_a, tenant_b, model,
                                        django_assert_max_num_queries):
    Invite.objects.create(workspace=tenant_a.workspace, email="x@y.z")
    TargetRoot.objects.create(environment=tenant_a.environment, name="d", uri_prefix="/d")
    with django_assert_max_num_queries(12):
        response = admin_client.get(f"/admin/{model}/")
    assert response.status_code == 200
    assert admin_client.get(f"/admin/{model}/", {"q": "alice"}).status_code == 200


def test_workspace_page_shows_members_and_environments_inline(admin_client, tenant_a):
    response = admin_client.get(f"/admin/workspaces/workspace/{tenant_a.workspace.pk}/change/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "memberships-TOTAL_FORMS" in body
    assert "environments-TOTAL_FORMS" in body
    changelist = admin_client.get("/admin/workspaces/workspace/").content.decode()
    assert "alice-ws" in changelist


def test_creating_an_api_key_shows_it_once(admin_client, tenant_a, admin_user):
    response = admin_client.post("/admin/workspaces/apikey/add/",
                               {"environment": tenant_a.environment.pk, "name": "deploy"})
    assert response.status_code == 200  # the answer shows the key; nothing stores it
    [raw] = re.findall(r"sk_[0-9a-f]{6}_[A-Za-z0-9_-]{32}", response.content.decode())
    api_key = ApiKey.objects.get(name="deploy")
    assert api_key.key_hash == hash_api_key(raw)
    assert api_key.key_prefix == raw[3:11]
    assert api_key.created_by == admin_user
    page = admin_client.get(f"/admin/workspaces/apikey/{api_key.pk}/change/").content.decode()
    assert raw not in page  # shown once
    assert api_key.key_hash in page  # the digest is visible (read-only)
    listing = admin_client.get("/admin/workspaces/apikey/", {"q": api_key.key_prefix})
    assert "deploy" in listing.content.decode()
    sdk = APIClient()
    sdk.credentials(HTTP_X_API_KEY=raw)
    assert sdk.get("/api/v1/target-roots").status_code == 200


def test_revoke_action(admin_client, tenant_a, tenant_b, client_a):
    keys = list(ApiKey.objects.all())
    response = admin_client.post("/admin/workspaces/apikey/", {
        "action": "revoke_keys", "_selected_action": [k.pk for k in keys]})
    assert response.status_code == 302
    assert ApiKey.objects.filter(revoked_at__isnull=True).count() == 0
    assert client_a.get("/api/v1/target-roots").status_code == 401
    revoked = admin_client.get("/admin/workspaces/apikey/", {"state": "revoked"})
    active = admin_client.get("/admin/workspaces/apikey/", {"state": "active"})
    assert revoked.context["cl"].result_count == 2
    assert active.context["cl"].result_count == 0


def test_cancel_invites_action(admin_client, tenant_a):
    invite = Invite.objects.create(workspace=tenant_a.workspace, email="x@y.z")
    admin_client.post("/admin/workspaces/invite/", {"action": "cancel_invites",
                                                  "_selected_action": [invite.pk]})
    invite.refresh_from_db()
    assert invite.status == "cancelled"


def test_admin_sso_backend_matches_staff_by_sub_and_creates_nobody(tenant_a, admin_user):
    admin_user.external_id = "ops-sub"
    admin_user.save()
    backend = AdminOIDCBackend()
    assert list(backend.filter_users_by_claims({"sub": "ops-sub", "email": "x@y.z"})) == [
        admin_user]
    assert not backend.filter_users_by_claims({"sub": "alice-sub"}).exists()  # not staff
    assert not backend.filter_users_by_claims({"email": admin_user.email}).exists()
    assert backend.create_user({"sub": "new", "email": "new@x.io"}) is None

    class Backend(AdminOIDCBackend):
        def get_userinfo(self, access_token, id_token, payload):
            return {"sub": payload["sub"], "email": "whatever@x.io"}

    assert Backend().get_or_create_user("a", "i", {"sub": "ops-sub"}) == admin_user
    assert Backend().get_or_create_user("a", "i", {"sub": "stranger"}) is None
    assert User.objects.filter(external_id="stranger").count() == 0
    factories.make_user("x@x.io", external_id="plain-sub")
    assert Backend().get_or_create_user("a", "i", {"sub": "plain-sub"}) is None


def test_change_pages_render(admin_client, tenant_a):
    invite = Invite.objects.create(workspace=tenant_a.workspace, email="x@y.z")
    root = TargetRoot.objects.create(environment=tenant_a.environment, name="d", uri_prefix="/d")
    key = ApiKey.objects.get(environment=tenant_a.environment)
    pages = [f"/admin/accounts/user/{tenant_a.user.pk}/change/",
             f"/admin/workspaces/environment/{tenant_a.environment.pk}/change/",
             f"/admin/workspaces/invite/{invite.pk}/change/",
             f"/admin/workspaces/targetroot/{root.pk}/change/",
             f"/admin/workspaces/apikey/{key.pk}/change/",
             "/admin/accounts/user/add/", "/admin/workspaces/apikey/add/"]
    for page in pages:
        assert admin_client.get(page).status_code == 200, page
    body = admin_client.get(pages[0]).content.decode()
    assert "alice-ws" in body  # memberships inline on the user page


def test_operator_creates_a_user_with_a_password(admin_client):
    response = admin_client.post("/admin/accounts/user/add/", {
        "email": "new.operator@example.com", "display_name": "New Op",
        "password1": "a-long-test-password-2", "password2": "a-long-test-password-2",
        "usable_password": "true"})
    assert response.status_code == 302, response.context["adminform"].form.errors
    user = User.objects.get(email="new.operator@example.com")
    assert user.check_password("a-long-test-password-2")
