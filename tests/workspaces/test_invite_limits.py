"""Invitation e-mails cannot be used to send mail in bulk (issue 8, item 15): a cap on pending
invites per workspace and a per-user rate of invites, answered with 429 in the §8.6 shape."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests import factories
from tests.workspaces.helpers import detail, jwt_client
from workspaces.models import Invite, InviteStatus, Role

pytestmark = pytest.mark.django_db


def invites_url(workspace):
    return f"/api/v1/ui/workspaces/{workspace.id}/invites"


def invite(client, workspace, email):
    return client.post(invites_url(workspace), {"email": email}, format="json")


def test_pending_invites_per_workspace_are_capped(tenant_a, settings):
    settings.INVITES_MAX_PENDING_PER_WORKSPACE = 3
    settings.INVITES_PER_USER_PER_HOUR = 0  # off: this test is about the cap only
    client = tenant_a.jwt_client()
    for n in range(3):
        assert invite(client, tenant_a.workspace, f"p{n}@x.io").status_code == 201
    refused = invite(client, tenant_a.workspace, "p3@x.io")
    assert refused.status_code == 429
    assert detail(refused) == {
        "error_code": "QUOTA_EXCEEDED",
        "message": "Workspace has reached the limit of 3 pending invites; cancel some or wait "
                   "until they are answered",
    }
    assert "Retry-After" not in refused  # waiting alone does not lift a quota
    assert not Invite.objects.filter(email="p3@x.io").exists()

    # Answered or cancelled invites no longer count against the cap.
    first = Invite.objects.get(email="p0@x.io")
    assert client.delete(f"{invites_url(tenant_a.workspace)}/{first.id}").status_code == 204
    Invite.objects.filter(email="p1@x.io").update(status=InviteStatus.ACCEPTED)
    assert invite(client, tenant_a.workspace, "p3@x.io").status_code == 201
    assert invite(client, tenant_a.workspace, "p4@x.io").status_code == 201
    assert invite(client, tenant_a.workspace, "p5@x.io").status_code == 429


def test_cap_is_per_workspace(tenant_a, tenant_b, settings):
    settings.INVITES_MAX_PENDING_PER_WORKSPACE = 1
    settings.INVITES_PER_USER_PER_HOUR = 0
    assert invite(tenant_a.jwt_client(), tenant_a.workspace, "a@x.io").status_code == 201
    assert invite(tenant_a.jwt_client(), tenant_a.workspace, "b@x.io").status_code == 429
    assert invite(tenant_b.jwt_client(), tenant_b.workspace, "a@x.io").status_code == 201


def test_invites_per_user_are_rate_limited(tenant_a, tenant_b, settings):
    settings.INVITES_MAX_PENDING_PER_WORKSPACE = 0
    settings.INVITES_PER_USER_PER_HOUR = 3
    client = tenant_a.jwt_client()
    other_workspace = factories.make_workspace(tenant_a.user, slug="alice-second")
    other_client = jwt_client(tenant_a.user, other_workspace)
    assert invite(client, tenant_a.workspace, "r0@x.io").status_code == 201
    created = invite(client, tenant_a.workspace, "r1@x.io")
    # Cancelling does not give the slot back: a create-and-cancel loop still sends mail.
    assert client.delete(
        f"{invites_url(tenant_a.workspace)}/{created.json()['id']}").status_code == 204
    assert invite(other_client, other_workspace, "r2@x.io").status_code == 201  # all workspaces

    refused = invite(client, tenant_a.workspace, "r3@x.io")
    assert refused.status_code == 429
    assert detail(refused) == {"error_code": "RATE_LIMIT",
                               "message": "Invite rate limit reached: at most 3 invites per hour"}
    assert 3500 <= int(refused["Retry-After"]) <= 3600
    assert not Invite.objects.filter(email="r3@x.io").exists()

    # Another admin of the same workspace has their own allowance.
    colleague = factories.make_user("colleague@x.io")
    factories.add_member(tenant_a.workspace, colleague, Role.ADMIN)
    assert invite(jwt_client(colleague, tenant_a.workspace), tenant_a.workspace,
                  "r3@x.io").status_code == 201

    # Once the oldest invite is more than an hour old, one more is allowed, and Retry-After
    # names when the next slot frees.
    hour_ago = timezone.now() - timedelta(hours=1, seconds=1)
    Invite.objects.filter(email="r0@x.io").update(created_at=hour_ago)
    Invite.objects.filter(email="r1@x.io").update(created_at=hour_ago + timedelta(minutes=31))
    assert invite(client, tenant_a.workspace, "r4@x.io").status_code == 201
    refused = invite(client, tenant_a.workspace, "r5@x.io")
    assert refused.status_code == 429
    assert 1800 <= int(refused["Retry-After"]) <= 1860  # r1 leaves the window in 31 min


def test_limits_have_sensible_defaults():
    from django.conf import settings

    assert settings.INVITES_MAX_PENDING_PER_WORKSPACE == 100
    assert settings.INVITES_PER_USER_PER_HOUR == 50
