"""User provisioning from identity-provider tokens (contract §3.4).

``user_from_oidc_claims`` runs on every OIDC-authenticated request, so the common case (a known
``sub`` whose profile did not change) is one indexed SELECT and no write.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, transaction

from accounts.models import User
from accounts.tokens import mint_access_token
from stardag_site.domain_errors import ConflictError, NotPermittedError, RuleViolationError
from workspaces.models import WorkspaceMember
from workspaces.services import workspace_create_personal

# A concurrent first contact makes our INSERT fail; we then re-read the winner's row. More
# than a couple of rounds would mean something else is wrong, and then we let the error out.
PROVISIONING_ATTEMPTS = 3


# Length of the ``external_id``, ``email`` and ``display_name`` columns.
CLAIM_MAX_LENGTH = 255


def _clean(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value or None


def _claim_problem(claims: dict[str, Any], name: str) -> str | None:
    """Why no column could store the ``sub`` or ``email`` claim as given, else ``None``.

    These identify the person, so they are never altered: a cut or cleaned value could match
    somebody else.
    """
    value = claims.get(name)
    if isinstance(value, str):
        if "\x00" in value:
            return f"Token claim '{name}' contains a NUL character"
        if len(value.strip()) > CLAIM_MAX_LENGTH:
            return f"Token claim '{name}' is longer than {CLAIM_MAX_LENGTH} characters"
    return None


def _display_text(value: str | None) -> str | None:
    """A display name is cosmetic: drop NUL characters and cut it to the column's length, so
    an identity provider that sends a long name never locks anybody out."""
    if value is None:
        return None
    return value.replace("\x00", "").strip()[:CLAIM_MAX_LENGTH] or None


def _token_display_name(claims: dict[str, Any]) -> str | None:
    """The name the token states: ``name``, else given + family name, else username."""
    name = _clean(claims.get("name"))
    if name:
        return _display_text(name)
    full = " ".join(p for p in (_clean(claims.get("given_name")),
                                _clean(claims.get("family_name"))) if p)
    return _display_text(full or _clean(claims.get("preferred_username")))


def display_name_from_claims(claims: dict[str, Any]) -> str:
    """§3.4 fallback chain: name; given + family; preferred_username; e-mail local part; sub."""
    email = _clean(claims.get("email"))
    return (
        _token_display_name(claims)
        or (email.split("@", 1)[0] if email else None)
        or str(claims["sub"])
    )


def email_verified(claims: dict[str, Any]) -> bool:
    """Whether the token vouches for its ``email``: ``email_verified`` true (or "true"). A token
    without the claim counts as verified only with ``OIDC_ASSUME_EMAIL_VERIFIED``, for providers
    that verify every address and never send it; an explicit false never does."""
    value = claims.get("email_verified")
    if value is None:
        return bool(settings.OIDC_ASSUME_EMAIL_VERIFIED)
    return value is True or (isinstance(value, str) and value.lower() == "true")


def unverified_placeholder(user_pk: Any) -> str:
    """The address an account is left with when it loses an address it never proved.
    ``.invalid`` is reserved (RFC 2606): it can never reach anyone or match an invite."""
    return f"{user_pk}@unverified.invalid"


def _holds_address_by_right(user: User) -> bool:
    """An account keeps its address against a verified claimant when a token verified it, or
    when an operator created the account (no identity-provider ``sub`` yet: ``bootstrap``,
    ``createsuperuser``, the admin)."""
    return user.email_verified or user.external_id is None


def _free_address_for(*, email: str, user_pk: Any) -> bool:
    """Make ``email`` (which a token verified) available to ``user_pk``: an account that only
    named it in unverified tokens loses it, so no one can squat another person's address.
    False when an account holds it by right; then nothing changes."""
    holders = list(User.objects.filter(email__iexact=email).exclude(pk=user_pk))
    if any(_holds_address_by_right(holder) for holder in holders):
        return False
    for holder in holders:
        User.objects.filter(pk=holder.pk, email_verified=False).update(
            email=unverified_placeholder(holder.pk))
    return True


def _refresh_profile(user: User, claims: dict[str, Any]) -> User:
    """Copy non-empty, changed profile values from the token. The e-mail address changes (and
    counts as verified) only when the token verified it, and never to an address another
    account holds by right."""
    if not user.is_active:
        return user  # a disabled account is turned away by authentication; nothing to update
    changes: dict[str, Any] = {}
    email = _clean(claims.get("email"))
    if email and email_verified(claims):
        if email.lower() == user.email.lower():
            if not user.email_verified:
                changes["email_verified"] = True
            if email != user.email:
                changes["email"] = email
        else:
            changes.update(email=email, email_verified=True)
    name = _token_display_name(claims)
    if name and name != user.display_name:
        changes["display_name"] = name
    if changes:
        try:
            with transaction.atomic():
                if "email" in changes and not _free_address_for(email=changes["email"],
                                                                 user_pk=user.pk):
                    changes.pop("email")
                    changes.pop("email_verified", None)
                if changes:
                    User.objects.filter(pk=user.pk).update(**changes)
        except IntegrityError:  # the address was taken concurrently: keep the old one
            changes.pop("email", None)
            changes.pop("email_verified", None)
            if changes:
                User.objects.filter(pk=user.pk).update(**changes)
        for field, value in changes.items():
            setattr(user, field, value)
    return user


def _create_user_with_workspace(*, sub: str, email: str, claims: dict[str, Any]) -> User:
    with transaction.atomic():
        user = User.objects.create(
            external_id=sub, email=email, email_verified=email_verified(claims),
            display_name=display_name_from_claims(claims),
            password=make_password(None),  # API users never sign in with a password
        )
        workspace_create_personal(user=user)
    return user


def user_from_oidc_claims(claims: dict[str, Any]) -> User:
    """The user behind a verified OIDC token, created on first contact.

    1. Known ``sub`` → that user, profile refreshed (the e-mail only from a verified token).
    2. Unknown ``sub`` but a *verified* e-mail of an existing user → re-link that user to the
       new ``sub`` (identity-provider change), if the account holds the address by right
       (verified, or created by an operator). An account that only named the address in
       unverified tokens loses it instead, and the caller gets a new account. Unverified → 409.
    3. Otherwise create the user and their personal workspace in one transaction (400 without
       an e-mail). A concurrent first contact that wins the race makes our INSERT fail; we
       roll back and start over, which then finds the winner's row: never a 500.
    """
    sub_problem = _claim_problem(claims, "sub")
    if sub_problem:
        raise RuleViolationError(sub_problem)
    sub = str(claims["sub"])
    # An unstorable e-mail is ignored for a known user (never a lock-out) and refused (400)
    # when it would be needed: re-linking or creating a user.
    email_problem = _claim_problem(claims, "email")
    if email_problem:
        claims = {key: value for key, value in claims.items() if key != "email"}
    email = _clean(claims.get("email"))
    for attempt in range(PROVISIONING_ATTEMPTS):
        user = User.objects.filter(external_id=sub).first()
        if user is not None:
            return _refresh_profile(user, claims)
        if email:
            existing = User.objects.filter(email__iexact=email).first()
            if existing is not None:
                if not email_verified(claims):
                    raise ConflictError("Email already registered to another identity")
                if not _holds_address_by_right(existing):
                    # Another identity only named this address, unverified: it loses it.
                    _free_address_for(email=email, user_pk=None)
                    continue
                if not existing.is_active:
                    return existing  # turned away by authentication, not re-linked
                updated = User.objects.filter(pk=existing.pk).update(external_id=sub)
                if updated:
                    existing.external_id = sub
                    return _refresh_profile(existing, claims)
                continue  # deleted concurrently: look again
        if not email:
            raise RuleViolationError(email_problem
                                     or "Token must contain email claim for user creation")
        try:
            return _create_user_with_workspace(sub=sub, email=email, claims=claims)
        except IntegrityError:
            if attempt == PROVISIONING_ATTEMPTS - 1:
                raise
    raise RuntimeError("unreachable")  # pragma: no cover


def access_token_exchange(*, user: User, workspace_id: Any) -> tuple[str, int]:
    """An internal access token for ``user`` in the workspace (§4.2) and its lifetime in
    seconds; only a member of the workspace gets one."""
    if not WorkspaceMember.objects.filter(workspace_id=workspace_id, user=user).exists():
        raise NotPermittedError("Not a member of the requested workspace")
    return mint_access_token(user_id=user.id, workspace_id=workspace_id)
