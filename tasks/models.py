"""Tasks (shared by every build of an environment), their dependency edges and assets.

The SDK-visible fields of a task never change after creation. The ``status`` group of fields is
the materialised global-status fold of the task's events (contract §5.3), maintained by the
event-appending service in the same transaction as the event, so search can filter, sort and
count on indexed columns.
"""

from __future__ import annotations

from django.db import models
from django.db.models import F
from django.utils import timezone

from stardag_site.db.lookups import UnindexedExact
from stardag_site.ids import uuid7
from stardag_site.json_numbers import ExactFloatJSONEncoder


class TaskStatus(models.TextChoices):
    PENDING = "pending"
    RUNNING = "running"
    SUSPENDED = "suspended"
    COMPLETED = "completed"
    FAILED = "failed"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"


class TaskQuerySet(models.QuerySet["Task"]):
    def for_environment(self, environment: object) -> TaskQuerySet:
        return self.filter(environment=environment)

    def by_key(self, environment_id: object, task_id: object) -> TaskQuerySet:
        """The task of one key (SDK ``task_id`` in an environment), found through the unique
        index ``unique_task_id_per_env`` (``task_id`` first) whatever the table's statistics
        say: the environment is compared in a form no index serves
        (``stardag_site.db.lookups``), so no environment-wide index can be chosen instead."""
        return self.filter(UnindexedExact(F("environment_id"), environment_id), task_id=task_id)

    def find_by_key(self, environment_id: object, task_id: object) -> Task | None:
        """The task of one key (``by_key``), or None; the key is unique, so no ORDER BY."""
        return next(iter(self.by_key(environment_id, task_id).order_by()[:1]), None)


class Task(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    environment = models.ForeignKey(
        "workspaces.Environment", on_delete=models.CASCADE, related_name="tasks"
    )
    task_id = models.CharField(max_length=64, help_text="The SDK's deterministic task id.")
    task_namespace = models.CharField(max_length=255, default="", blank=True)
    task_name = models.CharField(max_length=255)
    task_data = models.JSONField(default=dict, encoder=ExactFloatJSONEncoder)
    version = models.CharField(max_length=64, null=True, blank=True)
    output_uri = models.CharField(max_length=2048, null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    # Materialised global status (§5.3); written only by the event-appending service.
    status = models.CharField(max_length=16, choices=TaskStatus.choices, default="pending")
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    error_message = models.TextField(null=True, blank=True)
    waiting_for_lock = models.BooleanField(default=False)
    status_build = models.ForeignKey(
        "builds.Build", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_build = models.ForeignKey(
        "builds.Build",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Build of the task's most recent event (search display context).",
    )
    asset_count = models.PositiveIntegerField(default=0)
    last_event_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Time of the task's latest event; the next event is stamped strictly later.",
    )

    # "latest_*" state read by SDK ≥0.10 (SDK-WIRE §3.5 E-state): like ``status`` but skipped
    # and retried (back to pending) tasks show as such, with the executor of the latest start.
    # Written only by the event-appending service, in the same transaction as the event.
    latest_status = models.CharField(max_length=16, choices=TaskStatus.choices,
                                     default="pending")
    latest_status_at = models.DateTimeField(null=True, blank=True)
    latest_status_build = models.ForeignKey(
        "builds.Build", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    latest_executor = models.CharField(max_length=255, null=True, blank=True)
    latest_executor_ref = models.CharField(max_length=1024, null=True, blank=True)
    latest_executor_metadata = models.JSONField(null=True, blank=True)
    latest_execution_id = models.CharField(max_length=64, null=True, blank=True)

    objects = TaskQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # ``task_id`` first: the index every SDK call's task lookup goes through
            # (``TaskQuerySet.by_key``); lists by environment have indexes of their own.
            models.UniqueConstraint(
                fields=["task_id", "environment"], name="unique_task_id_per_env"
            ),
        ]
        indexes = [
            models.Index(fields=["environment", "created_at", "id"], name="task_env_created_idx"),
            models.Index(
                fields=["environment", "task_name", "created_at"], name="task_env_name_idx"
            ),
            models.Index(
                fields=["environment", "task_namespace", "created_at"], name="task_env_ns_idx"
            ),
            models.Index(
                fields=["environment", "status", "created_at"], name="task_env_status_idx"
            ),
            models.Index(fields=["environment", "latest_status", "latest_status_at"],
                         name="task_env_latest_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.task_namespace}.{self.task_name}" if self.task_namespace else self.task_name


class TaskDependency(models.Model):
    """Edge: ``dependency`` produces output that ``dependent`` needs."""

    dependency = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="dependent_edges")
    dependent = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="dependency_edges")
    is_dynamic = models.BooleanField(
        default=False, help_text="Recorded at run time (POST …/dependencies), not registration."
    )

    class Meta:
        verbose_name_plural = "task dependencies"
        constraints = [
            models.UniqueConstraint(fields=["dependency", "dependent"], name="unique_task_edge"),
        ]
        indexes = [models.Index(fields=["dependent"], name="taskdep_dependent_idx")]

    def __str__(self) -> str:
        return f"{self.dependency_id} → {self.dependent_id}"


class TaskAsset(models.Model):
    """A registry asset (markdown report, JSON summary) attached to a task."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="assets")
    environment = models.ForeignKey(
        "workspaces.Environment", on_delete=models.CASCADE, related_name="task_assets"
    )
    asset_type = models.CharField(max_length=50)
    name = models.CharField(max_length=255)
    body = models.JSONField(default=dict, encoder=ExactFloatJSONEncoder)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["task", "asset_type", "name"], name="unique_asset_per_task"
            ),
        ]
        indexes = [
            models.Index(fields=["environment", "name", "created_at"], name="asset_env_name_idx"),
            models.Index(fields=["environment", "created_at"], name="asset_env_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.asset_type}:{self.name}"


from tasks.models_v2 import (  # noqa: E402,F401  (registered with the tasks app)
    Execution,
    InstanceEdge,
    PlanMember,
    TaskInstance,
    V2Artifact,
    V2Event,
    V2Task,
    YieldBatch,
)
