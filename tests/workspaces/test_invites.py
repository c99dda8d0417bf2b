"""Invites: create, list, cancel, accept, decline, and the caller's own invites (§4.3, §4.6)."""

from __future__ import annotations

import logging
import time
import uuid

import pytest
from django.core import mail
from rest_framework.test import APIClient

from tests import factories
from tests.workspaces.helpers import detail, jwt_client
from workspaces.invites import invite_send_email
from workspaces.models import Invite, InviteStatus, Role, WorkspaceMember

pytestmark = pytest.mark.django_db


def invites_url(prefix, workspace):
    return f"{prefix}/workspaces/{workspace.id}/invites"


def invite(workspace, email, role=Role.MEMBER, by=None, status=InviteStatus.PENDING):
    return Invite.objects.create(workspace=workspace, email=email, role=role, invited_by=by,
                                 status=status)


def test_admin_invites_by_email(prefix, tenant_a, admin_member_client):
    response = admin_member_client.post(invites_url(prefix, tenant_a.workspace),
                                        {"email": " New.Person@Example.COM ", "role": "admin"},
                                        format="json")
    assert response.status_code == 201
    body = response.json()
    stored = Invite.objects.get(pk=body["id"])
    assert body == {"id": str(stored.id), "email": "new.person@example.com", "role": "admin",
                    "status": "pending", "invited_by_email": stored.invited_by.email}
    assert stored.workspace == tenant_a.workspace


def test_role_defaults_to_member(prefix, tenant_a):
    response = tenant_a.jwt_client().post(invites_url(prefix, tenant_a.workspace),
                                          {"email": "x@y.z"}, format="json")
    assert response.json()["role"] == "member"


def test_only_owners_invite_owners(prefix, tenant_a, admin_member_client):
    url = invites_url(prefix, tenant_a.workspace)
    response = admin_member_client.post(url, {"email": "x@y.z", "role": "owner"}, format="json")
    assert response.status_code == 403
    assert detail(response) == "Requires owner role or higher"
    response = tenant_a.jwt_client().post(url, {"email": "x@y.z", "role": "owner"},
                                          format="json")
    assert response.status_code == 201


def test_member_may_not_invite_or_list(prefix, tenant_a, plain_member_client):
    url = invites_url(prefix, tenant_a.workspace)
    for response in (plain_member_client.get(url),
                     plain_member_client.post(url, {"email": "x@y.z"}, format="json")):
        assert response.status_code == 403
        assert detail(response) == "Requires admin role or higher"


def test_personal_workspace_has_no_invites(prefix, tenant_a):
    personal = factories.make_workspace(tenant_a.user, slug="alice", is_personal=True)
    response = tenant_a.jwt_client().post(invites_url(prefix, personal), {"email": "x@y.z"},
                                          format="json")
    assert response.status_code == 403
    assert detail(response) == "Cannot invite members to a personal workspace"


def test_existing_member_cannot_be_invited(prefix, tenant_a, tenant_b):
    factories.add_member(tenant_a.workspace, tenant_b.user)
    response = tenant_a.jwt_client().post(invites_url(prefix, tenant_a.workspace),
                                          {"email": "BOB@example.com"}, format="json")
    assert response.status_code == 409
    assert detail(response) == "User is already a member"


def test_one_pending_invite_per_email(prefix, tenant_a):
    client = tenant_a.jwt_client()
    url = invites_url(prefix, tenant_a.workspace)
    assert client.post(url, {"email": "dup@x.io"}, format="json").status_code == 201
    response = client.post(url, {"email": "DUP@x.io"}, format="json")
    assert response.status_code == 409
    assert detail(response) == "Invite already pending for this email"
    Invite.objects.filter(email="dup@x.io").update(status=InviteStatus.DECLINED)
    assert client.post(url, {"email": "dup@x.io"}, format="json").status_code == 201


@pytest.mark.parametrize("email", ["nobody", "@x.io", "a@", "a@b@c", ""])
def test_email_must_have_one_at_with_both_parts(tenant_a, email):
    response = tenant_a.jwt_client().post(invites_url("/api/v1", tenant_a.workspace),
                                          {"email": email}, format="json")
    assert response.status_code == 422
    assert detail(response)[0]["loc"] == ["body", "email"]


