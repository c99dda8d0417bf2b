"""The audit log: who changed memberships, roles, invites and API keys, or force-released a
lock, when, from where (API, admin, command line) and with which credential.

Rows outlive what they describe: the actor, workspace and target are kept as text (e-mail,
slug, ``repr``) next to nullable links, so deleting a user or a workspace does not erase the
record of what they did. ``manage.py purge`` keeps the table bounded (``AUDIT_RETENTION_DAYS``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from stardag_site.ids import uuid7


class Source(models.TextChoices):
    API = "api", "API"
    ADMIN = "admin", "Admin"
    CLI = "cli", "Command line"


class AuditEntry(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    action = models.CharField(max_length=64, db_index=True,
                              help_text="What happened, e.g. api_key.revoked.")
    source = models.CharField(max_length=8, choices=Source.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    actor_email = models.CharField(max_length=255, blank=True,
                                   help_text="The actor's e-mail when it happened.")
    credential_kind = models.CharField(
        max_length=16, blank=True,
        help_text="api_key, internal (workspace token), oidc, session (admin) or cli.",
    )
    credential_id = models.CharField(max_length=64, blank=True,
                                     help_text="Id of the API key or user; never a secret.")
    workspace = models.ForeignKey("workspaces.Workspace", null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+")
    workspace_slug = models.CharField(max_length=64, blank=True)
    target_type = models.CharField(max_length=32)
    target_id = models.CharField(max_length=64, blank=True)
    target_repr = models.CharField(max_length=255, blank=True)
    details = models.JSONField(default=dict, blank=True)
    request_id = models.CharField(max_length=128, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "audit entries"
        indexes = [models.Index(fields=["workspace", "-created_at"], name="audit_ws_created_idx")]

    def __str__(self) -> str:
        return f"{self.action} {self.target_repr} by {self.actor_email or self.credential_kind}"
