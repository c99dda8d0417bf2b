"""The admin cannot break the rules the API enforces (issue 8, item 7): no lock deletion, a new
workspace gets its owner and default environment, the last owner stays, keys are revoked and
never deleted."""

from __future__ import annotations

import pytest

from locks.models import Lock
from locks.services import lock_acquire
from tests import factories
from tests.admin.forms import change_form_data, inline_rows
from tests.locks.helpers import lock_url
from workspaces.models import ApiKey, Role, Workspace, WorkspaceMember

pytestmark = pytest.mark.django_db


def actions_offered(client, changelist):
    form = client.get(changelist).context["action_form"]
    return {name for name, _ in form.fields["action"].choices if name} if form else set()


# --- Locks ------------------------------------------------------------------------------------


def test_lock_rows_cannot_be_deleted_so_fencing_versions_keep_growing(admin_client, tenant_a,
                                                                       client_a):
    lock = lock_acquire(environment=tenant_a.environment, name="fenced", owner_id="one").lock
    assert "delete_selected" not in actions_offered(admin_client, "/admin/locks/lock/")
    assert admin_client.get(f"/admin/locks/lock/{lock.pk}/delete/").status_code == 403
    assert admin_client.post(f"/admin/locks/lock/{lock.pk}/delete/",
                           {"post": "yes"}).status_code == 403
    admin_client.post("/admin/locks/lock/", {"action": "delete_selected", "post": "yes",
                                           "_selected_action": [lock.pk]})
    assert Lock.objects.filter(pk=lock.pk).exists()
    page = admin_client.get(f"/admin/locks/lock/{lock.pk}/change/").content.decode()
    assert "deletelink" not in page

    # Force-release is the way out, and the next holder gets a newer fencing token.
    admin_client.post("/admin/locks/lock/", {"action": "force_release",
                                           "_selected_action": [lock.pk]})
    taken = client_a.post(lock_url("fenced", "acquire"), {"owner_id": "two"}, format="json")
    assert taken.json()["lock"]["version"] == 1


# --- Workspaces -------------------------------------------------------------------------------


def test_add_workspace_defaults_the_owner_to_the_operator(admin_client, admin_user):
    page = admin_client.get("/admin/workspaces/workspace/add/")
    form = page.context["adminform"].form
    assert form["created_by"].value() == admin_user.pk
    assert form.fields["created_by"].required
    assert form.fields["created_by"].label == "Owner"
    assert "is_personal" not in form.fields
    assert page.context["inline_admin_formsets"] == []

    response = admin_client.post("/admin/workspaces/workspace/add/", {
        "name": "Ops Team", "slug": "ops-team", "description": "", "created_by": admin_user.pk})
    assert response.status_code == 302
    workspace = Workspace.objects.get(slug="ops-team")
    assert response["Location"] == "/admin/workspaces/workspace/"
    assert list(workspace.memberships.values_list("user", "role")) == [
        (admin_user.pk, Role.OWNER)]
    assert list(workspace.environments.values_list("slug", flat=True)) == ["default"]
    assert workspace.created_by == admin_user and not workspace.is_personal


def test_add_workspace_for_another_owner(admin_client, tenant_b):
    response = admin_client.post("/admin/workspaces/workspace/add/", {
        "name": "Bob's team", "slug": "bobs-team", "description": "For Bob",
        "created_by": tenant_b.user.pk})
    assert response.status_code == 302
    workspace = Workspace.objects.get(slug="bobs-team")
    assert list(workspace.memberships.values_list("user", "role")) == [
        (tenant_b.user.pk, Role.OWNER)]
    assert workspace.environments.count() == 1
    # The new owner sees it through the API, with its environment.
    listed = tenant_b.jwt_client().get("/api/v1/ui/workspaces").json()
    assert {"slug": "bobs-team", "role": "owner"}.items() <= next(
        entry for entry in listed if entry["slug"] == "bobs-team").items()


def test_add_workspace_needs_an_owner(admin_client):
    response = admin_client.post("/admin/workspaces/workspace/add/", {
        "name": "Nobody's", "slug": "nobodys", "description": "", "created_by": ""})
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["created_by"]
    assert not Workspace.objects.filter(slug="nobodys").exists()


# --- Memberships: the last owner stays ----------------------------------------------------------


def workspace_page(client, workspace):
    return client.get(f"/admin/workspaces/workspace/{workspace.pk}/change/")


def post_workspace(client, workspace, data):
    return client.post(f"/admin/workspaces/workspace/{workspace.pk}/change/", data)


def membership(workspace, user):
    return WorkspaceMember.objects.get(workspace=workspace, user=user)


def test_inline_cannot_demote_the_only_owner(admin_client, tenant_a):
    page = workspace_page(admin_client, tenant_a.workspace)
    data = change_form_data(page)
    [row] = inline_rows(page, "memberships").values()
    data[f"{row}-role"] = Role.MEMBER
    response = post_workspace(admin_client, tenant_a.workspace, data)
    assert response.status_code == 200
    assert "Cannot remove the last owner of Alice WS (alice-ws)." in response.content.decode()
    assert membership(tenant_a.workspace, tenant_a.user).role == Role.OWNER


