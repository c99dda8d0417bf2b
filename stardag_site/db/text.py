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

from typing import TYPE_CHECKING, Any

import orjson
from django.db.models import DateTimeField, Func, TextField, UUIDField

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