def test_invitation_email_is_sent_after_commit_with_escaped_html(
        tenant_a, settings, django_capture_on_commit_callbacks):
    settings.INVITE_EMAILS_ENABLED = True
    tenant_a.workspace.name = "<script>x</script>"
    tenant_a.workspace.save()
    with django_capture_on_commit_callbacks(execute=True):
        response = tenant_a.jwt_client().post(invites_url("/api/v1", tenant_a.workspace),
                                              {"email": "guest@x.io"}, format="json")
    assert response.status_code == 201
    deadline = time.monotonic() + 10
    while not mail.outbox and time.monotonic() < deadline:  # sent on a background thread
        time.sleep(0.01)
    [message] = mail.outbox
    assert message.to == ["guest@x.io"]
    html = message.alternatives[0][0]
    assert "&lt;script&gt;x&lt;/script&gt;" in html
    assert "<script>" not in html


def test_no_invitation_email_unless_enabled(tenant_a, settings,
                                            django_capture_on_commit_callbacks):
    settings.INVITE_EMAILS_ENABLED = False
    with django_capture_on_commit_callbacks(execute=True):
        tenant_a.jwt_client().post(invites_url("/api/v1", tenant_a.workspace),
                                   {"email": "guest@x.io"}, format="json")
    assert mail.outbox == []


def test_mail_failure_does_not_fail_the_invite(tenant_a, settings, caplog):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 1
    pending = invite(tenant_a.workspace, "x@y.z", by=tenant_a.user)
    with caplog.at_level(logging.WARNING, logger="workspaces.invites"):
        invite_send_email(invite=pending)  # connection refused: logged, not raised
    assert [record.getMessage() for record in caplog.records] == [
        f"Could not send the invitation e-mail for invite {pending.pk}"]
    assert caplog.records[0].exc_info is not None
    pending.refresh_from_db()
    assert pending.status == InviteStatus.PENDING


def test_list_pending_invites_oldest_first(prefix, tenant_a, django_assert_max_num_queries):
    first = invite(tenant_a.workspace, "a@x.io", by=tenant_a.user)
    second = invite(tenant_a.workspace, "b@x.io", role=Role.ADMIN)
    invite(tenant_a.workspace, "c@x.io", status=InviteStatus.CANCELLED)
    client = tenant_a.jwt_client()
    with django_assert_max_num_queries(3):
        response = client.get(invites_url(prefix, tenant_a.workspace))
    assert response.status_code == 200
    assert response.json() == [
        {"id": str(first.id), "email": "a@x.io", "role": "member", "status": "pending",
         "invited_by_email": "alice@example.com"},
        {"id": str(second.id), "email": "b@x.io", "role": "admin", "status": "pending",
         "invited_by_email": None},
    ]


def test_cancel_invite(prefix, tenant_a, tenant_b):
    pending = invite(tenant_a.workspace, "a@x.io")
    other = invite(tenant_b.workspace, "a@x.io")
    client = tenant_a.jwt_client()
    base = invites_url(prefix, tenant_a.workspace)
    assert client.delete(f"{base}/{pending.id}").status_code == 204
    pending.refresh_from_db()
    assert pending.status == InviteStatus.CANCELLED
    for invite_id in (pending.id, other.id, uuid.uuid4()):  # no longer pending / elsewhere
        response = client.delete(f"{base}/{invite_id}")
        assert response.status_code == 404
        assert detail(response) == "Invite not found"
    other.refresh_from_db()
    assert other.status == InviteStatus.PENDING


def test_malformed_invite_id_is_422(prefix, tenant_a):
    client = tenant_a.jwt_client()
    response = client.delete(f"{invites_url(prefix, tenant_a.workspace)}/zz")
    assert detail(response)[0]["loc"] == ["path", "invite_id"]
    response = client.post(f"{prefix}/workspaces/invites/zz/accept")
    assert response.status_code == 422
    assert detail(response)[0]["loc"] == ["path", "invite_id"]


