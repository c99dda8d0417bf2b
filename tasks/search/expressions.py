"""Small ORM expressions with fixed SQL templates, one per backend, for task search; layer 3
of ``tasks.search`` (with ``numbers``), used by ``conditions`` and ``suggestions``.

JSON support differs between SQLite and PostgreSQL in exactly the places search cares about:
how a JSON scalar renders as text (``->>``), how to tell a number from a string, and how UUIDs and
timestamps look as text. Each expression below hides one such difference; user input only ever
reaches the database as bound parameters (a JSON path is a parameter too, built from segments the
grammar already validated), never as SQL text.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from django.db import NotSupportedError
from django.db.models import Expression, FloatField, Func, TextField

from tasks.search.grammar import JsonPath

# A JSON number as text (RFC 8259); exponent capped so PostgreSQL's numeric never overflows.
_PG_NUMBER_TEXT = r"^\s*-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]{1,3})?\s*$"


def pg_path(path: JsonPath) -> list[str]:
    """``#>``'s text[] path: keys and list indexes as strings."""
    elements: list[str] = []
    for step in path:
        elements.append(step.key)
        if step.index is not None:
            elements.append(str(step.index))
    return elements


def sqlite_path(path: JsonPath) -> str:
    """SQLite's ``$."key"[0]`` path; keys are always quoted so ``123`` stays an object key."""
    return "$" + "".join(
        f'."{step.key}"' + (f"[{step.index}]" if step.index is not None else "") for step in path
    )


class _JsonPathFunc(Func):
    """Base: one JSON column plus a validated path; subclasses supply the per-backend SQL."""

    def __init__(self, expression: Any, path: JsonPath, **extra: Any) -> None:
        super().__init__(expression, **extra)
        self.path = path

    def _column(self, compiler: Any) -> tuple[str, list[Any]]:
        sql, params = compiler.compile(self.source_expressions[0])
        return sql, list(params)

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        raise NotSupportedError(f"{type(self).__name__} supports SQLite and PostgreSQL only")


class JsonText(_JsonPathFunc):
    """The value at ``path`` rendered the way PostgreSQL's ``->>`` renders it.

    Strings unquoted, numbers as their JSON text, ``true``/``false``, objects and lists as JSON
    text; JSON ``null`` and a missing path are SQL NULL (so they equal nothing).
    """

    output_field = TextField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list]:
        column, params = self._column(compiler)
        return f"({column} #>> %s)", [*params, pg_path(self.path)]

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list]:
        column, params = self._column(compiler)
        path = sqlite_path(self.path)
        # ``->`` keeps a number's original JSON text (``json_extract`` would turn it into a REAL).
        sql = (
            f"(CASE json_type({column}, %s) WHEN 'text' THEN json_extract({column}, %s) "
            f"WHEN 'null' THEN NULL ELSE ({column} -> %s) END)"
        )
        return sql, [*params, path, *params, path, *params, path]


class JsonType(_JsonPathFunc):
    """JSON type at ``path``: string, number, boolean, null, object, array; NULL when missing."""

    output_field = TextField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list]:
        column, params = self._column(compiler)
        return f"jsonb_typeof({column} #> %s)", [*params, pg_path(self.path)]

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list]:
        column, params = self._column(compiler)
        sql = (
            f"(CASE json_type({column}, %s) WHEN 'integer' THEN 'number' WHEN 'real' THEN 'number' "
            "WHEN 'text' THEN 'string' WHEN 'true' THEN 'boolean' WHEN 'false' THEN 'boolean' "
            f"ELSE json_type({column}, %s) END)"
        )
        path = sqlite_path(self.path)
        return sql, [*params, path, *params, path]


class JsonNumber(_JsonPathFunc):
    """The number at ``path``; NULL when the value there is not a JSON number (or is missing)."""

    output_field = FloatField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list]:
        column, params = self._column(compiler)
        path = pg_path(self.path)
        sql = (
            f"(CASE WHEN jsonb_typeof({column} #> %s) = 'number' "
            f"THEN ({column} #>> %s)::numeric END)"
        )
        return sql, [*params, path, *params, path]

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list]:
        column, params = self._column(compiler)
        path = sqlite_path(self.path)
        sql = (
            f"(CASE WHEN json_type({column}, %s) IN ('integer', 'real') "
            f"THEN json_extract({column}, %s) END)"
        )
        return sql, [*params, path, *params, path]


