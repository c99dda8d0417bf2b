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
from tasks.search.numbers import NumberIndexMatch
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
        self._number_index = False
        # The numeric clauses ANDed at the top level, any of which may drive the search.
        self.number_matches: list[NumberIndexMatch] = []
        # Whether anything besides those (another clause, ``q``) narrows the tasks.
        self.narrowed = False

    def filter_clauses(self, queryset: QuerySet[Task], name: str, value: str) -> QuerySet[Task]:
        environment_id = self.environment.pk if self.environment is not None else None
        clauses = parse_filter(value)
        _check_clause_limits(clauses, value)
        conditions = search_conditions(clauses, environment_id=environment_id)
        for condition in conditions:
            queryset = queryset.filter(condition)
        self._number_index = any(_uses_number_index(condition) for condition in conditions)
        self.number_matches = [
            condition.children[0] for condition in conditions
            if len(condition.children) == 1 and not condition.negated
            and isinstance(condition.children[0], NumberIndexMatch)]
        self.narrowed = self.narrowed or len(conditions) > len(self.number_matches)
        return queryset

    def filter_text(self, queryset: QuerySet[Task], name: str, value: str) -> QuerySet[Task]:
        self.narrowed = True
        return queryset.filter(q_condition(value))

    def filter_sort(self, queryset: QuerySet[Task], name: str, value: str) -> QuerySet[Task]:
        return queryset.order_by(*sort_order(value))

    @property
    def matched_set(self) -> list[NumberIndexMatch] | None:
        """``None``, or the clauses that may drive a search whose page should come from the
        whole matching set (``results.search_page``): a numeric clause reads the side table,
        whose ranges must never meet a task in a nested loop (``numbers.NumberIndexMatch``).
        """
        _ = self.qs
        return self.number_matches if self._number_index else None

    @property
    def qs(self) -> QuerySet[Task]:
        # Without a ``sort`` parameter the default order (§7.3) still applies.
        queryset = super().qs
        return queryset if queryset.query.order_by else queryset.order_by(*DEFAULT_ORDER)


def _uses_number_index(condition: Any) -> bool:
    if isinstance(condition, NumberIndexMatch):
        return True
    return any(_uses_number_index(child) for child in getattr(condition, "children", ()))
