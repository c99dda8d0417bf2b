"""Operators' console for tenancy: workspaces (members and environments inline), invites,
environments, target roots and API keys. Creating an API key here shows the key once."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest

from workspaces.api_keys import api_key_revoke, generate_raw_key, hash_api_key
from workspaces.models import (
    ApiKey,
    Environment,
    Invite,
    InviteStatus,
    TargetRoot,
    Workspace,
    WorkspaceMember,
)


class MemberInline(admin.TabularInline):
    model = WorkspaceMember
    extra = 0
    fields = ["user", "role", "created_at"]
    readonly_fields = ["created_at"]
    autocomplete_fields = ["user"]


class EnvironmentInline(admin.TabularInline):
    model = Environment
    extra = 0
    fields = ["name", "slug", "description", "max_concurrent_locks", "created_at"]
    readonly_fields = ["created_at"]
    show_change_link = True


@admin.register(Workspace)
class WorkspaceAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "is_personal", "created_by", "member_count",
                    "environment_count", "created_at"]
    list_filter = ["is_personal", "created_at"]
    search_fields = ["name", "slug", "created_by__email", "=id"]
    list_select_related = ["created_by"]
    readonly_fields = ["id", "created_at"]
    autocomplete_fields = ["created_by"]
    inlines = [MemberInline, EnvironmentInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Workspace]:
        return super().get_queryset(request).annotate(
            members_total=Count("memberships", distinct=True),
            environments_total=Count("environments", distinct=True),
        )

    @admin.display(description="members", ordering="members_total")
    def member_count(self, workspace: Workspace) -> int:
        return workspace.members_total  # type: ignore[attr-defined]

    @admin.display(description="environments", ordering="environments_total")
    def environment_count(self, workspace: Workspace) -> int:
        return workspace.environments_total  # type: ignore[attr-defined]


@admin.register(Invite)
class InviteAdmin(admin.ModelAdmin):
    list_display = ["email", "workspace", "role", "status", "invited_by", "created_at",
                    "accepted_at"]
    list_filter = ["status", "role"]
    search_fields = ["email", "workspace__slug", "workspace__name", "invited_by__email"]
    list_select_related = ["workspace", "invited_by"]
    readonly_fields = ["id", "created_at", "accepted_at"]
    autocomplete_fields = ["workspace", "invited_by"]
    actions = ["cancel_invites"]

    @admin.action(description="Cancel selected pending invites")
    def cancel_invites(self, request: HttpRequest, queryset: QuerySet[Invite]) -> None:
        count = queryset.filter(status=InviteStatus.PENDING).update(
            status=InviteStatus.CANCELLED
        )
        self.message_user(request, f"Cancelled {count} invite(s).", messages.SUCCESS)


class TargetRootInline(admin.TabularInline):
    model = TargetRoot
    extra = 0
    fields = ["name", "uri_prefix", "created_at"]
    readonly_fields = ["created_at"]


@admin.register(Environment)
class EnvironmentAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "workspace", "max_concurrent_locks", "active_key_count",
                    "created_at"]
    list_filter = ["workspace__is_personal", "created_at"]
    search_fields = ["name", "slug", "workspace__slug", "workspace__name", "=id"]
    list_select_related = ["workspace"]
    readonly_fields = ["id", "owner_id", "created_at"]
    autocomplete_fields = ["workspace"]
    inlines = [TargetRootInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Environment]:
        return super().get_queryset(request).annotate(
            active_keys=Count("api_keys", filter=Q(api_keys__revoked_at__isnull=True))
        )

    @admin.display(description="active API keys", ordering="active_keys")
    def active_key_count(self, environment: Environment) -> int:
        return environment.active_keys  # type: ignore[attr-defined]


@admin.register(TargetRoot)
class TargetRootAdmin(admin.ModelAdmin):
    list_display = ["name", "uri_prefix", "environment", "created_at"]
    search_fields = ["name", "uri_prefix", "environment__slug", "environment__workspace__slug"]
    list_filter = ["environment__workspace"]
    list_select_related = ["environment__workspace"]
    readonly_fields = ["id", "created_at"]
    autocomplete_fields = ["environment"]


class ApiKeyStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("active", "Active"), ("revoked", "Revoked")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> QuerySet[ApiKey]:
        if self.value() == "active":
            return queryset.filter(revoked_at__isnull=True)
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        return queryset


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Adding a key generates it; the raw key is shown once, in the message after saving."""

    list_display = ["name", "display_prefix", "environment", "created_by", "created_at",
                    "last_used_at", "is_active"]
    list_filter = [ApiKeyStateFilter, "environment__workspace"]
    search_fields = ["name", "key_prefix", "environment__slug", "environment__workspace__slug",
                     "created_by__email"]
    list_select_related = ["environment__workspace", "created_by"]
    autocomplete_fields = ["environment"]
    actions = ["revoke_keys"]
    readonly_fields = ["id", "key_prefix", "key_hash", "created_by", "created_at",
                       "last_used_at", "revoked_at"]

    def get_fields(self, request: HttpRequest, obj: ApiKey | None = None) -> list[str]:
        if obj is None:
            return ["environment", "name"]
        return ["id", "name", "environment", "key_prefix", "key_hash", "created_by",
                "created_at", "last_used_at", "revoked_at"]

    def get_readonly_fields(self, request: HttpRequest, obj: ApiKey | None = None) -> list[str]:
        if obj is None:
            return []
        return [*self.readonly_fields, "environment"]

    @admin.display(description="prefix")
    def display_prefix(self, api_key: ApiKey) -> str:
        return f"sk_{api_key.key_prefix}…"

    @admin.display(description="active", boolean=True)
    def is_active(self, api_key: ApiKey) -> bool:
        return api_key.revoked_at is None

    def save_model(self, request: HttpRequest, obj: ApiKey, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        raw_key = generate_raw_key(obj.environment_id)
        obj.key_prefix = raw_key[3:11]
        obj.key_hash = hash_api_key(raw_key)
        obj.created_by = request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)
        self.message_user(
            request,
            f"New API key for {obj.environment}: {raw_key} — copy it now, it will not be "
            "shown again.",
            messages.WARNING,
        )

    @admin.action(description="Revoke selected API keys")
    def revoke_keys(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        count = 0
        for api_key in queryset.filter(revoked_at__isnull=True):
            api_key_revoke(api_key=api_key)
            count += 1
        self.message_user(request, f"Revoked {count} API key(s).", messages.SUCCESS)
