"""Read-only build console: status (materialised fold), the latest events inline, search by
name, commit and root task id. Everything is written through the API only.
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from builds.models import Build, Event
from stardag_site.admin_mixins import ReadOnlyAdminMixin

INLINE_EVENT_LIMIT = 100


class LatestEventsFormSet(BaseInlineFormSet):
    """Only the newest ``INLINE_EVENT_LIMIT`` events, so a 10k-event build renders quickly;
    the full log is the paginated Events list linked from the page.
    """

    def get_queryset(self) -> QuerySet[Event]:
        if not hasattr(self, "_latest"):
            self._latest = super().get_queryset().order_by("-created_at", "-id")[
                :INLINE_EVENT_LIMIT
            ]
        return self._latest


class EventInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Event
    formset = LatestEventsFormSet
    fields = readonly_fields = ("created_at", "event_type", "task", "error_message",
                                "event_metadata")
    extra = 0
    can_delete = False
    show_change_link = False
    verbose_name_plural = f"latest events (newest first, at most {INLINE_EVENT_LIMIT})"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Event]:
        return super().get_queryset(request).select_related("task")


@admin.register(Build)
class BuildAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["name", "status", "environment", "commit_hash", "user", "created_at",
                    "completed_at"]
    list_filter = ["status", "environment__workspace"]
    list_select_related = ["environment__workspace", "user"]
    search_fields = ["name", "commit_hash", "=root_tasks__task_id"]
    readonly_fields = fields = ("id", "environment", "user", "name", "description",
                                "commit_hash", "root_task_ids", "created_at", "status",
                                "started_at", "completed_at", "status_trigger", "all_events")
    ordering = ["-created_at"]
    inlines = [EventInline]
    show_full_result_count = False

    @admin.display(description="event log")
    def all_events(self, build: Build) -> str:
        url = reverse("admin:builds_event_changelist") + f"?build__id__exact={build.pk}"
        return format_html('<a href="{}">All events of this build</a>', url)


@admin.register(Event)
class EventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "event_type", "build", "task", "error_message"]
    list_filter = ["event_type"]
    list_select_related = ["build", "task"]
    search_fields = ["=task__task_id", "build__name", "error_message"]
    ordering = ["-created_at", "-id"]
    list_per_page = 100
    show_full_result_count = False
    fields = readonly_fields = ("id", "build", "task", "event_type", "created_at",
                                "error_message", "event_metadata")


# -- /api/v2 (read-only: written by the SDK through the API) --------------------------------

from builds.models_v2 import Deployment, Plan, V2Build  # noqa: E402


@admin.register(Deployment)
class DeploymentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("id", "kind", "app_name", "generation", "code_id", "environment",
                    "deployed_at", "activated_at")
    list_filter = ("kind",)
    list_select_related = ("environment__workspace",)
    search_fields = ("=id", "app_name", "code_id")
    ordering = ("-deployed_at",)


class PlanInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Plan
    fields = ("id", "generation", "deployment", "settings_hash", "activated_at", "sealed_at",
              "superseded_at")
    readonly_fields = fields
    extra = 0
    show_change_link = True


@admin.register(V2Build)
class V2BuildAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("name", "status", "environment", "created_at", "last_active_at",
                    "is_resumed")
    list_filter = ("status",)
    list_select_related = ("environment__workspace",)
    search_fields = ("=id", "name")
    inlines = [PlanInline]
    ordering = ("-last_active_at",)


@admin.register(Plan)
class PlanAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("id", "build", "generation", "deployment", "settings_hash", "sealed_at",
                    "activated_at", "superseded_at")
    list_select_related = ("build", "deployment")
    search_fields = ("=id", "=build__id")
    ordering = ("-created_at",)
