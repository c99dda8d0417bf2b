"""Business rules for workspaces, members, environments and target roots.

Every function is keyword-only, owns its transaction, and raises the contract's errors
(``stardag_site.api.errors``) with the exact wording of contract §4.4-4.9. Checks that guard an
invariant across rows (workspace quota, environment quota, "keep one owner", "keep one
environment") lock the parent row first (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite runs
write transactions one at a time), so two concurrent requests cannot both pass the check.
Invites live in ``workspaces.invites``, API keys in ``workspaces.api_keys``.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q

from accounts.models import User
from audit.services import audit_record
from stardag_site.domain_errors import (
    ConflictError,
    NotFoundError,
    NotPermittedError,
    RuleViolationError,
)
from stardag_site.patching import save_patch
from workspaces.models import (
    MAX_ENVIRONMENTS_PER_WORKSPACE,
    MAX_WORKSPACES_CREATED_PER_USER,
    Environment,
    Role,
    TargetRoot,
    Workspace,
    WorkspaceMember,
    role_at_least,
)

PERSONAL_ENVIRONMENT = {
    "name": "Local",
    "slug": "local",
    "description": "Local development environment",
}
PERSONAL_TARGET_ROOT = {"name": "default", "uri_prefix": "~/.stardag/local-target-roots/default"}
PERSONAL_SLUG_MAX = 50
# Random suffixes tried on a personal-slug collision: a few of each length, growing (§2.2).
PERSONAL_SLUG_SUFFIX_HEX = (4, 4, 4, 6, 6, 6, 8, 8, 8)

_NON_SLUG_RUN = re.compile(r"[^a-z0-9]+")


# --- Workspaces -------------------------------------------------------------------------------


def personal_slug_base(email: str) -> str:
    """The e-mail local part as a slug: lower-cased, non-``[a-z0-9]`` runs → ``-``, ≤50 chars."""
    local_part = email.split("@", 1)[0].lower()
    slug = _NON_SLUG_RUN.sub("-", local_part).strip("-")
    slug = slug[:PERSONAL_SLUG_MAX].strip("-")
    return slug or "user"


def _lock_user(user: User) -> None:
    User.objects.select_for_update().filter(pk=user.pk).first()


def _lock_workspace(workspace_id: Any) -> Workspace:
    locked = Workspace.objects.select_for_update().filter(pk=workspace_id).first()
    if locked is None:
        raise NotFoundError("Workspace not found")
    return locked


def _create_environment_row(*, workspace: Workspace, name: str, slug: str,
                            description: str | None) -> Environment:
    try:
        with transaction.atomic():
            return Environment.objects.create(workspace=workspace, name=name, slug=slug,
                                              description=description)
    except IntegrityError:
        raise ConflictError("Environment slug already exists in this workspace") from None


def workspace_create(
    *,
    user: User,
    name: str,
    slug: str,
    description: str | None = None,
    initial_environment_name: str | None = None,
    initial_environment_slug: str | None = None,
    initial_target_root_name: str | None = None,
    initial_target_root_uri: str | None = None,
    enforce_limit: bool = True,
) -> Workspace:
    """Create a shared workspace with the caller as owner and its first environment.

    All-or-nothing. The creator quota (3, personal workspace included) is checked under a lock
    on the user's row so parallel requests cannot exceed it; ``enforce_limit=False`` is for
    operator tooling (the ``bootstrap`` command).
    """
    env_name = initial_environment_name or "Default"
    env_slug = initial_environment_slug or "default"
    with transaction.atomic():
        if enforce_limit:
            _lock_user(user)
            if Workspace.objects.filter(created_by=user).count() >= (
                MAX_WORKSPACES_CREATED_PER_USER
            ):
                raise NotPermittedError(
                    f"You can create at most {MAX_WORKSPACES_CREATED_PER_USER} workspaces"
                )
        if Workspace.objects.filter(slug=slug).exists():
            raise ConflictError("Workspace slug already exists")
        try:
            with transaction.atomic():
                workspace = Workspace.objects.create(
                    name=name, slug=slug, description=description or None, is_personal=False,
                    created_by=user,
                )
        except IntegrityError:
            raise ConflictError("Workspace slug already exists") from None
        WorkspaceMember.objects.create(workspace=workspace, user=user, role=Role.OWNER)
        environment = Environment.objects.create(
            workspace=workspace, name=env_name, slug=env_slug,
            description=f"{env_name} environment",
        )
        if initial_target_root_name and initial_target_root_uri:
            TargetRoot.objects.create(environment=environment, name=initial_target_root_name,
                                      uri_prefix=initial_target_root_uri)
    return workspace


def personal_workspace_name(display: str) -> str:
    """"<name>'s Workspace", the name cut so the whole fits the column (a long IdP name)."""
    suffix = "'s Workspace"
    limit = Workspace._meta.get_field("name").max_length or 255
    return display[: limit - len(suffix)] + suffix


def workspace_create_personal(*, user: User) -> Workspace:
    """The personal workspace of a new user (contract §2.2): ``local`` environment + root.

    Meant to run inside the transaction that creates the user. A slug collision (with an
    existing workspace, or a concurrent insert) moves on to the next random suffix inside a
    savepoint, so the surrounding transaction survives.
    """
    base = personal_slug_base(user.email)
    display = user.display_name or user.email.split("@", 1)[0]
    candidates = [base] + [
        f"{base}-{secrets.token_hex(8)[:length]}" for length in PERSONAL_SLUG_SUFFIX_HEX
    ]
    with transaction.atomic():
        workspace = None
        for candidate in candidates:
            if Workspace.objects.filter(slug=candidate).exists():
                continue
            try:
                with transaction.atomic():
                    workspace = Workspace.objects.create(
                        name=personal_workspace_name(display), slug=candidate, is_personal=True,
                        created_by=user,
                    )
                break
            except IntegrityError:
                continue
        if workspace is None:
            raise ConflictError("Could not allocate a personal workspace slug")
        WorkspaceMember.objects.create(workspace=workspace, user=user, role=Role.OWNER)
        environment = Environment.objects.create(workspace=workspace, **PERSONAL_ENVIRONMENT)
        TargetRoot.objects.create(environment=environment, **PERSONAL_TARGET_ROOT)
    return workspace



def _given(**values: Any) -> dict[str, Any]:
    """The PATCH rule of the workspace endpoints: ``None`` (absent or null) means unchanged."""
    return {field: value for field, value in values.items() if value is not None}


def workspace_update(*, workspace: Workspace, name: str | None = None,
                     description: str | None = None) -> Workspace:
    """PATCH semantics: ``None`` leaves a field unchanged; ``description=""`` clears it."""
    return save_patch(workspace, _given(name=name, description=description),
                      empty_clears={"description"})


def workspace_delete(*, workspace: Workspace) -> None:
    """Delete a shared workspace and everything in it (environments cascade to their data).

    The workspace row is locked first, as every other workspace-level write does: the cascade
    deletes the environments before the workspace row, so without it a concurrent
    ``environment_delete`` (workspace row, then environment) would deadlock with this one."""
    if workspace.is_personal:
        raise NotPermittedError("Cannot delete a personal workspace")
    with transaction.atomic():
        _lock_workspace(workspace.pk).delete()


# --- Members ----------------------------------------------------------------------------------


def _owner_count(workspace: Workspace) -> int:
    return WorkspaceMember.objects.filter(workspace=workspace, role=Role.OWNER).count()


def _refresh_member(member: WorkspaceMember) -> None:
    """Re-read the target's role under the lock; removed concurrently → 404, not a 500."""
    try:
        member.refresh_from_db(fields=["role"])
    except WorkspaceMember.DoesNotExist:
        raise NotFoundError("Member not found") from None


