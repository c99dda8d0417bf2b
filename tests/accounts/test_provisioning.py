"""User provisioning from identity-provider claims (contract §3.4) and personal workspaces
(§2.2), including concurrent first contact on PostgreSQL."""

from __future__ import annotations

import re

import pytest

from accounts.models import User
from accounts.services import display_name_from_claims, user_from_oidc_claims
from stardag_site.api.exceptions import DOMAIN_ERROR_STATUS
from stardag_site.domain_errors import ConflictError, RuleViolationError
from tests import factories
from tests.concurrency import run_threads
from workspaces.models import Environment, Role, TargetRoot, Workspace, WorkspaceMember
from workspaces.services import personal_slug_base

pytestmark = pytest.mark.django_db


def claims(sub="new-sub", email="new.person@example.com", verified=True, **extra):
    base = {"sub": sub, "iss": "x", "exp": 0, "email_verified": verified}
    if email is not None:
        base["email"] = email
    return {**base, **extra}


def test_first_contact_creates_user_and_personal_workspace():
    user = user_from_oidc_claims(claims(name="New Person"))
    assert (user.external_id, user.email, user.display_name) == (
        "new-sub", "new.person@example.com", "New Person")
    assert not user.has_usable_password()
    workspace = Workspace.objects.get(created_by=user)
    assert (workspace.slug, workspace.name, workspace.is_personal) == (
        "new-person", "New Person's Workspace", True)
    assert WorkspaceMember.objects.get(workspace=workspace, user=user).role == Role.OWNER
    environment = Environment.objects.get(workspace=workspace)
    assert (environment.name, environment.slug, environment.description, environment.owner_id) == (
        "Local", "local", "Local development environment", None)
    root = TargetRoot.objects.get(environment=environment)
    assert (root.name, root.uri_prefix) == ("default", "~/.stardag/local-target-roots/default")


def test_known_sub_returns_the_same_user_without_writes(tenant_a, django_assert_num_queries):
    with django_assert_num_queries(1):
        user = user_from_oidc_claims(claims("alice-sub", "alice@example.com", name="Alice"))
    assert user == tenant_a.user
    assert Workspace.objects.filter(created_by=user).count() == 1  # no personal one added


def test_profile_is_refreshed_from_the_token(tenant_a):
    user = user_from_oidc_claims(claims("alice-sub", "alice@new.example.com", name="Alice B"))
    user.refresh_from_db()
    assert (user.email, user.display_name) == ("alice@new.example.com", "Alice B")


def test_empty_profile_values_do_not_overwrite(tenant_a):
    user = user_from_oidc_claims(claims("alice-sub", email=None, name=" "))
    user.refresh_from_db()
    assert (user.email, user.display_name) == ("alice@example.com", "Alice")


def test_email_of_another_user_is_not_taken(tenant_a, tenant_b):
    user = user_from_oidc_claims(claims("alice-sub", "BOB@example.com"))
    user.refresh_from_db()
    assert user.email == "alice@example.com"


def test_verified_email_relinks_an_existing_user(tenant_a):
    user = user_from_oidc_claims(claims("fresh-idp-sub", "Alice@Example.com"))
    assert user.pk == tenant_a.user.pk
    user.refresh_from_db()
    assert user.external_id == "fresh-idp-sub"
    assert User.objects.count() == 1


@pytest.mark.parametrize("verified", [False, None, "false"])
def test_unverified_email_collision_is_409(tenant_a, verified):
    with pytest.raises(ConflictError) as excinfo:
        user_from_oidc_claims(claims("fresh-idp-sub", "alice@example.com", verified=verified))
    assert excinfo.value.message == "Email already registered to another identity"
    assert DOMAIN_ERROR_STATUS[ConflictError] == 409
    tenant_a.user.refresh_from_db()
    assert tenant_a.user.external_id == "alice-sub"


