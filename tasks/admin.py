"""Read-only task console: global status (materialised §5.3 fold), dependencies both ways,
assets and the latest events; search by task id, name and namespace.
"""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from builds.admin import EventInline
from stardag_site.admin_mixins import ReadOnlyAdminMixin
from tasks.models import Task, TaskAsset, TaskDependency


class UpstreamInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = TaskDependency
    fk_name = "dependent"
    fields = readonly_fields = ("dependency",)
    extra = 0
    verbose_name = "depends on"
    verbose_name_plural = "depends on"


class DownstreamInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = TaskDependency
    fk_name = "dependency"
    fields = readonly_fields = ("dependent",)
    extra = 0
    verbose_name = "needed by"
    verbose_name_plural = "needed by"


class AssetInline(ReadOnlyAdminMixin, admin.StackedInline):
    model = TaskAsset
    fields = readonly_fields = ("asset_type", "name", "body", "created_at")
    extra = 0


@admin.register(Task)
class TaskAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["task_id", "task_name", "task_namespace", "status", "environment",
                    "asset_count", "created_at"]
    list_filter = ["status", "waiting_for_lock", "environment__workspace"]
    # The only place that says what the list joins: a ``select_related`` call in ``get_queryset``
    # would replace it (one query per row for the environment column, stumble 9).
    list_select_related = ["environment__workspace"]
    search_fields = ["=task_id", "task_name", "task_namespace"]
    readonly_fields = fields = ("id", "task_id", "environment", "task_namespace", "task_name",
                                "task_data", "version", "output_uri", "created_at", "status",
                                "started_at", "completed_at", "error_message", "waiting_for_lock",
                                "status_build", "last_build", "asset_count", "last_event_at",
                                "all_events")
    ordering = ["-created_at"]
    inlines = [UpstreamInline, DownstreamInline, AssetInline, EventInline]
    show_full_result_count = False

    @admin.display(description="event log")
    def all_events(self, task: Task) -> str:
        url = reverse("admin:builds_event_changelist") + f"?task__id__exact={task.pk}"
        return format_html('<a href="{}">All events of this task</a>', url)


# -- /api/v2 (read-only: written by the SDK through the API) --------------------------------

from tasks.models_v2 import Execution, PlanMember, V2Task  # noqa: E402


class ExecutionInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Execution
    fields = ("id", "plan", "executor", "executor_ref", "started_at", "claim_released_at",
              "claim_outcome", "ended_at", "outcome")
    readonly_fields = fields
    extra = 0
    ordering = ("-started_at",)
    show_change_link = True


@admin.register(V2Task)
class V2TaskAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """A completion and its claim: who holds it (plan, execution) and until when."""

    list_display = ("task_name", "task_id", "status", "status_at", "claim_plan",
                    "execution_id", "claim_expires_at", "environment")
    list_filter = ("status",)
    list_select_related = ("environment__workspace", "claim_plan")
    search_fields = ("=task_id", "task_name", "task_namespace")
    fieldsets = (
        (None, {"fields": ("task_id", "task_namespace", "task_name", "version", "output_uri",
                           "environment")}),
        ("Status", {"fields": ("status", "status_at", "started_at", "completed_at",
                               "error_message")}),
        ("Claim", {"fields": ("claim_plan", "execution_id", "claim_expires_at",
                              "preempted_at", "limit_keys")}),
    )
    inlines = [ExecutionInline]
    ordering = ("-status_at",)


@admin.register(Execution)
class ExecutionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("id", "task", "plan", "executor", "started_at", "claim_outcome", "outcome",
                    "ended_at")
    list_filter = ("outcome", "claim_outcome")
    list_select_related = ("task", "plan")
    search_fields = ("=id", "=task__task_id")
    ordering = ("-started_at",)


@admin.register(PlanMember)
class PlanMemberAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("task", "plan", "is_root", "admitted_by", "excluded_reason")
    list_select_related = ("task", "plan")
    search_fields = ("=plan__id", "=task__task_id")
