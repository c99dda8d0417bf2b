"""Column values as the API writes them, produced by PostgreSQL for long lists.

A 1,000-task build's events are 3,000 rows of three UUIDs, a timestamp and a JSON value. Reading
them as Python objects and writing them back out as text was most of the CPU of those responses
(issue 10 profile: parsing timestamps ~25 %, formatting them ~20 %, UUIDs to text ~10 %). On
PostgreSQL these expressions return the final text instead: ``uuid::text`` is the hyphenated
lower-case form ``str(uuid)`` gives, ``to_char`` writes the contract's timestamp (UTC, always
microseconds, ``Z``), and ``jsonb::text`` is the stored JSON, embedded as is in the response
(``orjson.Fragment``). Elsewhere (SQLite) they return the column unchanged, with the field's
usual conversion, and ``as_text`` finishes the job in Python, so both databases answer the same
JSON.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import orjson
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import DateTimeField, F, Func, QuerySet, TextField, UUIDField, Window
from django.db.models.functions import RowNumber

from stardag_site.api.fields import utc_timestamp

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models.sql.compiler import SQLCompiler


class _PostgresText(Func):
    template_postgresql = "%s"

    def as_sql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper,
               function: str | None = None, template: str | None = None,
               arg_joiner: str | None = None, **extra_context: Any) -> tuple[str, Any]:
        """The column itself (no function applied): any backend but PostgreSQL."""
        return compiler.compile(self.source_expressions[0])

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, Any]:
        sql, params = compiler.compile(self.source_expressions[0])
        return self.template_postgresql % sql, params


class UuidText(_PostgresText):
    """A UUID column as text on PostgreSQL; a ``UUID`` elsewhere (``str()`` either way)."""

    output_field = UUIDField()
    template_postgresql = "(%s)::text"


class UtcTimestampText(_PostgresText):
    """A timestamp column as the API's text on PostgreSQL; a datetime elsewhere
    (``timestamp_text`` either way)."""

    output_field = DateTimeField()
    template_postgresql = ("to_char((%s) AT TIME ZONE 'UTC', "
                           "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")


class JsonText(_PostgresText):
    """A JSON column as its stored text (SQLite keeps JSON as text already); ``json_fragment``
    embeds it in a response without parsing it."""

    output_field = TextField()
    template_postgresql = "(%s)::text"


def timestamp_text(value: Any) -> str | None:
    return value if value is None or isinstance(value, str) else utc_timestamp(value)


def uuid_text(value: Any) -> str | None:
    return value if value is None or isinstance(value, str) else str(value)


def json_fragment(value: str | None) -> orjson.Fragment | None:
    return orjson.Fragment(value) if value is not None else None


def json_array_text(queryset: QuerySet[Any], columns: Mapping[str, Any],
                    order_by: Sequence[str]) -> orjson.Fragment | None:
    """The rows of ``queryset`` as one JSON array of objects, built by PostgreSQL; ``None`` on
    other databases (the caller then builds the list in Python).

    ``columns`` maps each key of the objects, in order, to a field name or an expression.
    Text columns (``UuidText``, ``UtcTimestampText``, char fields) become JSON strings; numbers,
    booleans and NULL keep their JSON types; a ``jsonb`` column (pass the field itself, not
    ``JsonText``) is embedded as JSON. Rows are numbered by ``order_by`` in the subquery and
    aggregated in that order (``json_agg(... ORDER BY n)``), which is guaranteed, unlike the
    order of a sorted subquery.

    Why: a 1,000-task build's events are 3,000 rows; fetching them as Python tuples, making a
    dict per row and encoding the dicts cost ~13 ms of the server's CPU, the aggregate ~2 ms of
    the database's, and the body is handed to the renderer as one ``orjson.Fragment``.
    """
    if connection.vendor != "postgresql":
        return None
    if not all(key.isidentifier() for key in columns):  # spelled into the SQL below
        raise ValueError(f"JSON keys must be identifiers: {list(columns)}")
    names = [f"c{index}" for index in range(len(columns))]
    values = {name: F(source) if isinstance(source, str) else source
              for name, source in zip(names, columns.values(), strict=True)}
    numbered = queryset.order_by().values(
        **values, n=Window(RowNumber(), order_by=[_order_expression(key) for key in order_by]))
    try:
        inner_sql, params = numbered.query.sql_with_params()
    except EmptyResultSet:  # a filter that can match nothing (``none()``, ``__in=[]``)
        return orjson.Fragment("[]")
    pairs = ", ".join(f"'{key}', r.{connection.ops.quote_name(name)}"
                      for key, name in zip(columns, names, strict=True))
    sql = (f"SELECT coalesce(json_agg(json_build_object({pairs}) ORDER BY r.n), '[]')::text "
           f"FROM ({inner_sql}) r")
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return orjson.Fragment(cursor.fetchone()[0])


def _order_expression(key: str) -> Any:
    return F(key[1:]).desc() if key.startswith("-") else F(key).asc()
