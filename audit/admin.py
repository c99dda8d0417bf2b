"""The audit log in the admin: read-only, filterable by action, source, credential, workspace
and time; searchable by actor, target and request id."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from audit.models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ["created_at", "action", "actor_email", "credential_kind", "source",
                    "workspace_slug", "target_repr"]
    list_filter = ["action", "source", "credential_kind", "created_at", "workspace_slug"]
    search_fields = ["actor_email", "target_repr", "=target_id", "=request_id",
                     "=credential_id", "workspace_slug"]
    fields = ["id", "created_at", "action", "source", "actor", "actor_email", "credential_kind",
              "credential_id", "workspace", "workspace_slug", "target_type", "target_id",
              "target_repr", "details", "request_id"]
    readonly_fields = fields
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
