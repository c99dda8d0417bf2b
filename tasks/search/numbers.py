"""Numeric comparisons answered from the ``task_search_number`` side table (PostgreSQL).

Migration ``tasks/0003_search_indexes`` creates the table and the triggers that keep it equal to
the numeric leaves of every task's ``task_data`` (scope ``param``) and every asset body (scope
``asset.<name>``). For a path within the table's limits, "the value at ``path`` is a number
satisfying the bounds" is then exactly "a side row with that scope, path and value exists",
which a btree range scan answers without reading any JSON. Everything here falls back (the
caller uses the JSON expressions instead) when the table is absent: SQLite, or a PostgreSQL
database built without migrations.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import NotSupportedError, connection
from django.db.models import BooleanField, F, Func

from tasks.search.grammar import JsonPath

# Limits of the triggers' walk (see the migration): at most 12 steps, list indexes below 100.
MAX_STEPS = 12
MAX_INDEX = 99
_SQL_OPERATORS = {">": ">", ">=": ">=", "<": "<", "<=": "<="}
_available: dict[str, bool] = {}


def number_index_available() -> bool:
    """Whether this database has the side table; asked once per database and process."""
    if connection.vendor != "postgresql":
        return False
    name = connection.settings_dict["NAME"]
    if name not in _available:
        with connection.cursor() as cursor:
            cursor.execute("SELECT to_regclass('task_search_number') IS NOT NULL")
            _available[name] = bool(cursor.fetchone()[0])
    return _available[name]


def forget_number_index_state() -> None:
    """For code that creates or drops the table at run time (the test-suite)."""
    _available.clear()


def indexable(path: JsonPath) -> bool:
    steps = sum(1 if step.index is None else 2 for step in path)
    return steps <= MAX_STEPS and all(s.index is None or s.index <= MAX_INDEX for s in path)


def path_text(path: JsonPath) -> str:
    """The path as the triggers write it: ``a.b[0].c``."""
    return ".".join(f"{s.key}[{s.index}]" if s.index is not None else s.key for s in path)


class NumberIndexMatch(Func):
    """``EXISTS (a side row of this task, scope and path whose value is in bounds)``.

    The SQL is fixed; the scope, path and bounds are bound parameters and the comparison
    operators come from a fixed table.

    The probe is per task on purpose, and names no environment (the task implies it): its only
    index path is ``task_search_number_per_task`` (task_id, scope, path, value), one bounded
    descent per candidate task, so whatever the planner believes about row counts the cost is
    linear in the tasks the other clauses leave. The earlier form, ``id IN (rows of the
    environment in range)``, let a planner with stale statistics (right after a bulk load, with
    autovacuum off) estimate one row on each side and rescan the whole range for every task, a
    nested loop of 4,059 x 8,193 rows that took 44-59 s (issue 10). A search that is nothing but
    one numeric range is counted in the side table alone (``number_index_count``).
    """

    output_field = BooleanField()

    def __init__(self, *, environment_id: Any, scope: str, path: JsonPath,
                 bounds: list[tuple[str, Decimal]]) -> None:
        super().__init__(F("pk"))
        self.environment_id = environment_id
        self.scope = scope
        self.path = path
        self.bounds = tuple(bounds)

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        raise NotSupportedError("NumberIndexMatch needs PostgreSQL")

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list]:
        pk_sql, pk_params = compiler.compile(self.source_expressions[0])
        conditions = "".join(f" AND n.value {_SQL_OPERATORS[op]} (%s)::numeric"
                             for op, _ in self.bounds)
        sql = (
            f"EXISTS (SELECT 1 FROM task_search_number n WHERE n.task_id = {pk_sql} "
            f"AND n.scope = %s AND n.path = %s{conditions})"
        )
        params = [*pk_params, self.scope, path_text(self.path)]
        return sql, params + [str(number) for _, number in self.bounds]


def number_index_count(match: NumberIndexMatch) -> int:
    """How many tasks ``match`` selects, counted in the side table alone.

    Every row already belongs to the environment; in scope ``param`` a task has at most one row
    per path, so rows are tasks; an asset scope may hold several rows of one task (two assets of
    different types with one name), so those are counted distinct. Used when the whole search
    is one numeric range, where it saves probing every task of the environment.
    """
    counted = "count(*)" if match.scope == "param" else "count(DISTINCT task_id)"
    conditions = "".join(f" AND value {_SQL_OPERATORS[op]} (%s)::numeric" for op, _ in match.bounds)
    sql = (f"SELECT {counted} FROM task_search_number "
           f"WHERE environment_id = %s AND scope = %s AND path = %s{conditions}")
    params = [match.environment_id, match.scope, path_text(match.path),
              *(str(number) for _, number in match.bounds)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.fetchone()[0])
