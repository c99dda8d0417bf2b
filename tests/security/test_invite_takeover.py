"""Issue 8, item 1, end to end: an identity-provider token that merely *names* the invitee's
address (``email_verified`` false or absent) must not see, accept or decline the invitee's
invites. Before the fix, Mallory saw Carol's invite in ``/me/invites`` and joined as admin.
"""

from __future__ import annotations

import pytest

from tests.security.conftest import exchanged_client, idp_client

pytestmark = pytest.mark.django_db

ME = "/api/v1/ui/me"
MY_INVITES = "/api/v1/ui/me/invites"


@pytest.fixture
def team_invite(oidc_provider):
    """Alice signs in, creates a team workspace and invites carol@example.com as admin."""
    alice = idp_client(oidc_provider, "alice-sub", "alice@example.com")
    created = alice.post("/api/v1/ui/workspaces", {"name": "Team", "slug": "team"},
                         format="json")
    assert created.status_code == 201, created.content
    team_id = created.json()["id"]
    alice_team = exchanged_client(alice, team_id)
    invited = alice_team.post(f"/api/v1/ui/workspaces/{team_id}/invites",
                              {"email": "carol@example.com", "role": "admin"}, format="json")
    assert invited.status_code == 201, invited.content
    return {"team_id": team_id, "invite_id": invited.json()["id"], "alice": alice_team}


def member_emails(team_invite) -> list[str]:
    response = team_invite["alice"].get(f"/api/v1/ui/workspaces/{team_invite['team_id']}/members")
    assert response.status_code == 200
    return sorted(member["email"] for member in response.json())


def assert_cannot_touch_the_invite(client, team_invite) -> None:
    invite_id = team_invite["invite_id"]
    assert client.get(MY_INVITES).json() == []
    for action in ("accept", "decline"):
        response = client.post(f"/api/v1/ui/workspaces/invites/{invite_id}/{action}")
        assert response.status_code == 404, response.content
        assert response.json() == {"detail": "Invite not found"}
    pending = team_invite["alice"].get(f"/api/v1/ui/workspaces/{team_invite['team_id']}/invites")
    assert [(i["id"], i["status"]) for i in pending.json()] == [(invite_id, "pending")]
    assert member_emails(team_invite) == ["alice@example.com"]


@pytest.mark.parametrize("email_verified", [False, None], ids=["verified-false", "no-claim"])
def test_unverified_address_on_first_contact_cannot_take_the_invite(
        oidc_provider, team_invite, email_verified):
    mallory = idp_client(oidc_provider, "mallory-sub", "carol@example.com",
                         email_verified=email_verified)
    assert mallory.get(ME).status_code == 200  # she is signed in, just not as Carol
    assert_cannot_touch_the_invite(mallory, team_invite)


def test_existing_user_switching_to_an_unverified_address_cannot_take_the_invite(
        oidc_provider, team_invite):
    mallory_own = idp_client(oidc_provider, "mallory-sub", "mallory@example.com")
    assert mallory_own.get(ME).json()["user"]["email"] == "mallory@example.com"
    mallory = idp_client(oidc_provider, "mallory-sub", "carol@example.com", email_verified=False)
    assert mallory.get(ME).json()["user"]["email"] == "mallory@example.com"
    assert_cannot_touch_the_invite(mallory, team_invite)
    # Nor through an internal token of her own workspace, minted by the exchange.
    personal = mallory.get(ME).json()["workspaces"][0]["id"]
    assert_cannot_touch_the_invite(exchanged_client(mallory, personal), team_invite)


def test_the_real_invitee_still_gets_in_after_a_squatter(oidc_provider, team_invite):
    mallory = idp_client(oidc_provider, "mallory-sub", "carol@example.com", email_verified=False)
    mallory_id = mallory.get(ME).json()["user"]["id"]
    carol = idp_client(oidc_provider, "carol-sub", "carol@example.com", email_verified=True)
    me = carol.get(ME)
    assert me.status_code == 200, me.content  # not 409, and not re-linked to Mallory's account
    assert me.json()["user"]["id"] != mallory_id
    assert me.json()["user"]["email"] == "carol@example.com"
    invites = carol.get(MY_INVITES).json()
    assert [(i["id"], i["role"]) for i in invites] == [(team_invite["invite_id"], "admin")]
    accepted = carol.post(f"/api/v1/ui/workspaces/invites/{team_invite['invite_id']}/accept")
    assert accepted.status_code == 200
    assert member_emails(team_invite) == ["alice@example.com", "carol@example.com"]
    assert mallory.get(MY_INVITES).json() == []
    assert mallory.get(ME).json()["user"]["email"].endswith("@unverified.invalid")


def test_operator_may_trust_tokens_that_never_carry_the_claim(oidc_provider, team_invite,
                                                              settings):
    """``OIDC_ASSUME_EMAIL_VERIFIED`` is for providers that never send ``email_verified``; an
    explicit ``false`` is still refused."""
    settings.OIDC_ASSUME_EMAIL_VERIFIED = True
    mallory = idp_client(oidc_provider, "mallory-sub", "carol@example.com", email_verified=False)
    assert_cannot_touch_the_invite(mallory, team_invite)
    carol = idp_client(oidc_provider, "carol-sub", "carol@example.com", email_verified=None)
    assert [i["id"] for i in carol.get(MY_INVITES).json()] == [team_invite["invite_id"]]