class TextNumber(Func):
    """A text column read as a number when it is a JSON number literal, else NULL."""

    output_field = FloatField()

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        raise NotSupportedError("TextNumber supports SQLite and PostgreSQL only")

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list]:
        column, params = compiler.compile(self.source_expressions[0])
        sql = f"(CASE WHEN {column} ~ %s THEN ({column})::numeric END)"
        return sql, [*params, _PG_NUMBER_TEXT, *params]

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list]:
        column, params = compiler.compile(self.source_expressions[0])
        sql = (
            f"(CASE WHEN json_valid({column}) THEN (CASE WHEN json_type({column}) "
            f"IN ('integer', 'real') THEN CAST({column} AS REAL) END) END)"
        )
        return sql, [*params, *params, *params]


class NumberParam(Expression):
    """A bound number: ``numeric`` on PostgreSQL (exact), REAL on SQLite (its JSON numbers)."""

    output_field = FloatField()

    def __init__(self, value: Decimal) -> None:
        super().__init__()
        self.value = value

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        raise NotSupportedError("NumberParam supports SQLite and PostgreSQL only")

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list]:
        return "(%s)::numeric", [str(self.value)]

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list]:
        return "%s", [float(self.value)]


class UuidText(Func):
    """A UUID column as lower-case hyphenated text (SQLite stores 32 bare hex digits)."""

    output_field = TextField()

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        raise NotSupportedError("UuidText supports SQLite and PostgreSQL only")

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list]:
        column, params = compiler.compile(self.source_expressions[0])
        return f"({column})::text", list(params)

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list]:
        column, params = compiler.compile(self.source_expressions[0])
        parts = [(1, 8), (9, 4), (13, 4), (17, 4), (21, 12)]
        sql = " || '-' || ".join(f"substr({column}, {start}, {length})" for start, length in parts)
        return f"lower({sql})", list(params) * len(parts)


class IsoText(Func):
    """A timestamp as ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` in UTC, the API's rendering."""

    output_field = TextField()

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        raise NotSupportedError("IsoText supports SQLite and PostgreSQL only")

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list]:
        column, params = compiler.compile(self.source_expressions[0])
        sql = f"to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
        return sql, list(params)

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list]:
        # Django stores UTC as "YYYY-MM-DD HH:MM:SS[.ffffff]" (no fraction when it is zero).
        column, params = compiler.compile(self.source_expressions[0])
        sql = (
            f"(replace({column}, ' ', 'T') || "
            f"(CASE WHEN instr({column}, '.') = 0 THEN '.000000' ELSE '' END) || 'Z')"
        )
        return sql, list(params) * 3


def containment_candidates(value: str) -> list[Any] | None:
    """JSON values whose ``->>`` text could equal ``value``; ``None`` when that set is open-ended.

    PostgreSQL answers ``task_data @> {"a": {"b": <candidate>}}`` from a GIN index, so an
    equality clause first narrows rows by containment and then checks the exact text. The
    candidates must therefore cover every JSON value that renders as ``value``: the string itself,
    a boolean, or a number that is numerically equal (containment compares numbers by value).
    Values that look like objects or lists are left to the exact check alone.
    """
    stripped = value.strip()
    if stripped.startswith(("{", "[")):
        return None
    candidates: list[Any] = [value]
    if value in ("true", "false"):
        candidates.append(value == "true")
        return candidates
    if len(value) > 300:
        return candidates
    try:
        parsed = json.loads(value, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        return candidates
    if isinstance(parsed, bool) or parsed is None:
        return candidates
    if isinstance(parsed, int):
        candidates.append(parsed)
    elif isinstance(parsed, float):
        # Only when the float is exactly the written number; otherwise skip the shortcut.
        try:
            exact = Decimal(repr(parsed)) == Decimal(value.strip())
        except ArithmeticError:
            exact = False
        if not exact:
            return None
        candidates.append(parsed)
    return candidates


def _reject_constant(name: str) -> Any:
    raise ValueError(name)
