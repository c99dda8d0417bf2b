"""Lease locks per (environment, name) — contract §2.13 and §6.

A row is one name's lease. It is *active* while ``expires_at > now`` and not released; an expired
row is free for anyone (§6.1).

Fencing token. ``version`` must grow strictly with every grant of a name (acquire, re-entrant
re-acquire, takeover, renew) so that a holder can fence its writes with it. The contract says a
release deletes the row; doing that literally would restart the next grant at 0 and let two
holders of the same name carry the same token. So a release does not delete: it turns the row
into a *tombstone* (``released_at`` set, ``expires_at`` pulled back to the release time, owner
kept for the admin). A tombstone is invisible to the API — ``GET /locks/{name}`` is 404, lists
never show it, renew/release by the old owner are 409 — and the next acquire of the name takes it
over with ``version + 1``. ``version`` is therefore 0 only for the very first grant of a name in an
environment, and a fencing token is never handed out twice. The admin cannot delete lock rows
(force-release only); only deleting the whole environment removes them.
"""

from __future__ import annotations

from datetime import datetime

from django.db import models


class LockQuerySet(models.QuerySet["Lock"]):
    def for_environment(self, environment: object) -> LockQuerySet:
        return self.filter(environment=environment)

    def visible(self) -> LockQuerySet:
        """Rows the API shows: held (active) or expired, never released tombstones."""
        return self.filter(released_at__isnull=True)

    def active(self, now: datetime) -> LockQuerySet:
        """Leases in force at ``now``. Tombstones have ``expires_at = released_at <= now``."""
        return self.filter(expires_at__gt=now, released_at__isnull=True)


class Lock(models.Model):
    environment = models.ForeignKey(
        "workspaces.Environment", on_delete=models.CASCADE, related_name="locks"
    )
    name = models.TextField()
    owner_id = models.CharField(max_length=255)
    acquired_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    version = models.PositiveBigIntegerField(
        default=0, help_text="Fencing token: grows by one with every grant of this name."
    )
    released_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Set when the lease was released (a tombstone kept so versions keep growing).",
    )

    objects = LockQuerySet.as_manager()

    class Meta:
        ordering = ["-acquired_at"]
        constraints = [
            models.UniqueConstraint(fields=["environment", "name"], name="unique_lock_per_env"),
        ]
        indexes = [models.Index(fields=["environment", "expires_at"], name="lock_env_expiry_idx")]

    def __str__(self) -> str:
        return self.name

    def is_active(self, now: datetime) -> bool:
        return self.released_at is None and self.expires_at > now


class ConcurrencyLimit(models.Model):
    """A named concurrency limit of an environment (SDK-WIRE §3.4 N18-N20).

    Stored and listed only: enforcing it when tasks claim their starts belongs to the claims of
    the ``/api/v2`` protocol.
    """

    environment = models.ForeignKey(
        "workspaces.Environment", on_delete=models.CASCADE, related_name="concurrency_limits"
    )
    key = models.CharField(max_length=255)
    max_concurrent = models.PositiveIntegerField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["key"]
        constraints = [
            models.UniqueConstraint(fields=["environment", "key"],
                                    name="unique_concurrency_limit_key"),
        ]

    def __str__(self) -> str:
        return f"{self.key} ≤ {self.max_concurrent}"
