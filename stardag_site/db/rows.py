"""``values_list`` rows for long lists, fetched without Django's per-row machinery.

Iterating a ``values_list`` queryset runs each row through Django's result iterator (chunked
fetches, a converter pass, a tuple per row). For the 1,000-task build lists, whose columns
already come back from PostgreSQL as the response's text (``stardag_site.db.text``), that was
half the cost of fetching: 8.9 ms of CPU against 4.5 ms for the same rows from the cursor.
``fetch_rows`` compiles the same SQL and uses the cursor directly when no column needs a
converter; when one does (SQLite's UUIDs and timestamps, a JSON column that Django parses) it
iterates the queryset as usual, so the rows are always what ``list(queryset)`` gives.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import QuerySet


def fetch_rows(queryset: QuerySet[Any, tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """``list(queryset)`` for a ``values_list`` queryset (not ``flat``, not ``named``)."""
    compiler = queryset.query.get_compiler(queryset.db)
    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:  # a filter that can match nothing (``none()``, ``__in=[]``)
        return []
    fields = [selected[0] for selected in compiler.select[: compiler.col_count]]
    if compiler.get_converters(fields):
        return list(queryset)
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()