def _current_actor(actor: WorkspaceMember) -> WorkspaceMember:
    """The actor's membership as committed now, read after the workspace row is locked.

    Views resolve the caller's membership before the service locks anything; a concurrent role
    change (or removal) of the caller that committed in between would otherwise be ignored, so
    a just-demoted owner could still demote the remaining owners. Every role rule is therefore
    checked against this fresh read, under the lock that also serialises other role changes.
    """
    role = (
        WorkspaceMember.objects.filter(pk=actor.pk, workspace_id=actor.workspace_id)
        .values_list("role", flat=True)
        .first()
    )
    if role is None:
        raise NotFoundError("Workspace not found")  # no longer a member: same answer as the views
    actor.role = role
    return actor


def member_update(*, actor: WorkspaceMember | None, member: WorkspaceMember,
                  role: str) -> WorkspaceMember:
    """Change a member's role. Only admins change roles; owner roles are only granted or taken by
    owners (§3.8); the last owner cannot be demoted.

    The workspace row is locked first and every rule is checked after it, against fresh rows:
    two demotions cannot race past the last-owner rule, and an actor demoted a moment ago acts
    with the role it has now. ``actor=None`` is the operators' console (Django admin): no role
    rules, but the last-owner rule holds all the same.
    """
    with transaction.atomic():
        _lock_workspace(member.workspace_id)
        _refresh_member(member)
        if actor is not None:
            _current_actor(actor)
            if not role_at_least(actor.role, Role.ADMIN):
                raise NotPermittedError("Requires admin role or higher")
            if (role == Role.OWNER or member.role == Role.OWNER) and actor.role != Role.OWNER:
                raise NotPermittedError("Only owners can modify owner roles")
        if member.role == Role.OWNER and role != Role.OWNER and (
            _owner_count(member.workspace) <= 1
        ):
            raise RuleViolationError("Cannot remove the last owner")
        if member.role != role:
            audit_record(action="member.role_changed", target=member,
                         details={"from": member.role, "to": role})
            member.role = role
            member.save(update_fields=["role"])
    return member


