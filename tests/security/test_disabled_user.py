"""Issue 8, item 3, end to end: a disabled user (``is_active=False``) is turned away with 401
``User account is disabled`` for identity-provider tokens *and* internal tokens, on every route
that accepts them, including the token exchange. Before the fix, an OIDC token of a disabled
user still reached ``/ui/me``, created workspaces and exchanged for a fresh internal token.
API keys belong to environments, not users, and keep working.
"""

from __future__ import annotations

import pytest

from accounts.models import User
from tests.factories import api_key_client, make_api_key
from tests.security.conftest import exchanged_client, idp_client
from workspaces.models import Invite, Workspace

pytestmark = pytest.mark.django_db

DISABLED = {"detail": "User account is disabled"}


@pytest.fixture
def people(oidc_provider):
    """Alice and Bob as they sign in through the identity provider, each with an internal
    token for their personal workspace and an API key for its environment; then an operator
    disables Alice."""
    result = {}
    for name in ("alice", "bob"):
        idp = idp_client(oidc_provider, f"{name}-sub", f"{name}@example.com")
        me = idp.get("/api/v1/ui/me")
        assert me.status_code == 200, me.content
        workspace = Workspace.objects.get(pk=me.json()["workspaces"][0]["id"])
        environment = workspace.environments.get()
        result[name] = {
            "idp": idp, "internal": exchanged_client(idp, workspace.id), "workspace": workspace,
            "environment": environment, "key": api_key_client(make_api_key(environment)),
        }
    team = Workspace.objects.create(name="Team", slug="team")
    result["invite"] = Invite.objects.create(workspace=team, email="alice@example.com")
    User.objects.filter(external_id="alice-sub").update(is_active=False)
    return result


def routes(person, invite):
    """Every kind of route a user token opens (contract §3.6): (accepts, method, path, body),
    where ``accepts`` names the token kinds the route takes."""
    ws, env = person["workspace"].id, person["environment"].id
    both, internal, idp = {"idp", "internal"}, {"internal"}, {"idp"}
    return [
        (both, "get", "/api/v1/ui/me", None),
        (both, "get", "/api/v1/me", None),
        (both, "get", "/api/v1/ui/me/invites", None),
        (both, "get", "/api/v1/ui/workspaces", None),
        (both, "post", "/api/v1/ui/workspaces", {"name": "Another", "slug": "another"}),
        (both, "post", f"/api/v1/ui/workspaces/invites/{invite.id}/accept", None),
        (both, "post", f"/api/v1/ui/workspaces/invites/{invite.id}/decline", None),
        (internal, "get", f"/api/v1/ui/workspaces/{ws}", None),
        (internal, "get", f"/api/v1/ui/workspaces/{ws}/members", None),
        (internal, "post", f"/api/v1/ui/workspaces/{ws}/environments/{env}/api-keys",
         {"name": "k"}),
        (internal, "get", f"/api/v1/builds?environment_id={env}", None),
        (internal, "get", f"/api/v1/target-roots?environment_id={env}", None),
        (idp, "post", "/api/v1/auth/exchange", {"workspace_id": str(ws)}),
        (idp, "post", "/auth/exchange", {"workspace_id": str(ws)}),
    ]


def call(client, method, path, body):
    return getattr(client, method)(path, body, format="json") if body is not None else (
        getattr(client, method)(path))


@pytest.mark.parametrize("credential", ["idp", "internal"])
def test_disabled_user_is_refused_on_every_route(people, credential):
    alice = people["alice"]
    checked = 0
    for accepts, method, path, body in routes(alice, people["invite"]):
        if credential not in accepts:
            continue  # that token kind is refused there for everyone
        response = call(alice[credential], method, path, body)
        assert (response.status_code, response.json()) == (401, DISABLED), path
        assert response["WWW-Authenticate"], path
        checked += 1
    assert checked >= 9
    assert not Workspace.objects.filter(slug="another").exists()
    assert Invite.objects.get(pk=people["invite"].pk).status == "pending"
    assert not alice["workspace"].environments.get().api_keys.filter(name="k").exists()


def test_disabled_user_gets_no_fresh_token(people):
    response = people["alice"]["idp"].post(
        "/api/v1/auth/exchange", {"workspace_id": str(people["alice"]["workspace"].id)},
        format="json")
    assert (response.status_code, response.json()) == (401, DISABLED)
    assert "access_token" not in response.json()


def test_disabled_users_profile_is_not_refreshed_from_the_token(people, oidc_provider):
    renamed = idp_client(oidc_provider, "alice-sub", "alice@new.example.com", name="Renamed")
    assert renamed.get("/api/v1/ui/me").status_code == 401
    alice = User.objects.get(external_id="alice-sub")
    assert (alice.email, alice.display_name) == ("alice@example.com", "Alice")


def test_others_and_api_keys_keep_working(people):
    bob = people["bob"]
    for _, method, path, body in routes(bob, people["invite"])[:5]:
        assert call(bob["idp"], method, path, body).status_code in (200, 201), path
    assert bob["internal"].get("/api/v1/ui/me").status_code == 200
    # Alice's environment key is the environment's credential, not Alice's.
    assert people["alice"]["key"].get("/api/v1/builds").status_code == 200
    assert people["alice"]["key"].get("/api/v1/target-roots").status_code == 200


def test_re_enabled_user_works_again(people):
    User.objects.filter(external_id="alice-sub").update(is_active=True)
    assert people["alice"]["idp"].get("/api/v1/ui/me").status_code == 200
    assert people["alice"]["internal"].get("/api/v1/ui/me").status_code == 200
