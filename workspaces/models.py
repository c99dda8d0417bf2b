"""Tenancy: workspaces, their members and invites, environments, API keys and target roots.

A workspace is the unit people share; an environment inside it is the unit all registry data
(builds, tasks, events, assets, locks) belongs to. Every SDK request runs in exactly one
environment, chosen by its credential (contract §3.5).
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q

from stardag_site.ids import uuid7

SLUG_PATTERN = r"^[a-z0-9][a-z0-9_-]*[a-z0-9]$"
slug_validator = RegexValidator(
    SLUG_PATTERN,
    "Slug must be 2-64 characters of lower-case letters, digits, '-' or '_', "
    "starting and ending with a letter or digit.",
)

MAX_WORKSPACES_CREATED_PER_USER = 3
MAX_ENVIRONMENTS_PER_WORKSPACE = 6


class Role(models.TextChoices):
    MEMBER = "member", "Member"
    ADMIN = "admin", "Admin"
    OWNER = "owner", "Owner"


ROLE_RANK = {Role.MEMBER: 0, Role.ADMIN: 1, Role.OWNER: 2}


def role_at_least(role: str, minimum: str) -> bool:
    return ROLE_RANK[Role(role)] >= ROLE_RANK[Role(minimum)]


class WorkspaceQuerySet(models.QuerySet["Workspace"]):
    def with_counts(self) -> WorkspaceQuerySet:
        """Annotated with ``member_count`` and ``environment_count`` (the API's workspace
        detail and the admin's list)."""
        return self.annotate(
            member_count=models.Count("memberships", distinct=True),
            environment_count=models.Count("environments", distinct=True),
        )


class Workspace(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    name = models.CharField(max_length=255)
    slug = models.CharField(max_length=64, unique=True, validators=[slug_validator])
    description = models.TextField(null=True, blank=True)
    is_personal = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="created_workspaces",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = WorkspaceQuerySet.as_manager()

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.slug})"


class WorkspaceMemberQuerySet(models.QuerySet["WorkspaceMember"]):
    def of_user(self, user: object) -> WorkspaceMemberQuerySet:
        """The user's memberships with their workspaces, oldest first: how ``/me`` and
        ``GET /workspaces`` list a user's workspaces."""
        return self.filter(user=user).select_related("workspace").order_by("created_at", "id")


class WorkspaceMember(models.Model):
    """A membership; its id is the ``member_id`` of the member endpoints."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = WorkspaceMemberQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "user"], name="unique_workspace_member"),
        ]
        indexes = [models.Index(fields=["user", "created_at"], name="member_user_created_idx")]

    def __str__(self) -> str:
        return f"{self.user} in {self.workspace} as {self.role}"


class InviteStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    CANCELLED = "cancelled", "Cancelled"


class Invite(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="invites")
    email = models.CharField(max_length=255, help_text="Stored lower-cased.")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    status = models.CharField(
        max_length=16, choices=InviteStatus.choices, default=InviteStatus.PENDING
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="sent_invites",
    )
    expires_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "email"],
                condition=Q(status="pending"),
                name="unique_pending_invite_per_email",
            ),
        ]
        indexes = [models.Index(fields=["email", "status"], name="invite_email_status_idx")]

    def __str__(self) -> str:
        return f"{self.email} → {self.workspace} ({self.status})"


class Environment(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="environments"
    )
    name = models.CharField(max_length=255)
    slug = models.CharField(max_length=64, validators=[slug_validator])
    description = models.TextField(null=True, blank=True)
    owner_id = models.UUIDField(
        null=True, blank=True, help_text="Legacy personal-environment owner; null for new rows."
    )
    max_concurrent_locks = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text="Cap on active locks in this environment; empty means unlimited.",
    )
    build_retention_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text="Builds older than this many days are deleted by `manage.py purge` (with their "
        "events, and tasks no other build uses); empty keeps everything.",
    )
    created_at = models.DateTimeField(auto_now_add=True)


    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "slug"], name="unique_environment_slug"),
        ]

    def __str__(self) -> str:
        return f"{self.workspace.slug}/{self.slug}"


class ApiKeyQuerySet(models.QuerySet["ApiKey"]):
    def active(self) -> ApiKeyQuerySet:
        return self.filter(revoked_at__isnull=True)

    def revoked(self) -> ApiKeyQuerySet:
        return self.filter(revoked_at__isnull=False)


class ApiKey(models.Model):
    """An environment-scoped secret. Only its SHA-256 digest is stored (contract §2.6)."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    environment = models.ForeignKey(
        Environment, on_delete=models.CASCADE, related_name="api_keys"
    )
    name = models.CharField(max_length=255)
    key_prefix = models.CharField(max_length=8, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="api_keys",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} (sk_{self.key_prefix}…)"


class TargetRootQuerySet(models.QuerySet["TargetRoot"]):
    def for_environment(self, environment: object) -> TargetRootQuerySet:
        return self.filter(environment=environment)


class TargetRoot(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    environment = models.ForeignKey(
        Environment, on_delete=models.CASCADE, related_name="target_roots"
    )
    name = models.CharField(max_length=255)
    uri_prefix = models.CharField(max_length=512)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TargetRootQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["environment", "name"], name="unique_target_root_name"),
        ]

    def __str__(self) -> str:
        return f"{self.name} → {self.uri_prefix}"
