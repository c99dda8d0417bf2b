"""The FilterSet of ``GET /api/v1/builds`` (contract §4.10).

Every filter is a database predicate on indexed columns: ``status`` is the materialised §5.1
fold, ``root_task_id`` joins ``BuildRootTask`` (portable across SQLite and PostgreSQL, unlike
JSON containment).
"""

from __future__ import annotations

import datetime
from typing import Any

import django_filters
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from builds.models import Build, BuildRootTask, BuildStatus, Event


class StatusInFilter(django_filters.BaseInFilter, django_filters.ChoiceFilter):
    """``status=running,failed``: one or more build statuses, comma-separated."""


class BuildFilterSet(django_filters.FilterSet):
    status = StatusInFilter(field_name="status", lookup_expr="in", choices=BuildStatus.choices,
                            help_text="One or more build statuses, comma-separated.")
    name = django_filters.CharFilter(field_name="name", lookup_expr="icontains",
                                     help_text="Case-insensitive substring of the name.")
    commit_hash = django_filters.CharFilter(field_name="commit_hash", lookup_expr="exact")
    root_task_id = django_filters.CharFilter(method="filter_root_task_id")
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at",
                                                      lookup_expr="lte")
    user_id = django_filters.UUIDFilter(field_name="user_id")
    idle_for_seconds = django_filters.NumberFilter(
        method="filter_idle", min_value=60,
        help_text="Only builds whose latest event is at least this old (≥60).")
    reactive_app_name = django_filters.CharFilter(
        method="filter_reactive_app",
        help_text="Only builds driven by this reactive app (none are, on v1).")
    sort = django_filters.ChoiceFilter(
        choices=[("created_at:desc", "newest first"), ("created_at:asc", "oldest first")],
        method="sort_by",
    )

    class Meta:
        model = Build
        fields = ["status", "name", "commit_hash", "root_task_id", "created_after",
                  "created_before", "user_id", "idle_for_seconds", "reactive_app_name", "sort"]

    def filter_root_task_id(self, queryset: QuerySet[Build], name: str,
                            value: str) -> QuerySet[Build]:
        build_ids = BuildRootTask.objects.filter(task_id=value).values("build_id")
        return queryset.filter(pk__in=build_ids)

    def filter_idle(self, queryset: QuerySet[Build], name: str, value: Any) -> QuerySet[Build]:
        """SDK ≥0.20 ``--older-than``: no event (build or task) newer than the cutoff."""
        cutoff = timezone.now() - datetime.timedelta(seconds=int(value))
        recent = Event.objects.filter(build=OuterRef("pk"), created_at__gt=cutoff)
        return queryset.exclude(Exists(recent))

    def filter_reactive_app(self, queryset: QuerySet[Build], name: str,
                            value: str) -> QuerySet[Build]:
        """No build is reactively scheduled on v1, so the filter honestly matches nothing."""
        return queryset.none()

    def sort_by(self, queryset: QuerySet[Build], name: str, value: str) -> QuerySet[Build]:
        if value == "created_at:asc":
            return queryset.order_by("created_at", "id")
        return queryset.order_by("-created_at", "-id")
