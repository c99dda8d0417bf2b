"""Every admin action declares the permission it needs (issue 8, item 6): a view-only staff user
is neither offered nor allowed to revoke API keys, force-release locks or cancel invites."""

from __future__ import annotations

import pytest
from django.contrib import admin

from locks.models import Lock
from locks.services import lock_acquire
from workspaces.models import ApiKey, Invite, InviteStatus

pytestmark = pytest.mark.django_db


def offered_actions(client, changelist: str) -> set[str]:
    response = client.get(changelist)
    assert response.status_code == 200
    form = response.context["action_form"]  # None when no action is available at all
    return {name for name, _ in form.fields["action"].choices if name} if form else set()


@pytest.fixture
def targets(tenant_a):
    lock = lock_acquire(environment=tenant_a.environment, name="held", owner_id="holder").lock
    invite = Invite.objects.create(workspace=tenant_a.workspace, email="guest@x.io")
    key = ApiKey.objects.get(environment=tenant_a.environment)
    return key, lock, invite


ACTIONS = [
    ("/admin/workspaces/apikey/", "revoke_keys"),
    ("/admin/locks/lock/", "force_release"),
    ("/admin/workspaces/invite/", "cancel_invites"),
]


def test_every_registered_action_declares_a_permission():
    for model_admin in admin.site._registry.values():
        for action in model_admin.actions or []:
            function = getattr(model_admin, action) if isinstance(action, str) else action
            assert getattr(function, "allowed_permissions", None), (
                f"{type(model_admin).__name__}.{action} declares no permission")


@pytest.mark.parametrize(("changelist", "action"), ACTIONS)
def test_view_only_staff_is_not_offered_the_action(viewer_site, admin_client, targets,
                                                   changelist, action):
    assert action not in offered_actions(viewer_site, changelist)
    assert action in offered_actions(admin_client, changelist)


def test_view_only_staff_cannot_run_actions_by_posting_them(viewer_site, targets, client_a):
    key, lock, invite = targets
    for (changelist, action), target in zip(ACTIONS, targets, strict=True):
        response = viewer_site.post(changelist, {"action": action,
                                                 "_selected_action": [target.pk]}, follow=True)
        assert response.status_code == 200
        body = response.content.decode()
        assert "Revoked 1" not in body and "Released 1" not in body
        assert "Cancelled 1" not in body
    key.refresh_from_db()
    lock.refresh_from_db()
    invite.refresh_from_db()
    assert key.revoked_at is None
    assert client_a.get("/api/v1/target-roots").status_code == 200  # the key still works
    assert lock.released_at is None and lock.owner_id == "holder"
    assert invite.status == InviteStatus.PENDING


def test_view_only_staff_cannot_revoke_from_the_key_page(viewer_site, admin_client, targets):
    key, _, _ = targets
    page = viewer_site.get(f"/admin/workspaces/apikey/{key.pk}/change/")
    assert page.status_code == 200
    assert "/revoke/" not in page.content.decode()
    assert "/revoke/" in admin_client.get(
        f"/admin/workspaces/apikey/{key.pk}/change/").content.decode()
    assert viewer_site.get(f"/admin/workspaces/apikey/{key.pk}/revoke/").status_code == 403
    assert viewer_site.post(f"/admin/workspaces/apikey/{key.pk}/revoke/").status_code == 403
    key.refresh_from_db()
    assert key.revoked_at is None


def test_staff_with_change_permission_may_act(viewer, viewer_site, targets):
    """The declared permission is the model's change permission: granting it is enough."""
    from django.contrib.auth.models import Permission

    viewer.user_permissions.add(*Permission.objects.filter(
        codename__in=["change_apikey", "change_lock", "change_invite"]))
    key, lock, invite = targets
    for (changelist, action), target in zip(ACTIONS, targets, strict=True):
        viewer_site.post(changelist, {"action": action, "_selected_action": [target.pk]})
    key.refresh_from_db()
    invite.refresh_from_db()
    assert key.revoked_at is not None
    assert Lock.objects.get(pk=lock.pk).released_at is not None
    assert invite.status == InviteStatus.CANCELLED
