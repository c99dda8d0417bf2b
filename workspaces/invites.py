"""Invites (contract §2.4, §4.3, §4.6): at most one pending invite per (workspace, e-mail),
addresses stored lower-cased, answered once by the addressee. Every function owns its
transaction; errors carry the contract's wording.

Because every invite may send an e-mail, creation is limited so that the server cannot be used
to send mail in bulk: at most ``INVITES_MAX_PENDING_PER_WORKSPACE`` pending invites per workspace
and ``INVITES_PER_USER_PER_HOUR`` invites created per user in any rolling hour. Both answer 429
in the contract's §8.6 shape rather than 403/422: the body is valid and the caller may invite,
just not now or not this many. The rate answers ``RATE_LIMIT`` with ``Retry-After`` (waiting
lifts it); the pending cap answers ``QUOTA_EXCEEDED`` (only answered or cancelled invites lift
it). The rate counts every invite the user created, cancelled ones included, so a
create-and-cancel loop gains nothing.
"""

from __future__ import annotations

import logging
import math
import threading
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.html import escape

from accounts.models import User
from audit.services import audit_record
from stardag_site.domain_errors import (
    ConflictError,
    LimitReachedError,
    NotFoundError,
    NotPermittedError,
)
from workspaces.models import Invite, InviteStatus, Role, Workspace, WorkspaceMember

logger = logging.getLogger(__name__)

INVITE_RATE_WINDOW = timedelta(hours=1)


def _check_invite_limits(*, workspace: Workspace, user: User) -> None:
    """Raise 429 when the workspace is at its pending-invite cap or the user at their hourly
    rate. Runs with the user's and the workspace's rows locked (``invite_create``), so parallel
    requests cannot both take the last slot."""
    cap = settings.INVITES_MAX_PENDING_PER_WORKSPACE
    if cap > 0 and Invite.objects.filter(workspace=workspace,
                                         status=InviteStatus.PENDING).count() >= cap:
        raise LimitReachedError(
            f"Workspace has reached the limit of {cap} pending invites; cancel some or wait "
            "until they are answered",
        )
    rate = settings.INVITES_PER_USER_PER_HOUR
    if rate <= 0:
        return
    since = timezone.now() - INVITE_RATE_WINDOW
    recent = list(
        Invite.objects.filter(invited_by=user, created_at__gt=since)
        .order_by("-created_at")
        .values_list("created_at", flat=True)[:rate]
    )
    if len(recent) >= rate:
        # The oldest of the last ``rate`` invites leaving the window frees the next slot.
        wait = (recent[-1] + INVITE_RATE_WINDOW - timezone.now()).total_seconds()
        raise LimitReachedError(
            f"Invite rate limit reached: at most {rate} invites per hour",
            retry_after=max(1, math.ceil(wait)),
        )


def invite_create(*, actor: WorkspaceMember, email: str, role: str = Role.MEMBER) -> Invite:
    """Invite an e-mail address (stored lower-cased). At most one pending invite per address,
    within the pending cap and the inviter's hourly rate (see the module docstring); the
    invitation e-mail is sent after commit, best effort."""
    workspace = actor.workspace
    email = email.strip().lower()
    if role == Role.OWNER and actor.role != Role.OWNER:
        raise NotPermittedError("Requires owner role or higher")
    if workspace.is_personal:
        raise NotPermittedError("Cannot invite members to a personal workspace")
    with transaction.atomic():
        # Lock order user, then workspace (as ``workspace_create``): the limits hold under races.
        User.objects.select_for_update().filter(pk=actor.user_id).first()
        Workspace.objects.select_for_update().filter(pk=workspace.pk).first()
        if WorkspaceMember.objects.filter(workspace=workspace, user__email__iexact=email).exists():
            raise ConflictError("User is already a member")
        if Invite.objects.filter(workspace=workspace, email=email,
                                 status=InviteStatus.PENDING).exists():
            raise ConflictError("Invite already pending for this email")
        _check_invite_limits(workspace=workspace, user=actor.user)
        try:
            with transaction.atomic():
                invite = Invite.objects.create(workspace=workspace, email=email, role=role,
                                               invited_by=actor.user)
        except IntegrityError:
            raise ConflictError("Invite already pending for this email") from None
        audit_record(action="invite.created", target=invite, details={"role": role})
        transaction.on_commit(lambda: _send_in_background(invite))
    return invite


