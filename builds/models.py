"""Builds and the append-only event log they own.

A build's status is a fold over its build-level events (contract §5.1). The fold's result is
kept in ``status``/``started_at``/``completed_at``/``status_trigger`` by the service that appends
the event, inside the same transaction, so lists and status filters never replay the log.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from stardag_site.ids import uuid7


class BuildStatus(models.TextChoices):
    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    EXIT_EARLY = "exit_early"


class EventType(models.TextChoices):
    BUILD_STARTED = "build_started"
    BUILD_COMPLETED = "build_completed"
    BUILD_FAILED = "build_failed"
    BUILD_CANCELLED = "build_cancelled"
    BUILD_EXIT_EARLY = "build_exit_early"
    BUILD_RESUMED = "build_resumed"
    TASK_PENDING = "task_pending"
    TASK_REFERENCED = "task_referenced"
    TASK_STARTED = "task_started"
    TASK_SUSPENDED = "task_suspended"
    TASK_RESUMED = "task_resumed"
    TASK_WAITING_FOR_LOCK = "task_waiting_for_lock"
    TASK_COMPLETED = "task_completed"
    TASK_FAILED = "task_failed"
    TASK_SKIPPED = "task_skipped"
    TASK_CANCELLED = "task_cancelled"


class BuildQuerySet(models.QuerySet["Build"]):
    def for_environment(self, environment: object) -> BuildQuerySet:
        return self.filter(environment=environment)


class Build(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    environment = models.ForeignKey(
        "workspaces.Environment", on_delete=models.CASCADE, related_name="builds"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="builds",
    )
    name = models.CharField(max_length=64)
    description = models.TextField(null=True, blank=True)
    commit_hash = models.CharField(max_length=255, null=True, blank=True)
    root_task_ids = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    # Materialised fold of the build-level events (§5.1); written only by builds.services.
    status = models.CharField(
        max_length=16, choices=BuildStatus.choices, default=BuildStatus.PENDING
    )
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    status_trigger = models.CharField(
        max_length=255, null=True, blank=True, help_text="OIDC sub of a manual override."
    )
    is_resumed = models.BooleanField(
        default=False, help_text="A build_resumed event was recorded (SDK ≥0.10 resume)."
    )

    # Sent by SDK ≥0.10 (SDK-WIRE §3.3 C1, §3.5 E-scopes); null for 0.1.x builds. The API shows
    # ``build:<id>`` for a build without a stored scope.
    scope_key = models.CharField(max_length=255, null=True, blank=True)
    build_config = models.JSONField(null=True, blank=True)
    executor_metadata = models.JSONField(null=True, blank=True)

    objects = BuildQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["environment", "created_at", "id"], name="build_env_created_idx"),
            models.Index(
                fields=["environment", "status", "created_at"], name="build_env_status_idx"
            ),
            models.Index(fields=["environment", "commit_hash"], name="build_env_commit_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class BuildRootTask(models.Model):
    """One of a build's ``root_task_ids``, as a row, so "builds with root task X" is an indexed
    join on SQLite and PostgreSQL alike (JSON ``contains`` is PostgreSQL-only in Django).

    ``Build.root_task_ids`` keeps the list verbatim (order, duplicates) for the API; this table
    holds the distinct ids for filtering and is written once, by ``build_create``.
    """

    build = models.ForeignKey(Build, on_delete=models.CASCADE, related_name="root_tasks")
    task_id = models.TextField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["build", "task_id"], name="unique_build_root_task"),
        ]
        indexes = [models.Index(fields=["task_id"], name="build_root_task_id_idx")]

    def __str__(self) -> str:
        return self.task_id


class Event(models.Model):
    """One immutable fact about a build or a task within a build."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    build = models.ForeignKey(Build, on_delete=models.CASCADE, related_name="events")
    task = models.ForeignKey(
        "tasks.Task", null=True, blank=True, on_delete=models.CASCADE, related_name="events"
    )
    event_type = models.CharField(max_length=32, choices=EventType.choices)
    created_at = models.DateTimeField(default=timezone.now)
    error_message = models.TextField(null=True, blank=True)
    event_metadata = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["build", "created_at", "id"], name="event_build_order_idx"),
            models.Index(fields=["task", "created_at", "id"], name="event_task_order_idx"),
            models.Index(fields=["build", "task"], name="event_build_task_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} @ {self.created_at:%Y-%m-%d %H:%M:%S}"


from builds.models_v2 import (  # noqa: E402,F401  (registered with the builds app)
    Deployment,
    Plan,
    SettingsBody,
    V2Build,
)
