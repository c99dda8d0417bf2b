"""The lock console: state filter, owner/expiry/version columns, force-release."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from locks.models import Lock
from locks.services import lock_acquire
from tests.locks.helpers import lock_url


def test_changelist_filters_by_state(admin_client, tenant_a):
    env = tenant_a.environment
    lock_acquire(environment=env, name="held-lock", owner_id="owner-x")
    lock_acquire(environment=env, name="stale-lock", owner_id="owner-y")
    Lock.objects.filter(name="stale-lock").update(expires_at=timezone.now() - timedelta(1))
    page = admin_client.get("/admin/locks/lock/").content.decode()
    assert "held-lock" in page and "stale-lock" in page and "owner-x" in page
    active = admin_client.get("/admin/locks/lock/?state=active").content.decode()
    assert "held-lock" in active and "stale-lock" not in active
    expired = admin_client.get("/admin/locks/lock/?state=expired").content.decode()
    assert "stale-lock" in expired and "held-lock" not in expired


def test_force_release_frees_the_lock_for_the_next_owner(admin_client, tenant_a, client_a):
    lock = lock_acquire(environment=tenant_a.environment, name="stuck-lock",
                        owner_id="stuck-owner").lock
    response = admin_client.post("/admin/locks/lock/", {
        "action": "force_release", "_selected_action": [lock.pk]}, follow=True)
    assert response.status_code == 200
    assert "Released 1 lock(s)." in response.content.decode()
    released = admin_client.get("/admin/locks/lock/?state=released").content.decode()
    assert "stuck-lock" in released
    assert "stuck-lock" not in admin_client.get("/admin/locks/lock/?state=active").content.decode()

    assert client_a.get(lock_url("stuck-lock")).status_code == 404
    assert client_a.post(lock_url("stuck-lock", "renew"), {"owner_id": "stuck-owner"},
                         format="json").status_code == 409
    taken = client_a.post(lock_url("stuck-lock", "acquire"), {"owner_id": "next"},
                          format="json")
    assert taken.json()["lock"]["version"] == 1