def test_string_true_counts_as_verified(tenant_a):
    assert user_from_oidc_claims(claims("x-sub", "alice@example.com", verified="true")) == (
        tenant_a.user)


def test_no_email_on_first_contact_is_400():
    with pytest.raises(RuleViolationError) as excinfo:
        user_from_oidc_claims(claims(email=None))
    assert excinfo.value.message == "Token must contain email claim for user creation"
    assert DOMAIN_ERROR_STATUS[RuleViolationError] == 400
    assert not User.objects.exists()


@pytest.mark.parametrize(("token_claims", "expected"), [
    ({"name": "Ada Lovelace", "given_name": "X"}, "Ada Lovelace"),
    ({"given_name": "Ada", "family_name": "Lovelace"}, "Ada Lovelace"),
    ({"given_name": "Ada"}, "Ada"),
    ({"preferred_username": "ada"}, "ada"),
    ({"email": "ada.l@example.com"}, "ada.l"),
    ({}, "the-sub"),
])
def test_display_name_fallbacks(token_claims, expected):
    assert display_name_from_claims({"sub": "the-sub", **token_claims}) == expected


@pytest.mark.parametrize(("email", "slug"), [
    ("Jane.Doe@example.com", "jane-doe"),
    ("jane+tag@example.com", "jane-tag"),
    ("__jane__@x.io", "jane"),
    ("J..A__N--E@x.io", "j-a-n-e"),
    ("élodie@x.io", "lodie"),
    ("+++@x.io", "user"),
    ("a@x.io", "a"),
    ("x" * 49 + "-yz@x.io", "x" * 49),
    ("y" * 80 + "@x.io", "y" * 50),
])
def test_personal_slug_from_email(email, slug):
    assert personal_slug_base(email) == slug


def test_personal_slug_collision_gets_a_hex_suffix(tenant_a):
    factories.make_workspace(None, slug="jane")
    user = user_from_oidc_claims(claims("jane-sub", "jane@example.com"))
    slug = Workspace.objects.get(created_by=user).slug
    assert re.fullmatch(r"jane-[0-9a-f]{4}", slug)
    other = user_from_oidc_claims(claims("jane2-sub", "jane@other.example.com"))
    assert re.fullmatch(r"jane-[0-9a-f]{4}", Workspace.objects.get(created_by=other).slug)


def test_personal_workspace_name_falls_back_to_local_part():
    user = user_from_oidc_claims(claims("s", "kim@example.com", name=None))
    assert user.display_name == "kim"
    assert Workspace.objects.get(created_by=user).name == "kim's Workspace"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_first_contact_creates_one_user():
    """Eight requests of a brand-new user arrive at once: one user, one personal workspace,
    and every request gets that user (never an error)."""
    threads_count = 8

    def first_contact(_: int) -> object:
        return user_from_oidc_claims(claims("racer-sub", "racer@example.com", name="Racer")).pk

    results = run_threads(threads_count, first_contact)  # fails on any error in a thread
    assert len(results) == threads_count
    user = User.objects.get(external_id="racer-sub")
    assert set(results) == {user.pk}
    assert Workspace.objects.filter(created_by=user, is_personal=True).count() == 1
    assert Environment.objects.filter(workspace__created_by=user).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_first_contact_over_http(live_server, oidc_provider):
    """The same race through the API (``/api/v1/ui/me``): every response is 200."""
    import httpx

    token = oidc_provider.token("http-racer", email="http.racer@example.com")

    def call(_: int) -> int:
        with httpx.Client(timeout=30) as client:
            response = client.get(f"{live_server.url}/api/v1/ui/me",
                                  headers={"Authorization": f"Bearer {token}"})
        return response.status_code

    statuses = run_threads(6, call)
    assert statuses == [200] * 6
    assert User.objects.filter(external_id="http-racer").count() == 1
    assert Workspace.objects.filter(created_by__external_id="http-racer").count() == 1