def invite_send_email(*, invite: Invite) -> None:
    """Best effort: a failing mail server is logged, never raised, and every value put into the
    HTML part is escaped. Runs on a background thread (see ``_send_in_background``)."""
    inviter = invite.invited_by.email if invite.invited_by else "Someone"
    workspace_name = invite.workspace.name
    subject = f"You are invited to the Stardag workspace {workspace_name}"
    text = (f"{inviter} invited you to join the Stardag workspace \"{workspace_name}\" as "
            f"{invite.role}. Sign in to accept the invitation.")
    html = (f"<p>{escape(inviter)} invited you to join the Stardag workspace "
            f"<strong>{escape(workspace_name)}</strong> as {escape(invite.role)}.</p>"
            "<p>Sign in to accept the invitation.</p>")
    try:
        send_mail(subject, text, None, [invite.email], html_message=html, fail_silently=False)
    except Exception:  # best effort by contract: log and move on
        logger.warning("Could not send the invitation e-mail for invite %s", invite.pk,
                       exc_info=True)


def _send_in_background(invite: Invite) -> None:
    """After commit, off the request thread, so a slow mail server never delays the answer.
    Only when ``INVITE_EMAILS_ENABLED`` is set (and Django's ``EMAIL_*`` settings point at a
    mail server)."""
    if not settings.INVITE_EMAILS_ENABLED:
        return
    threading.Thread(target=invite_send_email, kwargs={"invite": invite}, daemon=True,
                     name=f"invite-mail-{invite.pk}").start()


def invite_cancel(*, workspace: Workspace, invite_id: Any) -> None:
    """Cancel a pending invite of the workspace; anything else is 404."""
    with transaction.atomic():
        updated = Invite.objects.filter(
            pk=invite_id, workspace=workspace, status=InviteStatus.PENDING
        ).update(status=InviteStatus.CANCELLED)
        if updated:
            audit_record(action="invite.cancelled", target=Invite.objects.get(pk=invite_id))
    if not updated:
        raise NotFoundError("Invite not found")


def _pending_invite_for(*, invite_id: Any, user: User) -> Invite:
    """The pending invite, locked, if it is addressed to the user's *verified* address (see
    ``invites_pending_for``); anything else is 404."""
    if not user.email_verified:
        raise NotFoundError("Invite not found")
    invite = (
        Invite.objects.select_for_update()
        .filter(pk=invite_id, status=InviteStatus.PENDING, email__iexact=user.email)
        .first()
    )
    if invite is None:
        raise NotFoundError("Invite not found")
    return invite


def invite_accept(*, invite_id: Any, user: User) -> Workspace:
    """Join the invite's workspace with its role; an existing membership keeps its role."""
    with transaction.atomic():
        invite = _pending_invite_for(invite_id=invite_id, user=user)
        if not WorkspaceMember.objects.filter(workspace_id=invite.workspace_id,
                                              user=user).exists():
            try:
                with transaction.atomic():
                    WorkspaceMember.objects.create(workspace_id=invite.workspace_id, user=user,
                                                   role=invite.role)
            except IntegrityError:
                pass  # joined concurrently: keep that membership
        invite.status = InviteStatus.ACCEPTED
        invite.accepted_at = timezone.now()
        invite.save(update_fields=["status", "accepted_at"])
        audit_record(action="invite.accepted", target=invite, details={"role": invite.role})
        return Workspace.objects.get(pk=invite.workspace_id)


def invite_decline(*, invite_id: Any, user: User) -> None:
    with transaction.atomic():
        invite = _pending_invite_for(invite_id=invite_id, user=user)
        invite.status = InviteStatus.DECLINED
        invite.save(update_fields=["status"])
        audit_record(action="invite.declined", target=invite)


def invites_pending_for(user: User) -> Any:
    """Pending invites addressed to the user's e-mail (case-insensitive), oldest first.

    Only a verified address is the user's: a token that merely names someone else's address
    (``email_verified`` false or absent) must not see, accept or decline their invites. An
    unverified user therefore has none.
    """
    if not user.email_verified:
        return Invite.objects.none()
    return (
        Invite.objects.filter(status=InviteStatus.PENDING, email__iexact=user.email)
        .select_related("workspace", "invited_by")
        .order_by("created_at", "id")
    )