def test_inline_cannot_delete_the_only_owner(admin_client, tenant_a, tenant_b):
    factories.add_member(tenant_a.workspace, tenant_b.user, Role.ADMIN)
    page = workspace_page(admin_client, tenant_a.workspace)
    data = change_form_data(page)
    rows = {member.user: row for member, row in inline_rows(page, "memberships").items()}
    data[f"{rows[tenant_a.user]}-DELETE"] = "on"
    response = post_workspace(admin_client, tenant_a.workspace, data)
    assert response.status_code == 200
    assert "Cannot remove the last owner" in response.content.decode()
    assert membership(tenant_a.workspace, tenant_a.user).role == Role.OWNER


def test_inline_hands_the_owner_role_over_in_one_save(admin_client, tenant_a, tenant_b):
    factories.add_member(tenant_a.workspace, tenant_b.user, Role.MEMBER)
    page = workspace_page(admin_client, tenant_a.workspace)
    data = change_form_data(page)
    rows = {member.user: row for member, row in inline_rows(page, "memberships").items()}
    data[f"{rows[tenant_a.user]}-DELETE"] = "on"
    data[f"{rows[tenant_b.user]}-role"] = Role.OWNER
    response = post_workspace(admin_client, tenant_a.workspace, data)
    assert response.status_code == 302
    assert list(tenant_a.workspace.memberships.values_list("user", "role")) == [
        (tenant_b.user.pk, Role.OWNER)]


def test_inline_cannot_move_a_membership_to_another_user(admin_client, tenant_a, tenant_b):
    page = workspace_page(admin_client, tenant_a.workspace)
    data = change_form_data(page)
    [row] = inline_rows(page, "memberships").values()
    data[f"{row}-user"] = str(tenant_b.user.pk)
    response = post_workspace(admin_client, tenant_a.workspace, data)
    assert response.status_code == 200
    assert "cannot be moved to another user or workspace" in response.content.decode()
    assert membership(tenant_a.workspace, tenant_a.user).role == Role.OWNER


def test_inline_edits_that_keep_an_owner_are_saved(admin_client, tenant_a, tenant_b):
    second = factories.add_member(tenant_a.workspace, tenant_b.user, Role.OWNER)
    page = workspace_page(admin_client, tenant_a.workspace)
    data = change_form_data(page)
    rows = {member.user: row for member, row in inline_rows(page, "memberships").items()}
    data[f"{rows[tenant_b.user]}-role"] = Role.ADMIN
    assert post_workspace(admin_client, tenant_a.workspace, data).status_code == 302
    second.refresh_from_db()
    assert second.role == Role.ADMIN


def test_user_page_inline_keeps_the_last_owner_too(admin_client, tenant_a):
    url = f"/admin/accounts/user/{tenant_a.user.pk}/change/"
    page = admin_client.get(url)
    data = change_form_data(page)
    [row] = inline_rows(page, "memberships").values()
    data[f"{row}-role"] = Role.ADMIN
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert "Cannot remove the last owner of Alice WS (alice-ws)." in response.content.decode()
    data[f"{row}-role"] = Role.OWNER
    data[f"{row}-DELETE"] = "on"
    assert "Cannot remove the last owner" in admin_client.post(url, data).content.decode()
    assert membership(tenant_a.workspace, tenant_a.user).role == Role.OWNER


# --- API keys: revoked, never deleted ------------------------------------------------------------


def test_api_keys_cannot_be_deleted(admin_client, tenant_a):
    key = ApiKey.objects.get(environment=tenant_a.environment)
    assert "delete_selected" not in actions_offered(admin_client, "/admin/workspaces/apikey/")
    assert admin_client.get(f"/admin/workspaces/apikey/{key.pk}/delete/").status_code == 403
    assert admin_client.post(f"/admin/workspaces/apikey/{key.pk}/delete/",
                           {"post": "yes"}).status_code == 403
    page = admin_client.get(f"/admin/workspaces/apikey/{key.pk}/change/").content.decode()
    assert "deletelink" not in page
    assert ApiKey.objects.filter(pk=key.pk).exists()


def test_revoke_button_on_the_key_page(admin_client, tenant_a, client_a):
    key = ApiKey.objects.get(environment=tenant_a.environment)
    change_url = f"/admin/workspaces/apikey/{key.pk}/change/"
    revoke_url = f"/admin/workspaces/apikey/{key.pk}/revoke/"
    assert f'href="{revoke_url}"' in admin_client.get(change_url).content.decode()
    confirm = admin_client.get(revoke_url)
    assert confirm.status_code == 200
    assert "Yes, revoke it" in confirm.content.decode()
    key.refresh_from_db()
    assert key.revoked_at is None  # GET only asks

    response = admin_client.post(revoke_url)
    assert response.status_code == 302 and response["Location"] == change_url
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert client_a.get("/api/v1/target-roots").status_code == 401
    assert f'href="{revoke_url}"' not in admin_client.get(change_url).content.decode()
    first_revocation = key.revoked_at
    admin_client.post(revoke_url)  # idempotent
    key.refresh_from_db()
    assert key.revoked_at == first_revocation


