"""Task search clauses as ORM conditions (contract §7.1-§7.3); layer 2 of ``tasks.search``.

``search_conditions`` turns the parsed clauses (``grammar``) into ``Q`` objects that the
``TaskSearchFilterSet`` (``filters``) ANDs onto an environment-scoped task queryset. Every
branch is a Django lookup or one of the fixed-template SQL expressions of ``expressions`` and
``numbers``; input reaches SQL only as bound parameters. A clause that can never
match (an unparsable timestamp, a non-numeric value for ``>``) becomes ``NOTHING`` rather than
an error, so a search never fails.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import connection
from django.db.models import Exists, F, OuterRef, Q, Value
from django.db.models.lookups import (
    Exact,
    GreaterThan,
    GreaterThanOrEqual,
    IContains,
    IsNull,
    LessThan,
    LessThanOrEqual,
)

from tasks.models import TaskAsset
from tasks.search.expressions import (
    IsoText,
    JsonNumber,
    JsonText,
    NumberParam,
    TextNumber,
    UuidText,
    containment_candidates,
)
from tasks.search.grammar import Clause, JsonPath
from tasks.search.numbers import NumberIndexMatch, indexable, number_index_available

NOTHING = Q(pk__in=[])  # Django short-circuits an empty IN to "no rows" without a query.

_COMPARE = {">": GreaterThan, ">=": GreaterThanOrEqual, "<": LessThan, "<=": LessThanOrEqual}
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
# Columns compared as text, by core key (§7.1). ``build_name`` goes through the task's last build.
_TEXT_COLUMNS = {
    "task_name": "task_name",
    "task_namespace": "task_namespace",
    "task_id": "task_id",
    "version": "version",
    "build_name": "last_build__name",
    "status": "status",
}
SORT_FIELDS = ("created_at", "task_name", "task_namespace")
DEFAULT_ORDER = ("-created_at", "-id")


def parse_number(text: str) -> Decimal | None:
    """The filter value of ``>``/``<``/``>=``/``<=`` as a number, or ``None`` (matches nothing).

    Magnitudes are kept within what a double can hold so both backends compare the same way.
    """
    if len(text) > 100 or _NUMBER.fullmatch(text) is None:
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    if not number.is_finite() or (number and not -300 <= number.adjusted() <= 300):
        return None
    return number


def parse_instant(text: str) -> tuple[datetime, datetime | None, bool] | None:
    """``(start, end, is_date)`` in UTC: a date covers ``[start, end)``, a timestamp is an instant
    (``end`` is ``None`` past year 9999). Naive timestamps are read as UTC; ``None`` if unparsable.
    """
    try:
        day = date.fromisoformat(text)
    except ValueError:
        day = None
    try:
        if day is not None:
            start = datetime.combine(day, time.min, tzinfo=UTC)
            end = start + timedelta(days=1) if day < date.max else None
            return start, end, True
        instant = datetime.fromisoformat(text)
        if instant.tzinfo is None:
            instant = instant.replace(tzinfo=UTC)
        instant = instant.astimezone(UTC)
        return instant, instant, False
    except (ValueError, OverflowError):
        return None


def _text_condition(column: str, op: str, value: str) -> Q:
    """A text column (§7.1): equality, substring, or numeric when it holds a number."""
    if op == "=":
        return Q(**{column: value})
    if op == "!=":
        return Q(**{f"{column}__isnull": False}) & ~Q(**{column: value})
    if op == "~":
        return Q(**{f"{column}__icontains": value})
    number = parse_number(value)
    if number is None:
        return NOTHING
    return Q(_COMPARE[op](TextNumber(F(column)), NumberParam(number)))


def _created_at_condition(op: str, value: str) -> Q:
    if op == "~":
        return Q(IContains(IsoText(F("created_at")), value))
    parsed = parse_instant(value)
    if parsed is None:
        return NOTHING
    start, end, is_date = parsed
    if not is_date:
        lookups = {"=": "exact", ">": "gt", ">=": "gte", "<": "lt", "<=": "lte"}
        if op == "!=":
            return ~Q(created_at=start)
        return Q(**{f"created_at__{lookups[op]}": start})
    # A date is the whole UTC day: "=" matches within it, ">" after it, "<=" up to its end.
    after_day = Q(created_at__gte=end) if end is not None else NOTHING
    before_end = Q(created_at__lt=end) if end is not None else Q()
    by_op = {
        "=": Q(created_at__gte=start) & before_end,
        "!=": Q(created_at__lt=start) | after_day,
        ">": after_day,
        ">=": Q(created_at__gte=start),
        "<": Q(created_at__lt=start),
        "<=": before_end if end is not None else Q(created_at__isnull=False),
    }
    return by_op[op]


def _build_id_condition(op: str, value: str) -> Q:
    if op == "~":
        return Q(IContains(UuidText(F("last_build_id")), value))
    if op not in ("=", "!="):
        return NOTHING  # a UUID is never a number
    try:
        build_id: uuid.UUID | None = uuid.UUID(value)
    except ValueError:
        build_id = None
    if op == "=":
        return Q(last_build_id=build_id) if build_id is not None else NOTHING
    has_build = Q(last_build__isnull=False)
    return has_build & ~Q(last_build_id=build_id) if build_id is not None else has_build


def json_condition(column: str, path: JsonPath, op: str, value: str) -> Q:
    """The value at ``path`` inside JSON ``column`` (``task_data`` or an asset's ``body``)."""
    if op in _COMPARE:
        number = parse_number(value)
        if number is None:
            return NOTHING
        return Q(_COMPARE[op](JsonNumber(F(column), path), NumberParam(number)))
    text = JsonText(F(column), path)
    if op == "~":
        return Q(IContains(text, value))
    equal = Q(Exact(text, Value(value)))
    if op == "!=":
        return Q(IsNull(text, False)) & ~equal
    return _containment_prefilter(column, path, value) & equal


def _containment_prefilter(column: str, path: JsonPath, value: str) -> Q:
    """On PostgreSQL, ``column @> {...}`` candidates that let the GIN index find equal values.

    Purely an accelerator: the exact text comparison is ANDed after it, and the candidates
    cover every JSON value that renders as ``value``. Skipped where that cannot be guaranteed
    (SQLite, objects/lists as values, key segments that are all digits, which PostgreSQL's
    ``#>>`` would also accept as list positions).
    """
    if connection.vendor != "postgresql" or any(step.key.isdigit() for step in path):
        return Q()
    candidates = containment_candidates(value)
    if candidates is None:
        return Q()
    condition = Q()
    for candidate in candidates:
        condition |= Q(**{f"{column}__contains": _nest(path, candidate)})
    return condition


def _nest(path: JsonPath, leaf: Any) -> Any:
    document = leaf
    for step in reversed(path):
        if step.index is not None:
            document = [document]
        document = {step.key: document}
    return document


def clause_condition(clause: Clause) -> Q:
    """One clause of the ``filter`` parameter as a condition on ``Task`` rows."""
    if clause.kind == "param":
        return json_condition("task_data", clause.path, clause.op, clause.value)
    if clause.kind == "asset":
        assets = TaskAsset.objects.filter(task_id=OuterRef("pk"), name=clause.asset_name).filter(
            json_condition("body", clause.path, clause.op, clause.value)
        )
        return Q(Exists(assets))
    if clause.key == "created_at":
        return _created_at_condition(clause.op, clause.value)
    if clause.key == "build_id":
        return _build_id_condition(clause.op, clause.value)
    return _text_condition(_TEXT_COLUMNS[clause.key], clause.op, clause.value)


def search_conditions(clauses: list[Clause], *, environment_id: Any = None) -> list[Q]:
    """The conditions of all clauses (to be ANDed).

    On PostgreSQL with the numeric side table, ``>``/``<``/``>=``/``<=`` on ``param.*`` and
    ``asset.*`` become index range scans (``numbers``); the bounds of all numeric
    ``param`` clauses on one path form a single range (the same thing, since a path holds one
    value). Asset clauses stay separate: "some asset of that name satisfies it" is per clause.
    """
    conditions: list[Q] = []
    ranges: dict[JsonPath, list[tuple[str, Decimal]]] = {}
    for clause in clauses:
        if (clause.kind in ("param", "asset") and clause.op in _COMPARE
                and environment_id is not None and indexable(clause.path)
                and number_index_available()):
            number = parse_number(clause.value)
            if number is None:
                conditions.append(NOTHING)
            elif clause.kind == "param":
                ranges.setdefault(clause.path, []).append((clause.op, number))
            else:
                conditions.append(Q(NumberIndexMatch(
                    environment_id=environment_id, scope=f"asset.{clause.asset_name}",
                    path=clause.path, bounds=[(clause.op, number)])))
            continue
        conditions.append(clause_condition(clause))
    for path, bounds in ranges.items():
        conditions.append(Q(NumberIndexMatch(environment_id=environment_id, scope="param",
                                             path=path, bounds=bounds)))
    return conditions


def q_condition(text: str) -> Q:
    """``q`` (§7.2): case-insensitive substring of name or namespace; ``%``/``_`` are literal."""
    return Q(task_name__icontains=text) | Q(task_namespace__icontains=text)


def sort_order(text: str | None) -> tuple[str, str]:
    """``<field>:<dir>`` (§7.3) as an ORDER BY; ties broken by internal id in the same direction."""
    field, _, direction = (text or "").partition(":")
    field = field.strip()
    if field not in SORT_FIELDS:
        field = "created_at"
    sign = "" if direction.strip() == "asc" else "-"
    return f"{sign}{field}", f"{sign}id"

