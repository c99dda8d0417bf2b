"""The ``/api/v2`` task-side rows (SDK-WIRE 4.2): completions with their claim, instances per
scope and their edges, plan members, the executions ledger, artifacts, events, yield replays.

A v2 *task* is a completion: identity and global state, no parameters (bodies live on
instances). The claim (``claim_expires_at``/``claim_plan``/``execution_id``) is the only mutual
exclusion of v2; every transition locks the task row first (see ``tasks.v2.services``).
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from stardag_site.ids import uuid7


class V2TaskStatus(models.TextChoices):
    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    SKIPPED = "skipped"
    SUSPENDED = "suspended"
    INTERRUPTED = "interrupted"


ACTIONABLE = ("pending", "suspended", "interrupted", "cancelled", "skipped")


class V2Task(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    environment = models.ForeignKey(
        "workspaces.Environment", on_delete=models.CASCADE, related_name="v2_tasks"
    )
    task_id = models.CharField(max_length=64)
    task_namespace = models.CharField(max_length=255, default="", blank=True)
    task_name = models.CharField(max_length=255)
    version = models.CharField(max_length=64, null=True, blank=True)
    output_uri = models.CharField(max_length=2048, null=True, blank=True)
    status = models.CharField(max_length=16, choices=V2TaskStatus.choices, default="pending")
    status_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    error_message = models.TextField(null=True, blank=True)
    claim_expires_at = models.DateTimeField(null=True, blank=True)
    claim_plan = models.ForeignKey("builds.Plan", null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    execution_id = models.UUIDField(null=True, blank=True)
    preempted_at = models.DateTimeField(null=True, blank=True)
    limit_keys = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name = "v2 task"
        ordering = ["-status_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["environment", "task_id"],
                                    name="unique_v2_task_id_per_env"),
        ]
        indexes = [
            models.Index(fields=["environment", "status_at", "id"], name="v2task_env_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.task_name} {self.task_id}"

    def live(self, now: object) -> bool:
        """A running task with an unexpired claim."""
        return (self.status == "running" and self.claim_expires_at is not None
                and self.claim_expires_at > now)  # type: ignore[operator]


class TaskInstance(models.Model):
    """A task's full parameter body under one scope (deployment, settings)."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    environment = models.ForeignKey(
        "workspaces.Environment", on_delete=models.CASCADE, related_name="+"
    )
    deployment = models.ForeignKey("builds.Deployment", on_delete=models.CASCADE,
                                   related_name="instances")
    settings_hash = models.CharField(max_length=64)
    instance_hash = models.CharField(max_length=64)
    task = models.ForeignKey(V2Task, on_delete=models.CASCADE, related_name="instances")
    body = models.JSONField(default=dict)
    expanded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["deployment", "settings_hash", "instance_hash"],
                                    name="unique_instance_per_scope"),
        ]

    def __str__(self) -> str:
        return self.instance_hash


class InstanceEdge(models.Model):
    """``upstream`` produces what ``downstream`` needs. Edges only grow."""

    downstream = models.ForeignKey(TaskInstance, on_delete=models.CASCADE,
                                   related_name="upstream_edges")
    upstream = models.ForeignKey(TaskInstance, on_delete=models.CASCADE,
                                 related_name="downstream_edges")
    is_dynamic = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["downstream", "upstream"],
                                    name="unique_instance_edge"),
        ]
        indexes = [models.Index(fields=["upstream"], name="instance_edge_upstream_idx")]

    def __str__(self) -> str:
        return f"{self.upstream_id} → {self.downstream_id}"


class AdmittedBy(models.TextChoices):
    ROOT = "root"
    STATIC = "static"
    DYNAMIC = "dynamic"
    CLOSURE = "closure"


class PlanMember(models.Model):
    """One instance per completion per plan."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    plan = models.ForeignKey("builds.Plan", on_delete=models.CASCADE, related_name="members")
    task = models.ForeignKey(V2Task, on_delete=models.CASCADE, related_name="memberships")
    instance = models.ForeignKey(TaskInstance, on_delete=models.CASCADE, related_name="+")
    is_root = models.BooleanField(default=False)
    admitted_by = models.CharField(max_length=8, choices=AdmittedBy.choices)
    excluded_at = models.DateTimeField(null=True, blank=True)
    excluded_reason = models.CharField(max_length=32, null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["plan", "task"], name="unique_plan_member"),
        ]

    def __str__(self) -> str:
        return f"{self.task_id} in {self.plan_id}"


class Execution(models.Model):
    """The ledger: one row per claiming start; its two ends are written by two hands."""

    id = models.UUIDField(primary_key=True, help_text="Client-minted execution_id.")
    environment = models.ForeignKey(
        "workspaces.Environment", on_delete=models.CASCADE, related_name="+"
    )
    task = models.ForeignKey(V2Task, on_delete=models.CASCADE, related_name="executions")
    plan = models.ForeignKey("builds.Plan", on_delete=models.CASCADE, related_name="executions")
    instance = models.ForeignKey(TaskInstance, on_delete=models.CASCADE, related_name="+")
    executor = models.CharField(max_length=32, null=True, blank=True)
    executor_ref = models.CharField(max_length=255, null=True, blank=True)
    executor_metadata = models.JSONField(null=True, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    claim_released_at = models.DateTimeField(null=True, blank=True)
    claim_outcome = models.CharField(max_length=16, null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=16, null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return str(self.id)


class YieldBatch(models.Model):
    """The stored answer of one ``/yield`` (execution, batch), replayed on a re-delivery."""

    execution = models.ForeignKey(Execution, on_delete=models.CASCADE, related_name="+")
    batch_id = models.UUIDField()
    result = models.JSONField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["execution", "batch_id"], name="unique_yield_batch"),
        ]

    def __str__(self) -> str:
        return str(self.batch_id)


class V2Artifact(models.Model):
    """Belongs to the completion; an upsert replaces ``body`` and keeps id/created_at."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    task = models.ForeignKey(V2Task, on_delete=models.CASCADE, related_name="artifacts")
    artifact_type = models.CharField(max_length=50)
    name = models.CharField(max_length=255)
    body = models.JSONField(null=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "v2 artifact"
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["task", "artifact_type", "name"],
                                    name="unique_v2_artifact"),
        ]

    def __str__(self) -> str:
        return f"{self.artifact_type}:{self.name}"


class V2Event(models.Model):
    """Append-only; ``report_applied=False`` records a refused late report (history, not state)."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    environment = models.ForeignKey(
        "workspaces.Environment", on_delete=models.CASCADE, related_name="+"
    )
    build = models.ForeignKey("builds.V2Build", null=True, blank=True, on_delete=models.CASCADE,
                              related_name="events")
    plan = models.ForeignKey("builds.Plan", null=True, blank=True, on_delete=models.CASCADE,
                             related_name="+")
    execution_id = models.UUIDField(null=True, blank=True)
    task = models.ForeignKey(V2Task, null=True, blank=True, on_delete=models.CASCADE,
                             related_name="events")
    event_type = models.CharField(max_length=32)
    report_applied = models.BooleanField(default=True)
    error_message = models.TextField(null=True, blank=True)
    event_metadata = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "v2 event"
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["task", "created_at"], name="v2event_task_idx")]

    def __str__(self) -> str:
        return self.event_type
