"""FilterSet of the task list (contract §4.11); search has its own: ``tasks.search.filters``."""

from __future__ import annotations

import django_filters

from tasks.models import Task, TaskStatus


class TaskListFilterSet(django_filters.FilterSet):
    """``GET /api/v1/tasks``: exact name and namespace; an empty value means no filter
    (django-filter skips empty values), so ``?task_namespace=`` lists every namespace.
    """

    task_name = django_filters.CharFilter(field_name="task_name", lookup_expr="exact")
    task_namespace = django_filters.CharFilter(field_name="task_namespace", lookup_expr="exact",
                                               help_text="Exact namespace; empty means no filter.")
    # SDK ≥0.20 CLI (SDK-WIRE C9): repeated ``status`` on the ``latest_status`` column.
    status = django_filters.MultipleChoiceFilter(
        field_name="latest_status", choices=TaskStatus.choices,
        help_text="``latest_status`` is one of these (repeatable).")
    status_older_than = django_filters.IsoDateTimeFilter(
        field_name="latest_status_at", lookup_expr="lt",
        help_text="``latest_status_at`` is before this time.")

    class Meta:
        model = Task
        fields = ["task_name", "task_namespace", "status", "status_older_than"]