def member_remove(*, actor: WorkspaceMember | None, member: WorkspaceMember) -> None:
    """Remove a membership: admins remove non-owners, owners anyone, everyone themselves; the
    last owner always stays. Rules are checked after the workspace lock, against fresh rows (see
    ``member_update``); ``actor=None`` is the operators' console (last-owner rule only)."""
    with transaction.atomic():
        _lock_workspace(member.workspace_id)
        _refresh_member(member)
        if actor is not None and member.pk != actor.pk:
            _current_actor(actor)
            if not role_at_least(actor.role, Role.ADMIN):
                raise NotPermittedError("Requires admin role or higher")
            if member.role == Role.OWNER and actor.role != Role.OWNER:
                raise NotPermittedError("Only owners can remove owners")
        if member.role == Role.OWNER and _owner_count(member.workspace) <= 1:
            raise RuleViolationError("Cannot remove the last owner")
        audit_record(action="member.removed", target=member, details={"role": member.role})
        member.delete()


# --- Environments -----------------------------------------------------------------------------


def environment_create(*, workspace: Workspace, name: str, slug: str,
                       description: str | None = None) -> Environment:
    """Add an environment; at most 6 per workspace, checked under the workspace lock."""
    with transaction.atomic():
        _lock_workspace(workspace.pk)
        if Environment.objects.filter(workspace=workspace).count() >= (
            MAX_ENVIRONMENTS_PER_WORKSPACE
        ):
            raise NotPermittedError(
                f"Workspace can have at most {MAX_ENVIRONMENTS_PER_WORKSPACE} environments"
            )
        if Environment.objects.filter(workspace=workspace, slug=slug).exists():
            raise ConflictError("Environment slug already exists in this workspace")
        return _create_environment_row(workspace=workspace, name=name, slug=slug,
                                       description=description)


def environment_update(*, environment: Environment, name: str | None = None,
                       description: str | None = None,
                       max_concurrent_locks: int | None = None) -> Environment:
    """PATCH semantics: ``None`` = unchanged; ``description=""`` clears it;
    ``max_concurrent_locks=0`` removes the limit (stored as null). The slug is immutable."""
    return save_patch(environment, _given(name=name, description=description,
                                          max_concurrent_locks=max_concurrent_locks),
                      empty_clears={"description", "max_concurrent_locks"})


def environment_delete(*, environment: Environment) -> None:
    """Delete an environment and all its data; the workspace always keeps one."""
    with transaction.atomic():
        _lock_workspace(environment.workspace_id)
        if Environment.objects.filter(workspace_id=environment.workspace_id).count() <= 1:
            raise RuleViolationError("Cannot delete the last environment")
        environment.delete()


# --- Target roots -----------------------------------------------------------------------------


def _root_conflict(name: str) -> ConflictError:
    return ConflictError(f"Target root with name '{name}' already exists")


def target_root_create(*, environment: Environment, name: str, uri_prefix: str) -> TargetRoot:
    """Names are unique per environment; ``uri_prefix`` is stored verbatim."""
    with transaction.atomic():
        if TargetRoot.objects.filter(environment=environment, name=name).exists():
            raise _root_conflict(name)
        try:
            with transaction.atomic():
                return TargetRoot.objects.create(environment=environment, name=name,
                                                 uri_prefix=uri_prefix)
        except IntegrityError:
            raise _root_conflict(name) from None


def target_root_update(*, root: TargetRoot, name: str | None = None,
                       uri_prefix: str | None = None) -> TargetRoot:
    """PATCH semantics (``None`` = unchanged); renaming onto another root's name is 409."""
    with transaction.atomic():
        if name is not None and name != root.name and TargetRoot.objects.filter(
            ~Q(pk=root.pk), environment_id=root.environment_id, name=name
        ).exists():
            raise _root_conflict(name)
        try:
            with transaction.atomic():
                save_patch(root, _given(name=name, uri_prefix=uri_prefix))
        except IntegrityError:
            raise _root_conflict(root.name) from None
    return root


def target_root_delete(*, root: TargetRoot) -> None:
    with transaction.atomic():
        root.delete()
