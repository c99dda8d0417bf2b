"""The ``/api/v2`` build-side rows (SDK-WIRE 4.2): deployments, settings, v2 builds, plans.

They live beside the v1 tables and share environments (tenancy) with them; upstream v2 does not
migrate v1 data, so a v2 build is a different row from a v1 build. Ids marked "client" are minted
by the SDK (uuid7) and inserted if absent, which is what makes every v2 write idempotent.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from builds.models import BuildStatus  # v2 builds take the same six statuses as v1


class DeploymentKind(models.TextChoices):
    MODAL = "modal"
    LOCAL = "local"


class Deployment(models.Model):
    """A code version builds run under. Local rows are born activated and looked up by code id."""

    id = models.UUIDField(primary_key=True, help_text="Client-minted (local: the first one wins).")
    environment = models.ForeignKey(
        "workspaces.Environment", on_delete=models.CASCADE, related_name="deployments"
    )
    kind = models.CharField(max_length=8, choices=DeploymentKind.choices)
    app_name = models.CharField(max_length=64)
    code_id = models.CharField(max_length=64)
    image_id = models.CharField(max_length=128, null=True, blank=True)
    modal_app_id = models.CharField(max_length=64, null=True, blank=True)
    generation = models.PositiveIntegerField()
    deployed_at = models.DateTimeField(default=timezone.now)
    activated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-deployed_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["environment", "kind", "app_name", "generation"],
                                    name="unique_deployment_generation"),
            models.UniqueConstraint(fields=["environment", "code_id"],
                                    condition=models.Q(kind="local"),
                                    name="unique_local_deployment_code"),
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.app_name}#{self.generation}"


class SettingsBody(models.Model):
    """A flat settings dict, addressed by its uuid5 hash (SDK-WIRE 4.2 "settings")."""

    environment = models.ForeignKey(
        "workspaces.Environment", on_delete=models.CASCADE, related_name="settings_bodies"
    )
    hash = models.CharField(max_length=64)
    body = models.JSONField(default=dict)

    class Meta:
        verbose_name_plural = "settings bodies"
        constraints = [
            models.UniqueConstraint(fields=["environment", "hash"], name="unique_settings_hash"),
        ]

    def __str__(self) -> str:
        return self.hash


TERMINAL_BUILD_STATUSES = frozenset({"completed", "failed", "cancelled"})


class V2Build(models.Model):
    """A v2 build: a stored, sticky status (SDK-WIRE 4.5.8), not a fold of events."""

    id = models.UUIDField(primary_key=True, help_text="Client-minted.")
    environment = models.ForeignKey(
        "workspaces.Environment", on_delete=models.CASCADE, related_name="v2_builds"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="+")
    name = models.CharField(max_length=255)
    description = models.TextField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=BuildStatus.choices,
                              default=BuildStatus.RUNNING)
    root_task_ids = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    last_active_at = models.DateTimeField(default=timezone.now)
    is_resumed = models.BooleanField(default=False)
    executor_metadata = models.JSONField(null=True, blank=True)
    error_message = models.TextField(null=True, blank=True)
    reactive_app_name = models.CharField(max_length=64, null=True, blank=True)
    reactive_tick_kwargs = models.JSONField(null=True, blank=True)

    class Meta:
        verbose_name = "v2 build"
        ordering = ["-last_active_at", "-id"]
        indexes = [
            models.Index(fields=["environment", "last_active_at", "id"],
                         name="v2build_env_active_idx"),
            models.Index(fields=["environment", "status", "last_active_at"],
                         name="v2build_env_status_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class Plan(models.Model):
    """One build's request under one scope (deployment, settings)."""

    id = models.UUIDField(primary_key=True, help_text="Client-minted.")
    environment = models.ForeignKey(
        "workspaces.Environment", on_delete=models.CASCADE, related_name="plans"
    )
    build = models.ForeignKey(V2Build, on_delete=models.CASCADE, related_name="plans")
    deployment = models.ForeignKey(Deployment, on_delete=models.PROTECT, related_name="plans")
    settings_hash = models.CharField(max_length=64)
    generation = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)
    activated_at = models.DateTimeField(null=True, blank=True)
    sealed_at = models.DateTimeField(null=True, blank=True)
    superseded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-generation"]
        constraints = [
            models.UniqueConstraint(fields=["build", "deployment", "settings_hash"],
                                    name="unique_plan_scope_per_build"),
            models.UniqueConstraint(fields=["build", "generation"],
                                    name="unique_plan_generation"),
        ]

    def __str__(self) -> str:
        return f"plan {self.generation} of {self.build_id}"

    @property
    def is_active(self) -> bool:
        return self.activated_at is not None and self.superseded_at is None
