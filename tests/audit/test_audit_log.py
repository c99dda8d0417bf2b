"""The audit log: every membership, role, invite, API-key and lock force-release action, from
the API and from the admin, records who, what, when and with which credential; the admin shows
it read-only and filterable."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import User
from audit.models import AuditEntry
from locks.models import Lock
from locks.services import lock_acquire
from tests import factories
from tests.workspaces.helpers import jwt_client
from workspaces.models import ApiKey, Invite, InviteStatus, Workspace, WorkspaceMember

pytestmark = pytest.mark.django_db
WS = "/api/v1/ui/workspaces"


def only_entry(action: str) -> AuditEntry:
    [entry] = AuditEntry.objects.filter(action=action)
    return entry


def assert_by_token(entry: AuditEntry, user: User, workspace: Workspace) -> None:
    assert (entry.source, entry.credential_kind, entry.credential_id) == (
        "api", "internal", str(user.pk))
    assert (entry.actor, entry.actor_email) == (user, user.email)
    assert (entry.workspace_id, entry.workspace_slug) == (workspace.pk, workspace.slug)
    assert len(entry.request_id) == 32 and entry.created_at is not None


@pytest.fixture
def staff() -> tuple[Client, User]:
    user = User.objects.create_superuser("root@example.com", "pw")
    client = Client()
    client.force_login(user)
    return client, user


def test_member_role_change_and_removal_through_the_api(tenant_a) -> None:
    client = tenant_a.jwt_client()
    member = factories.add_member(tenant_a.workspace, factories.make_user("m@example.com"))
    base = f"{WS}/{tenant_a.workspace.id}/members/{member.id}"
    assert client.patch(base, {"role": "admin"}, format="json").status_code == 200
    changed = only_entry("member.role_changed")
    assert_by_token(changed, tenant_a.user, tenant_a.workspace)
    assert changed.details == {"from": "member", "to": "admin"}
    assert (changed.target_type, changed.target_id) == ("workspacemember", str(member.pk))
    assert client.delete(base).status_code == 204
    removed = only_entry("member.removed")
    assert_by_token(removed, tenant_a.user, tenant_a.workspace)
    assert "m@example.com" in removed.target_repr and removed.details == {"role": "admin"}
    # a refused change leaves no entry
    alice = WorkspaceMember.objects.get(workspace=tenant_a.workspace, user=tenant_a.user)
    response = client.patch(f"{WS}/{tenant_a.workspace.id}/members/{alice.id}",
                            {"role": "member"}, format="json")
    assert response.status_code == 400
    assert AuditEntry.objects.filter(action="member.role_changed").count() == 1


def test_invite_created_cancelled_accepted_declined(tenant_a, tenant_b) -> None:
    client = tenant_a.jwt_client()
    invites = f"{WS}/{tenant_a.workspace.id}/invites"
    first = client.post(invites, {"email": "nobody@example.com"}, format="json").json()
    assert_by_token(only_entry("invite.created"), tenant_a.user, tenant_a.workspace)
    assert client.delete(f"{invites}/{first['id']}").status_code == 204
    cancelled = only_entry("invite.cancelled")
    assert_by_token(cancelled, tenant_a.user, tenant_a.workspace)
    assert (cancelled.target_id, cancelled.target_repr.split(" ")[0]) == (
        first["id"], "nobody@example.com")

    invitee = tenant_b.jwt_client()
    accepted = client.post(invites, {"email": tenant_b.user.email, "role": "admin"},
                           format="json").json()
    assert invitee.post(f"{WS}/invites/{accepted['id']}/accept").status_code == 200
    entry = only_entry("invite.accepted")
    assert entry.actor == tenant_b.user and entry.credential_kind == "internal"
    assert entry.workspace_id == tenant_a.workspace.pk and entry.details == {"role": "admin"}

    other = factories.make_user("other@example.com")
    declined = client.post(invites, {"email": other.email}, format="json").json()
    response = jwt_client(other, factories.make_workspace(other)).post(
        f"{WS}/invites/{declined['id']}/decline")
    assert response.status_code in (200, 204)
    assert only_entry("invite.declined").actor == other


def test_api_key_created_and_revoked_through_the_api(tenant_a) -> None:
    client = tenant_a.jwt_client()
    keys = f"{WS}/{tenant_a.workspace.id}/environments/{tenant_a.environment.id}/api-keys"
    AuditEntry.objects.all().delete()  # the fixture's own key
    created = client.post(keys, {"name": "ci"}, format="json").json()
    entry = only_entry("api_key.created")
    assert_by_token(entry, tenant_a.user, tenant_a.workspace)
    assert (entry.target_id, entry.details) == (created["id"], {"name": "ci"})
    assert created["key"] not in str(entry.details) + entry.target_repr
    assert client.delete(f"{keys}/{created['id']}").status_code == 204
    assert client.delete(f"{keys}/{created['id']}").status_code == 204  # idempotent
    assert_by_token(only_entry("api_key.revoked"), tenant_a.user, tenant_a.workspace)


def test_admin_actions_are_audited_with_the_admin_session(staff, tenant_a) -> None:
    client, root = staff
    lock_acquire(environment=tenant_a.environment, name="stuck", owner_id="gone-worker")
    lock = Lock.objects.get(name="stuck")
    response = client.post("/admin/locks/lock/", {"action": "force_release",
                                                  "_selected_action": [lock.pk]})
    assert response.status_code == 302
    released = only_entry("lock.force_released")
    assert (released.source, released.credential_kind, released.actor) == ("admin", "session",
                                                                           root)
    assert released.details["owner_id"] == "gone-worker"
    assert released.workspace_id == tenant_a.workspace.pk

    invite = Invite.objects.create(workspace=tenant_a.workspace, email="x@example.com")
    client.post("/admin/workspaces/invite/", {"action": "cancel_invites",
                                              "_selected_action": [invite.pk]})
    invite.refresh_from_db()
    assert invite.status == InviteStatus.CANCELLED
    assert only_entry("invite.cancelled").credential_kind == "session"

    key = ApiKey.objects.get(environment=tenant_a.environment)
    client.post("/admin/workspaces/apikey/", {"action": "revoke_keys",
                                              "_selected_action": [key.pk]})
    assert only_entry("api_key.revoked").actor == root

    response = client.post("/admin/workspaces/apikey/add/",
                           {"environment": tenant_a.environment.pk, "name": "from-admin"})
    assert response.status_code == 200  # the page that shows the new key once
    [created] = AuditEntry.objects.filter(action="api_key.created", source="admin")
    assert (created.actor, created.credential_kind) == (root, "session")
    new_key = ApiKey.objects.get(name="from-admin")
    assert (created.target_id, created.workspace_id) == (str(new_key.pk), tenant_a.workspace.pk)


def test_member_changes_in_the_admin_inline_are_audited(staff, tenant_a) -> None:
    """The workspace change form, with its members inline, posted as the admin does: adding,
    re-roling and removing a member each leave an entry with the admin's session."""
    client, root = staff
    workspace = tenant_a.workspace
    alice = WorkspaceMember.objects.get(workspace=workspace, user=tenant_a.user)
    bob = factories.make_user("bob@example.com")
    environment = tenant_a.environment
    url = f"/admin/workspaces/workspace/{workspace.pk}/change/"

    def post(*members: dict[str, object], initial: int) -> None:
        data = {
            "name": workspace.name, "slug": workspace.slug, "description": "",
            "created_by": workspace.created_by_id,
            "memberships-TOTAL_FORMS": str(len(members)),
            "memberships-INITIAL_FORMS": str(initial),
            "memberships-MIN_NUM_FORMS": "0", "memberships-MAX_NUM_FORMS": "1000",
            "environments-TOTAL_FORMS": "1", "environments-INITIAL_FORMS": "1",
            "environments-MIN_NUM_FORMS": "0", "environments-MAX_NUM_FORMS": "1000",
            "environments-0-id": environment.pk, "environments-0-workspace": workspace.pk,
            "environments-0-name": environment.name, "environments-0-slug": environment.slug,
            "environments-0-description": "", "environments-0-max_concurrent_locks": "",
        }
        for n, member in enumerate(members):
            data.update({f"memberships-{n}-{key}": value for key, value in member.items()})
        response = client.post(url, data)
        assert response.status_code == 302, (
            response.context["errors"] if response.context else response)

    owner_row = {"id": alice.pk, "workspace": workspace.pk, "user": alice.user_id,
                 "role": "owner"}
    post(owner_row, {"workspace": workspace.pk, "user": bob.pk, "role": "member"}, initial=1)
    membership = WorkspaceMember.objects.get(workspace=workspace, user=bob)
    added = only_entry("member.added")
    assert (added.source, added.actor, added.credential_kind) == ("admin", root, "session")
    assert added.workspace_id == workspace.pk and added.target_repr.startswith("bob@example.com")

    bob_row = {"id": membership.pk, "workspace": workspace.pk, "user": bob.pk}
    post(owner_row, {**bob_row, "role": "admin"}, initial=2)
    changed = only_entry("member.role_changed")
    assert (changed.source, changed.actor, changed.credential_kind) == ("admin", root,
                                                                       "session")
    assert changed.details == {"from": "member", "to": "admin"}

    post(owner_row, {**bob_row, "role": "admin", "DELETE": "on"}, initial=2)
    assert not WorkspaceMember.objects.filter(pk=membership.pk).exists()
    removed = only_entry("member.removed")
    assert (removed.source, removed.actor) == ("admin", root)
    assert removed.target_repr.startswith("bob@example.com")


