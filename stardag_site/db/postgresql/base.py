"""Django's PostgreSQL backend with a health check that costs a system call, not a round trip.

``CONN_HEALTH_CHECKS`` makes Django test a reused connection before the first query of every
request. The stock test sends ``SELECT 1``: a round trip and a statement for PostgreSQL to parse
and run, about 5 % of a worker's time on small requests (issue 10). This backend asks the socket
instead: an idle connection has nothing to read, so a readable socket means the server has spoken
unprompted (a restart or ``pg_terminate_backend`` sends a FATAL notice and closes), and only then
is ``SELECT 1`` sent to decide. A connection that died silently (a network partition) still fails
its first query; that query marks the connection (``errors_occurred``) and Django replaces it at
the end of the request, with the stock ``SELECT 1`` test, as before.

``prepared_cursor()`` is the cursor of the statements compiled once in
``stardag_site.db.prepared``: server-side binding, so psycopg prepares a statement on the server
after its fifth execution on a connection and PostgreSQL stops parsing and planning it (the
lifecycle lock query: 0.58 ms of backend CPU unprepared, 0.22 ms prepared). Django's own cursors
keep client-side binding. ``DB_PREPARED_STATEMENTS=0`` turns it off (for a connection pooler
in transaction mode without prepared-statement support).
"""

from __future__ import annotations

import select
from typing import Any

from django.conf import settings
from django.db.backends.postgresql.base import DatabaseWrapper as PostgresDatabaseWrapper
from django.db.backends.postgresql.base import ServerBindingCursor
from django.db.backends.postgresql.operations import (
    DatabaseOperations as PostgresDatabaseOperations,
)
from django.db.backends.postgresql.psycopg_any import register_tzloader
from psycopg.postgres import types
from psycopg.pq import Format

TIMESTAMPTZ_OID = types["timestamptz"].oid


def _socket_has_data(connection: object) -> bool:
    """True if the server sent something while the connection was idle (or it is closed)."""
    try:
        if connection.closed or connection.broken:  # type: ignore[attr-defined]
            return True
        fd = connection.pgconn.socket  # type: ignore[attr-defined]
        readable, _, _ = select.select([fd], [], [], 0)
    except (OSError, ValueError, AttributeError):
        return True
    return bool(readable)


class DatabaseOperations(PostgresDatabaseOperations):
    def last_executed_query(self, cursor: Any, sql: str, params: Any) -> str:
        """The executed SQL for Django's query log (``DEBUG``, ``CaptureQueriesContext``).

        psycopg leaves ``cursor._query`` unset when it runs a statement already prepared on
        the server, so Django's answer would be ``None``; the statement as sent (placeholders,
        not values) is logged instead.
        """
        query: str | None = super().last_executed_query(cursor, sql, params)
        return query if query is not None else sql


class DatabaseWrapper(PostgresDatabaseWrapper):
    ops_class = DatabaseOperations
    # Set by BaseDatabaseWrapper.__init__ and connect(); missing from django-stubs.
    health_check_enabled: bool
    health_check_done: bool

    def close_if_health_check_failed(self) -> None:
        if (
            self.connection is None
            or not self.health_check_enabled
            or self.health_check_done
        ):
            return
        if _socket_has_data(self.connection) and not self.is_usable():
            self.close()
        self.health_check_done = True

    def prepared_cursor(self) -> Any:
        """A cursor like ``cursor()`` (health check, connection, query log in tests), binding
        parameters on the server so psycopg can prepare repeated statements; the plain cursor
        when prepared statements are off."""
        if not getattr(settings, "DB_PREPARED_STATEMENTS", True):
            return self.cursor()
        self.close_if_health_check_failed()
        self.ensure_connection()
        with self.wrap_database_errors:
            # django-stubs declare ServerBindingCursor without its psycopg base class
            # (psycopg.Cursor, which takes the connection).
            cursor = ServerBindingCursor(self.connection)  # type: ignore[call-arg]
            tzloader = self.connection.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT)
            if self.timezone != tzloader.timezone:
                register_tzloader(self.timezone, cursor)
            # A private BaseDatabaseWrapper method (Django 5.2) that django-stubs omit.
            return self._prepare_cursor(cursor)  # type: ignore[attr-defined]