# --- Environments: a workspace keeps one ---------------------------------------------------------


def test_inline_cannot_delete_the_last_environment(admin_client, tenant_a):
    page = workspace_page(admin_client, tenant_a.workspace)
    data = change_form_data(page)
    [row] = inline_rows(page, "environments").values()
    data[f"{row}-DELETE"] = "on"
    response = post_workspace(admin_client, tenant_a.workspace, data)
    assert response.status_code == 200
    assert "Cannot delete the last environment." in response.content.decode()
    assert tenant_a.workspace.environments.count() == 1


def test_inline_deletes_an_environment_through_the_service(admin_client, tenant_a):
    extra = factories.make_environment(tenant_a.workspace, "staging")
    page = workspace_page(admin_client, tenant_a.workspace)
    data = change_form_data(page)
    rows = {env.slug: row for env, row in inline_rows(page, "environments").items()}
    data[f"{rows['staging']}-DELETE"] = "on"
    assert post_workspace(admin_client, tenant_a.workspace, data).status_code == 302
    assert not tenant_a.workspace.environments.filter(pk=extra.pk).exists()


def test_environment_delete_page_refuses_the_last_one(admin_client, tenant_a):
    env = tenant_a.environment
    page = admin_client.get(f"/admin/workspaces/environment/{env.pk}/delete/")
    assert "keeps at least one environment" in page.content.decode()
    admin_client.post(f"/admin/workspaces/environment/{env.pk}/delete/", {"post": "yes"})
    admin_client.post("/admin/workspaces/environment/", {
        "action": "delete_selected", "post": "yes", "_selected_action": [env.pk]})
    assert tenant_a.workspace.environments.filter(pk=env.pk).exists()

    extra = factories.make_environment(tenant_a.workspace, "staging")
    admin_client.post(f"/admin/workspaces/environment/{extra.pk}/delete/", {"post": "yes"})
    assert not tenant_a.workspace.environments.filter(pk=extra.pk).exists()


def test_environment_cannot_be_moved_to_another_workspace(admin_client, tenant_a):
    page = admin_client.get(f"/admin/workspaces/environment/{tenant_a.environment.pk}/change/")
    assert "workspace" not in page.context["adminform"].form.fields


def test_environment_with_keys_locks_and_builds_is_deleted_with_its_data(admin_client, tenant_a,
                                                                         client_a):
    """Keys and locks cannot be deleted one by one, but they go with their environment (as with
    the API's environment delete)."""
    from builds.models import Build

    extra = factories.make_environment(tenant_a.workspace, "staging")
    factories.make_api_key(extra)
    lock_acquire(environment=extra, name="held", owner_id="x")
    Build.objects.create(environment=extra, name="b-1")
    page = admin_client.get(f"/admin/workspaces/environment/{extra.pk}/delete/")
    assert "Are you sure you want to delete" in page.content.decode()
    admin_client.post(f"/admin/workspaces/environment/{extra.pk}/delete/", {"post": "yes"})
    assert not tenant_a.workspace.environments.filter(pk=extra.pk).exists()
    assert not Lock.objects.filter(environment_id=extra.pk).exists()


# --- Users: deleting the last owner of a shared workspace is refused ---------------------------


def test_user_who_is_the_last_owner_of_a_shared_workspace_cannot_be_deleted(admin_client, tenant_a,
                                                                            tenant_b):
    from accounts.models import User

    url = f"/admin/accounts/user/{tenant_a.user.pk}/delete/"
    page = admin_client.get(url).content.decode()
    assert "Workspace Alice WS (alice-ws): its last owner" in page
    admin_client.post(url, {"post": "yes"})
    admin_client.post("/admin/accounts/user/", {"action": "delete_selected", "post": "yes",
                                              "_selected_action": [tenant_a.user.pk]})
    assert User.objects.filter(pk=tenant_a.user.pk).exists()

    factories.add_member(tenant_a.workspace, tenant_b.user, Role.OWNER)  # hand over first
    admin_client.post(url, {"post": "yes"})
    assert not User.objects.filter(pk=tenant_a.user.pk).exists()
    assert list(tenant_a.workspace.memberships.values_list("user", "role")) == [
        (tenant_b.user.pk, Role.OWNER)]


def test_invite_status_is_not_edited_by_hand(admin_client, tenant_a):
    from workspaces.models import Invite

    invite = Invite.objects.create(workspace=tenant_a.workspace, email="guest@x.io")
    page = admin_client.get(f"/admin/workspaces/invite/{invite.pk}/change/")
    assert "status" not in page.context["adminform"].form.fields