def test_audit_log_in_the_admin_is_read_only_and_filterable(staff, tenant_a) -> None:
    client, _ = staff
    tenant_a.jwt_client().post(f"{WS}/{tenant_a.workspace.id}/invites",
                               {"email": "z@example.com"}, format="json")
    assert AuditEntry.objects.count() > 1  # the fixture's API key was audited too
    listing = client.get("/admin/audit/auditentry/", {"action": "invite.created"})
    assert listing.status_code == 200 and "z@example.com" in listing.content.decode()
    assert [e.action for e in listing.context["cl"].result_list] == ["invite.created"]
    found = client.get("/admin/audit/auditentry/", {"q": "z@example.com"})
    assert [e.action for e in found.context["cl"].result_list] == ["invite.created"]
    by_credential = client.get("/admin/audit/auditentry/", {"credential_kind": "cli"})
    assert {e.action for e in by_credential.context["cl"].result_list} == {"api_key.created"}
    entry = only_entry("invite.created")
    page = client.get(f"/admin/audit/auditentry/{entry.pk}/change/").content.decode()
    assert 'name="_save"' not in page
    assert client.get("/admin/audit/auditentry/add/").status_code == 403
    assert client.post(f"/admin/audit/auditentry/{entry.pk}/delete/").status_code == 403


def test_an_invite_added_with_the_admin_form_is_audited(staff, tenant_a) -> None:
    client, root = staff
    response = client.post("/admin/workspaces/invite/add/", {
        "workspace": tenant_a.workspace.pk, "email": "form@example.com", "role": "member",
        "status": "pending", "invited_by": root.pk,
    })
    assert response.status_code == 302, response.context["errors"] if response.context else ""
    invite = Invite.objects.get(email="form@example.com")
    entry = only_entry("invite.created")
    assert (entry.source, entry.actor, entry.credential_kind) == ("admin", root, "session")
    assert (entry.target_id, entry.workspace_id) == (str(invite.pk), tenant_a.workspace.pk)
