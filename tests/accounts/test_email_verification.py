"""An e-mail address is the caller's only when a token said it was verified (issue 8, item 1).

The stored ``User.email_verified`` records that fact; only a verified address updates
``User.email`` or matches invites, and an address that an account only *named* in unverified
tokens cannot be squatted: a verified claimant takes it back.
"""

from __future__ import annotations

import pytest

from accounts.models import User
from accounts.services import email_verified, unverified_placeholder, user_from_oidc_claims
from stardag_site.domain_errors import NotFoundError
from tests import factories
from workspaces.invites import invite_accept, invite_decline, invites_pending_for
from workspaces.models import Invite, Role, Workspace, WorkspaceMember

pytestmark = pytest.mark.django_db

ABSENT = object()


def claims(sub: str, email: str | None, verified: object = True, **extra: object) -> dict:
    base: dict = {"sub": sub, "iss": "x", "exp": 0, **extra}
    if email is not None:
        base["email"] = email
    if verified is not ABSENT:
        base["email_verified"] = verified
    return base


@pytest.mark.parametrize(("verified", "assume", "expected"), [
    (True, False, True), ("true", False, True), ("TRUE", False, True),
    (False, False, False), ("false", False, False), (None, False, False),
    (ABSENT, False, False),
    (ABSENT, True, True),   # the provider never sends the claim, and the operator says so
    (False, True, False),   # an explicit "not verified" is never overridden
    ("false", True, False),
])
def test_email_verified_reads_the_claim(settings, verified, assume, expected):
    settings.OIDC_ASSUME_EMAIL_VERIFIED = assume
    token = claims("s", "a@b.c", verified)
    if verified is None:
        token["email_verified"] = None
    assert email_verified(token) is expected


def test_first_contact_stores_whether_the_address_was_verified():
    verified = user_from_oidc_claims(claims("v-sub", "v@example.com", True))
    unverified = user_from_oidc_claims(claims("u-sub", "u@example.com", False))
    absent = user_from_oidc_claims(claims("a-sub", "a@example.com", ABSENT))
    assert [u.email_verified for u in User.objects.filter(
        pk__in=[verified.pk, unverified.pk, absent.pk]).order_by("email")] == [False, False, True]


def test_unverified_token_does_not_change_the_stored_email(tenant_a):
    user_from_oidc_claims(claims("alice-sub", "carol@example.com", False))
    user_from_oidc_claims(claims("alice-sub", "carol@example.com", ABSENT))
    tenant_a.user.refresh_from_db()
    assert (tenant_a.user.email, tenant_a.user.email_verified) == ("alice@example.com", True)


def test_verified_token_updates_the_email_and_marks_it_verified():
    user = factories.make_user("old@example.com", external_id="p-sub", email_verified=False)
    user_from_oidc_claims(claims("p-sub", "old@example.com", True))
    user.refresh_from_db()
    assert (user.email, user.email_verified) == ("old@example.com", True)
    user_from_oidc_claims(claims("p-sub", "new@example.com", True))
    user.refresh_from_db()
    assert (user.email, user.email_verified) == ("new@example.com", True)


def test_unverified_user_sees_no_invites_and_cannot_answer_them(tenant_a):
    squatter = user_from_oidc_claims(claims("mallory-sub", "carol@example.com", False))
    invite = Invite.objects.create(workspace=tenant_a.workspace, email="carol@example.com",
                                   role=Role.ADMIN)
    assert list(invites_pending_for(squatter)) == []
    with pytest.raises(NotFoundError):
        invite_accept(invite_id=invite.pk, user=squatter)
    with pytest.raises(NotFoundError):
        invite_decline(invite_id=invite.pk, user=squatter)
    invite.refresh_from_db()
    assert invite.status == "pending"
    assert not WorkspaceMember.objects.filter(user=squatter, workspace=tenant_a.workspace).exists()


def test_verified_claimant_takes_an_address_back_from_an_unverified_holder():
    """The squatter must neither keep the victim out (409) nor be re-linked to the victim."""
    squatter = user_from_oidc_claims(claims("mallory-sub", "carol@example.com", False))
    carol = user_from_oidc_claims(claims("carol-sub", "Carol@example.com", True))
    assert carol.pk != squatter.pk
    carol.refresh_from_db()
    squatter.refresh_from_db()
    assert (carol.external_id, carol.email, carol.email_verified) == (
        "carol-sub", "Carol@example.com", True)
    assert (squatter.external_id, squatter.email) == (
        "mallory-sub", unverified_placeholder(squatter.pk))
    assert Workspace.objects.filter(created_by=carol, is_personal=True).count() == 1
    assert not WorkspaceMember.objects.filter(
        user=carol, workspace__created_by=squatter).exists()


def test_known_user_takes_a_verified_address_from_an_unverified_holder(tenant_a):
    squatter = user_from_oidc_claims(claims("mallory-sub", "alice@new.example.com", False))
    user_from_oidc_claims(claims("alice-sub", "alice@new.example.com", True))
    tenant_a.user.refresh_from_db()
    squatter.refresh_from_db()
    assert tenant_a.user.email == "alice@new.example.com"
    assert squatter.email == unverified_placeholder(squatter.pk)


def test_verified_address_of_another_account_is_never_taken(tenant_a, tenant_b):
    user_from_oidc_claims(claims("alice-sub", "bob@example.com", True))
    tenant_a.user.refresh_from_db()
    tenant_b.user.refresh_from_db()
    assert (tenant_a.user.email, tenant_b.user.email) == ("alice@example.com", "bob@example.com")


def test_verified_claimant_is_relinked_to_an_operator_created_account():
    """``bootstrap`` and the admin create users without a ``sub``; their first login links."""
    operator_made = User.objects.create(email="dana@example.com")
    user = user_from_oidc_claims(claims("dana-sub", "dana@example.com", True))
    assert user.pk == operator_made.pk
    operator_made.refresh_from_db()
    assert (operator_made.external_id, operator_made.email_verified) == ("dana-sub", True)
