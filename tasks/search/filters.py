"""The search FilterSet (layer 4 of ``tasks.search``): query parameters → filtered queryset.

``filter`` goes through the grammar (``grammar.parse_filter``) and the conditions
(``conditions.search_conditions``); ``q`` and ``sort`` through ``conditions`` too. The FilterSet
is handed the caller's environment by the view rather than reading it from the request, so it
can be used (and tested) without one.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.conf import settings
from django.db.models import QuerySet

from stardag_site.api.errors import RequestValidationError, validation_item
from tasks.models import Task
from tasks.search.conditions import DEFAULT_ORDER, q_condition, search_conditions, sort_order
from tasks.search.grammar import Clause, parse_filter
from tasks.search.numbers import NumberIndexMatch, number_index_count
from workspaces.models import Environment


def _check_clause_limits(clauses: list[Clause], raw: str) -> None:
    """422 when a filter has more distinct clauses than the configured limits allow.

    The planner's work grows faster than linearly with the number of clauses, above all with
    ``asset.*`` clauses (each one a subquery): 100 of them take about a second to plan on an
    empty environment. The limits keep one request from occupying the database.
    """
    max_clauses = settings.TASK_SEARCH_MAX_CLAUSES
    max_asset = settings.TASK_SEARCH_MAX_ASSET_CLAUSES
    asset_count = sum(1 for clause in clauses if clause.kind == "asset")
    problems = []
    if len(clauses) > max_clauses:
        problems.append(f"A filter may have at most {max_clauses} distinct clauses "
                        f"(got {len(clauses)})")
    if asset_count > max_asset:
        problems.append(f"A filter may have at most {max_asset} distinct asset.* clauses "
                        f"(got {asset_count})")
    if problems:
        raise RequestValidationError(
            [validation_item(["query", "filter"], msg, "too_long", raw) for msg in problems])


class TaskSearchFilterSet(django_filters.FilterSet):
    """``GET /api/v1/tasks/search``: ``filter`` clauses, ``q`` free text and ``sort``.

    Each parameter is a ``method=`` filter building ORM conditions (``conditions``); clauses
    the grammar does not understand are ignored, never an error. The queryset passed in must
    already be scoped to ``environment``, which lets numeric clauses use the environment's
    side table (``numbers``); without one they fall back to reading the JSON.
    """

    filter = django_filters.CharFilter(
        method="filter_clauses",
        help_text="Comma-separated clauses `key:op:value` or `key:value` (§7.1).")
    q = django_filters.CharFilter(
        method="filter_text", help_text="Case-insensitive substring of task name or namespace.")
    sort = django_filters.CharFilter(
        method="filter_sort",
        help_text="`created_at|task_name|task_namespace` `:asc|desc`; default `created_at:desc`.")

    class Meta:
        model = Task
        fields: list[str] = []

    def __init__(self, *args: Any, environment: Environment | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.environment = environment
        self._range_only: NumberIndexMatch | None = None
        self._text_filter = False

    def filter_clauses(self, queryset: QuerySet[Task], name: str, value: str) -> QuerySet[Task]:
        environment_id = self.environment.pk if self.environment is not None else None
        clauses = parse_filter(value)
        _check_clause_limits(clauses, value)
        conditions = search_conditions(clauses, environment_id=environment_id)
        for condition in conditions:
            queryset = queryset.filter(condition)
        children = conditions[0].children if len(conditions) == 1 else []
        if (len(children) == 1 and isinstance(children[0], NumberIndexMatch)
                and not conditions[0].negated):
            self._range_only = children[0]
        return queryset

    def filter_text(self, queryset: QuerySet[Task], name: str, value: str) -> QuerySet[Task]:
        self._text_filter = True
        return queryset.filter(q_condition(value))

    def filter_sort(self, queryset: QuerySet[Task], name: str, value: str) -> QuerySet[Task]:
        return queryset.order_by(*sort_order(value))

    def known_total(self) -> int | None:
        """The exact total when something cheaper than COUNT over the page query gives it: a
        search that is nothing but one numeric range is counted in the side table.
        """
        _ = self.qs
        if self._range_only is not None and not self._text_filter:
            return number_index_count(self._range_only)
        return None

    @property
    def qs(self) -> QuerySet[Task]:
        # Without a ``sort`` parameter the default order (§7.3) still applies.
        queryset = super().qs
        return queryset if queryset.query.order_by else queryset.order_by(*DEFAULT_ORDER)
