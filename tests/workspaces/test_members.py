"""Members: list, change role, remove, leave; the last owner always stays (contract §4.5)."""

from __future__ import annotations

import uuid

import pytest

from tests import factories
from tests.workspaces.helpers import detail, jwt_client
from workspaces.models import Role, WorkspaceMember

pytestmark = pytest.mark.django_db


@pytest.fixture
def team(tenant_a):
    """Tenant A's workspace with an extra owner, an admin and a member (plus Alice, owner)."""
    users = {role: factories.make_user(f"{role}@team.test", display_name=role.title())
             for role in ("owner2", "admin", "member")}
    memberships = {
        "alice": WorkspaceMember.objects.get(workspace=tenant_a.workspace, user=tenant_a.user),
        "owner2": factories.add_member(tenant_a.workspace, users["owner2"], Role.OWNER),
        "admin": factories.add_member(tenant_a.workspace, users["admin"], Role.ADMIN),
        "member": factories.add_member(tenant_a.workspace, users["member"], Role.MEMBER),
    }
    clients = {name: jwt_client(m.user, tenant_a.workspace) for name, m in memberships.items()}
    return memberships, clients


def url(prefix, workspace, member=None):
    base = f"{prefix}/workspaces/{workspace.id}/members"
    return base if member is None else f"{base}/{member.id if hasattr(member, 'id') else member}"


def test_members_are_listed_in_join_order(prefix, tenant_a, team, django_assert_max_num_queries):
    memberships, clients = team
    with django_assert_max_num_queries(3):
        response = clients["member"].get(url(prefix, tenant_a.workspace))
    assert response.status_code == 200
    body = response.json()
    assert [m["role"] for m in body] == ["owner", "owner", "admin", "member"]
    assert body[0] == {"id": str(memberships["alice"].id), "user_id": str(tenant_a.user.id),
                       "email": "alice@example.com", "display_name": "Alice", "role": "owner"}


def test_admin_changes_member_role(prefix, tenant_a, team):
    memberships, clients = team
    response = clients["admin"].patch(url(prefix, tenant_a.workspace, memberships["member"]),
                                      {"role": "admin"}, format="json")
    assert response.status_code == 200
    assert response.json()["role"] == "admin"
    memberships["member"].refresh_from_db()
    assert memberships["member"].role == Role.ADMIN


@pytest.mark.parametrize(("target", "role"), [("member", "owner"), ("owner2", "admin")])
def test_only_owners_modify_owner_roles(prefix, tenant_a, team, target, role):
    memberships, clients = team
    response = clients["admin"].patch(url(prefix, tenant_a.workspace, memberships[target]),
                                      {"role": role}, format="json")
    assert response.status_code == 403
    assert detail(response) == "Only owners can modify owner roles"


def test_owner_promotes_and_demotes_owners(prefix, tenant_a, team):
    memberships, clients = team
    target = url(prefix, tenant_a.workspace, memberships["owner2"])
    assert clients["alice"].patch(target, {"role": "member"}, format="json").status_code == 200
    assert clients["alice"].patch(target, {"role": "owner"}, format="json").json()["role"] == (
        "owner")


def test_last_owner_cannot_be_demoted(prefix, tenant_a):
    alice = WorkspaceMember.objects.get(workspace=tenant_a.workspace, user=tenant_a.user)
    response = tenant_a.jwt_client().patch(url(prefix, tenant_a.workspace, alice),
                                           {"role": "admin"}, format="json")
    assert response.status_code == 400
    assert detail(response) == "Cannot remove the last owner"
    alice.refresh_from_db()
    assert alice.role == Role.OWNER


def test_member_may_not_change_roles(prefix, tenant_a, team):
    memberships, clients = team
    response = clients["member"].patch(url(prefix, tenant_a.workspace, memberships["member"]),
                                       {"role": "admin"}, format="json")
    assert response.status_code == 403
    assert detail(response) == "Requires admin role or higher"


@pytest.mark.parametrize(("body", "type_"), [({}, "missing"), ({"role": "king"}, "enum")])
def test_role_is_validated(prefix, tenant_a, team, body, type_):
    memberships, clients = team
    response = clients["alice"].patch(url(prefix, tenant_a.workspace, memberships["member"]),
                                      body, format="json")
    assert response.status_code == 422
    assert detail(response)[0]["loc"] == ["body", "role"]
    assert detail(response)[0]["type"] == type_


def test_member_of_another_workspace_is_not_found(prefix, tenant_a, tenant_b, team):
    _, clients = team
    bob = WorkspaceMember.objects.get(workspace=tenant_b.workspace)
    for member_id in (bob.id, uuid.uuid4()):
        for method in ("patch", "delete"):
            response = getattr(clients["alice"], method)(
                url(prefix, tenant_a.workspace, member_id), {"role": "member"}, format="json")
            assert response.status_code == 404
            assert detail(response) == "Member not found"
    assert WorkspaceMember.objects.filter(pk=bob.pk, role=Role.OWNER).exists()


def test_malformed_member_id_is_422(prefix, tenant_a):
    response = tenant_a.jwt_client().delete(url(prefix, tenant_a.workspace, "x"))
    assert response.status_code == 422
    assert detail(response)[0]["loc"] == ["path", "member_id"]


def test_admin_removes_a_member(prefix, tenant_a, team):
    memberships, clients = team
    response = clients["admin"].delete(url(prefix, tenant_a.workspace, memberships["member"]))
    assert response.status_code == 204
    assert not WorkspaceMember.objects.filter(pk=memberships["member"].pk).exists()


def test_admin_may_not_remove_an_owner(prefix, tenant_a, team):
    memberships, clients = team
    response = clients["admin"].delete(url(prefix, tenant_a.workspace, memberships["owner2"]))
    assert response.status_code == 403
    assert detail(response) == "Only owners can remove owners"


def test_owner_removes_another_owner(prefix, tenant_a, team):
    memberships, clients = team
    response = clients["alice"].delete(url(prefix, tenant_a.workspace, memberships["owner2"]))
    assert response.status_code == 204


def test_member_may_not_remove_others(prefix, tenant_a, team):
    memberships, clients = team
    response = clients["member"].delete(url(prefix, tenant_a.workspace, memberships["admin"]))
    assert response.status_code == 403
    assert detail(response) == "Requires admin role or higher"


@pytest.mark.parametrize("who", ["member", "admin", "owner2"])
def test_anyone_may_leave(prefix, tenant_a, team, who):
    memberships, clients = team
    response = clients[who].delete(url(prefix, tenant_a.workspace, memberships[who]))
    assert response.status_code == 204
    assert not WorkspaceMember.objects.filter(pk=memberships[who].pk).exists()


def test_last_owner_may_not_leave(prefix, tenant_a):
    alice = WorkspaceMember.objects.get(workspace=tenant_a.workspace, user=tenant_a.user)
    response = tenant_a.jwt_client().delete(url(prefix, tenant_a.workspace, alice))
    assert response.status_code == 400
    assert detail(response) == "Cannot remove the last owner"
    assert WorkspaceMember.objects.filter(pk=alice.pk).exists()