def test_accept_invite_with_identity_provider_token(prefix, tenant_a, tenant_b, oidc_provider):
    pending = invite(tenant_a.workspace, "bob@example.com", role=Role.ADMIN)
    client = APIClient()
    token = oidc_provider.token("bob-sub", email="Bob@Example.com")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    response = client.post(f"{prefix}/workspaces/invites/{pending.id}/accept")
    assert response.status_code == 200
    assert response.json() == {"id": str(tenant_a.workspace.id), "name": "Alice WS",
                               "slug": "alice-ws", "description": None, "is_personal": False}
    assert WorkspaceMember.objects.get(workspace=tenant_a.workspace,
                                       user=tenant_b.user).role == Role.ADMIN
    pending.refresh_from_db()
    assert pending.status == InviteStatus.ACCEPTED
    assert pending.accepted_at is not None
    again = client.post(f"{prefix}/workspaces/invites/{pending.id}/accept")
    assert again.status_code == 404
    assert detail(again) == "Invite not found"


def test_accepting_as_existing_member_keeps_the_role(prefix, tenant_a, tenant_b):
    factories.add_member(tenant_a.workspace, tenant_b.user, Role.ADMIN)
    pending = invite(tenant_a.workspace, "bob@example.com", role=Role.MEMBER)
    response = tenant_b.jwt_client().post(f"{prefix}/workspaces/invites/{pending.id}/accept",
                                          {"ignored": True}, format="json")
    assert response.status_code == 200
    assert WorkspaceMember.objects.get(workspace=tenant_a.workspace,
                                       user=tenant_b.user).role == Role.ADMIN
    pending.refresh_from_db()
    assert pending.status == InviteStatus.ACCEPTED


def test_invite_for_someone_else_is_not_found(prefix, tenant_a, tenant_b):
    pending = invite(tenant_a.workspace, "carol@example.com")
    for action in ("accept", "decline"):
        response = tenant_b.jwt_client().post(f"{prefix}/workspaces/invites/{pending.id}/{action}")
        assert response.status_code == 404
        assert detail(response) == "Invite not found"
    pending.refresh_from_db()
    assert pending.status == InviteStatus.PENDING


def test_decline_invite(prefix, tenant_a, tenant_b):
    pending = invite(tenant_a.workspace, "bob@example.com")
    client = tenant_b.jwt_client()
    response = client.post(f"{prefix}/workspaces/invites/{pending.id}/decline")
    assert response.status_code == 204
    pending.refresh_from_db()
    assert pending.status == InviteStatus.DECLINED
    assert not WorkspaceMember.objects.filter(workspace=tenant_a.workspace,
                                              user=tenant_b.user).exists()
    assert client.post(f"{prefix}/workspaces/invites/{pending.id}/decline").status_code == 404


@pytest.mark.parametrize("path", ["/api/v1/ui/me/invites", "/api/v1/me/invites"])
def test_my_pending_invites(path, tenant_a, tenant_b, django_assert_max_num_queries):
    third = factories.make_workspace(tenant_a.user, slug="third", name="Third")
    first = invite(tenant_a.workspace, "BOB@example.com", role=Role.ADMIN, by=tenant_a.user)
    second = invite(third, "bob@example.com")
    invite(third, "someone@example.com")
    invite(tenant_a.workspace, "bob@example.com", status=InviteStatus.DECLINED)
    client = tenant_b.jwt_client()
    with django_assert_max_num_queries(2):
        response = client.get(path)
    assert response.status_code == 200
    assert response.json() == [
        {"id": str(first.id), "workspace_id": str(tenant_a.workspace.id),
         "workspace_name": "Alice WS", "role": "admin", "invited_by_email": "alice@example.com"},
        {"id": str(second.id), "workspace_id": str(third.id), "workspace_name": "Third",
         "role": "member", "invited_by_email": None},
    ]


def test_invite_endpoints_of_other_workspaces_are_hidden(prefix, tenant_a, tenant_b):
    pending = invite(tenant_b.workspace, "x@x.io")
    client = tenant_a.jwt_client()
    base = invites_url(prefix, tenant_b.workspace)
    for response in (client.get(base), client.post(base, {"email": "y@x.io"}, format="json"),
                     client.delete(f"{base}/{pending.id}")):
        assert response.status_code == 404
        assert detail(response) == "Workspace not found"


def test_new_member_token_works_after_accepting(tenant_a, tenant_b):
    pending = invite(tenant_a.workspace, "bob@example.com")
    tenant_b.jwt_client().post(f"/api/v1/ui/workspaces/invites/{pending.id}/accept")
    client = jwt_client(tenant_b.user, tenant_b.workspace)  # token scope is not compared (§3.7)
    assert client.get(f"/api/v1/ui/workspaces/{tenant_a.workspace.id}").status_code == 200
