"""Lease locks per (environment, name) — contract §2.13 and §6."""

from __future__ import annotations

from django.db import models


class LockQuerySet(models.QuerySet["Lock"]):
    def for_environment(self, environment: object) -> LockQuerySet:
        return self.filter(environment=environment)


class Lock(models.Model):
    environment = models.ForeignKey(
        "workspaces.Environment", on_delete=models.CASCADE, related_name="locks"
    )
    name = models.TextField()
    owner_id = models.CharField(max_length=255)
    acquired_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    version = models.PositiveBigIntegerField(default=0)

    objects = LockQuerySet.as_manager()

    class Meta:
        ordering = ["-acquired_at"]
        constraints = [
            models.UniqueConstraint(fields=["environment", "name"], name="unique_lock_per_env"),
        ]
        indexes = [models.Index(fields=["environment", "expires_at"], name="lock_env_expiry_idx")]

    def __str__(self) -> str:
        return self.name
