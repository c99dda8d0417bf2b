"""Role changes re-check the actor's permissions after taking the workspace lock (issue 8,
item 13).

A view resolves the caller's membership before the service locks the workspace. If the caller
is demoted (or removed) in between, the service must act with the role the caller has *now*:
otherwise a just-demoted owner can still demote or remove the remaining owners.
"""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, transaction

from stardag_site.domain_errors import NotFoundError, NotPermittedError
from tests import factories
from tests.workspaces.helpers import jwt_client
from workspaces.models import Role, Workspace, WorkspaceMember
from workspaces.services import member_remove, member_update


@pytest.fixture
def owners(tenant_a):
    """Alice plus two more owners of tenant A's workspace, and a plain member."""
    alice = WorkspaceMember.objects.get(workspace=tenant_a.workspace, user=tenant_a.user)
    owner2 = factories.add_member(tenant_a.workspace, factories.make_user("o2@team.test"),
                                  Role.OWNER)
    owner3 = factories.add_member(tenant_a.workspace, factories.make_user("o3@team.test"),
                                  Role.OWNER)
    member = factories.add_member(tenant_a.workspace, factories.make_user("m@team.test"),
                                  Role.MEMBER)
    return alice, owner2, owner3, member


def stale(membership: WorkspaceMember) -> WorkspaceMember:
    """The membership as a view loaded it, before a concurrent change committed."""
    return WorkspaceMember.objects.select_related("workspace").get(pk=membership.pk)


def role_of(membership: WorkspaceMember) -> str:
    return WorkspaceMember.objects.get(pk=membership.pk).role


@pytest.mark.django_db
def test_demoted_owner_cannot_demote_an_owner_with_its_stale_role(owners):
    _, owner2, owner3, _ = owners
    actor = stale(owner2)  # owner2's request resolved its membership as owner ...
    WorkspaceMember.objects.filter(pk=owner2.pk).update(role=Role.MEMBER)  # ... then Alice won
    with pytest.raises(NotPermittedError, match="Requires admin role or higher"):
        member_update(actor=actor, member=stale(owner3), role=Role.MEMBER)
    assert role_of(owner3) == Role.OWNER


@pytest.mark.django_db
def test_owner_demoted_to_admin_cannot_touch_owner_roles(owners):
    _, owner2, owner3, member = owners
    actor = stale(owner2)
    WorkspaceMember.objects.filter(pk=owner2.pk).update(role=Role.ADMIN)
    with pytest.raises(NotPermittedError, match="Only owners can modify owner roles"):
        member_update(actor=actor, member=stale(member), role=Role.OWNER)
    with pytest.raises(NotPermittedError, match="Only owners can remove owners"):
        member_remove(actor=actor, member=stale(owner3))
    assert role_of(member) == Role.MEMBER
    assert role_of(owner3) == Role.OWNER
    # With the role it has now, the admin still does what admins may do.
    member_update(actor=actor, member=stale(member), role=Role.ADMIN)
    assert role_of(member) == Role.ADMIN


@pytest.mark.django_db
def test_removed_actor_gets_not_found_and_changes_nothing(owners):
    _, owner2, owner3, member = owners
    actor = stale(owner2)
    WorkspaceMember.objects.filter(pk=owner2.pk).delete()
    with pytest.raises(NotFoundError, match="Workspace not found"):
        member_update(actor=actor, member=stale(member), role=Role.ADMIN)
    with pytest.raises(NotFoundError, match="Workspace not found"):
        member_remove(actor=actor, member=stale(owner3))
    assert role_of(member) == Role.MEMBER
    assert WorkspaceMember.objects.filter(pk=owner3.pk).exists()


@pytest.mark.django_db
def test_target_removed_meanwhile_is_not_found(owners):
    alice, _, _, member = owners
    target = stale(member)
    WorkspaceMember.objects.filter(pk=member.pk).delete()
    with pytest.raises(NotFoundError, match="Member not found"):
        member_update(actor=stale(alice), member=target, role=Role.ADMIN)


def _waiting_on_a_lock() -> int:
    """Backends of this test database waiting for a lock. The activity view is snapshotted once
    per transaction, so the snapshot is cleared first (we poll inside one transaction)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                       " AND wait_event_type = 'Lock'")
        return cursor.fetchone()[0]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_request_queued_behind_its_callers_demotion_is_refused(tenant_a, owners):
    """Over HTTP on PostgreSQL, with real threads: owner2 asks to demote owner3 while Alice's
    transaction, holding the workspace lock, demotes owner2. owner2's request read its
    membership (owner) before queueing on the lock; once Alice commits, it must be refused."""
    _, owner2, owner3, _ = owners
    workspace: Workspace = tenant_a.workspace
    url = f"/api/v1/ui/workspaces/{workspace.id}/members/{owner3.id}"
    client = jwt_client(owner2.user, workspace)
    outcome: dict[str, object] = {}

    def owner2_request() -> None:
        try:
            response = client.patch(url, {"role": "member"}, format="json")
            outcome["status"] = response.status_code
            outcome["detail"] = response.json().get("detail")
        finally:
            connection.close()

    with transaction.atomic():
        Workspace.objects.select_for_update().get(pk=workspace.pk)  # Alice's service holds it
        WorkspaceMember.objects.filter(pk=owner2.pk).update(role=Role.MEMBER)
        thread = threading.Thread(target=owner2_request)
        thread.start()
        deadline = time.monotonic() + 20
        while _waiting_on_a_lock() == 0:  # owner2's request is past its membership check
            assert time.monotonic() < deadline, "the request never queued on the lock"
            time.sleep(0.02)
    thread.join(timeout=30)
    assert outcome == {"status": 403, "detail": "Requires admin role or higher"}
    assert role_of(owner3) == Role.OWNER
