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


def _table_available(table: str) -> bool:
    """Whether this database has ``table``; asked once per database, table and process."""
    if connection.vendor != "postgresql":
        return False
    key = f"{connection.settings_dict['NAME']}/{table}"
    if key not in _available:
        with connection.cursor() as cursor:
            cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [table])
            _available[key] = bool(cursor.fetchone()[0])
    return _available[key]


def number_index_available() -> bool:
    """Whether this database has the side table."""
    return _table_available("task_search_number")


def search_rows_available() -> bool:
    """Whether this database has the narrow per-task search rows (``tasks/0009_search_rows``)."""
    return _table_available("task_search_row")


def forget_number_index_state() -> None:
    """For code that creates or drops the tables at run time (the test-suite)."""
    _available.clear()


def indexable(path: JsonPath) -> bool:
    steps = sum(1 if step.index is None else 2 for step in path)
    return steps <= MAX_STEPS and all(s.index is None or s.index <= MAX_INDEX for s in path)


def path_text(path: JsonPath) -> str:
    """The path as the triggers write it: ``a.b[0].c``."""
    return ".".join(f"{s.key}[{s.index}]" if s.index is not None else s.key for s in path)


class NumberIndexMatch(Func):
    """``EXISTS (a side row of this task, environment, scope and path whose value is in bounds)``.

    The SQL is fixed; the environment, scope, path and bounds are bound parameters and the
    comparison operators come from a fixed table.

    Naming the environment lets the range be read from ``task_search_number_lookup``
    (environment, scope, path, value, task_id) as one index-only range scan. A search holding
    such a clause runs as a set computation with nested loops off (``results.search_page``,
    ``matched_set``): every numeric range is scanned once and hash-joined to the tasks the other
    clauses leave, so the cost is linear in the ranges and the candidate tasks whatever the
    planner's statistics say. Left to the planner alone, stale statistics (right after a bulk
    load, with autovacuum off) once estimated one row on each side and rescanned the whole range
    for every task, a nested loop of 4,059 x 8,193 rows that took 44-59 s (issue 10); and a
    probe that named no environment could only be hashed after a sequential scan of the whole
    side table (0.2-0.5 s at 100,000 tasks).
    """

    output_field = BooleanField()

    def __init__(self, *, environment_id: Any, scope: str, path: JsonPath,
                 bounds: list[tuple[str, Decimal]]) -> None:
        # The task's ``task_data`` is a source too, for the "json" mode below.
        super().__init__(F("pk"), F("task_data"))
        self.environment_id = environment_id
        self.scope = scope
        self.path = path
        self.bounds = tuple(bounds)
        # How this clause compiles (``results._matched_page`` switches it): "range" (the
        # environment named, for hash joins), "probe" (per task through the per-task index),
        # "json" (per task, the number read from the task's own ``task_data``; only when
        # ``json_readable``), "row" (per task, from the ``param_numbers`` of the task's
        # ``task_search_row``, which the query reads instead of ``tasks_task``; scope ``param``
        # only) or "driver" (TRUE: the tasks were taken from this clause's range to begin
        # with, or are only being counted). Held in a dict so the copies Django makes while
        # building the query share it.
        self._state = {"mode": "range"}

    @property
    def mode(self) -> str:
        return self._state["mode"]

    @mode.setter
    def mode(self, value: str) -> None:
        self._state["mode"] = value

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        raise NotSupportedError("NumberIndexMatch needs PostgreSQL")

    @property
    def json_readable(self) -> bool:
        """Whether reading the number from the task's ``task_data`` (mode "json") gives exactly
        the side table's answer: a ``param`` path of object keys only. ``#>`` would also take a
        list index step, or an all-digit key, as a position in a list (or a list position as an
        object key), which the triggers' walk does not."""
        return self.scope == "param" and all(
            step.index is None and not step.key.isdigit() for step in self.path)

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list]:
        if self.mode == "driver":
            return "TRUE", []
        if self.mode == "json":
            return self._json_sql(compiler)
        pk_sql, pk_params = compiler.compile(self.source_expressions[0])
        if self.mode == "row":
            return self._row_sql(pk_sql)
        conditions, bound_params = self.bounds_sql("n.value")
        if self.mode == "probe":
            # Per task, and only per task: OFFSET 0 keeps PostgreSQL from turning the EXISTS
            # into a join, and without the environment the per-task index is its only index.
            sql = (
                f"EXISTS (SELECT 1 FROM task_search_number n WHERE n.task_id = {pk_sql} "
                f"AND n.scope = %s AND n.path = %s{conditions} OFFSET 0)"
            )
            params = [*pk_params, self.scope, path_text(self.path)]
        else:
            sql = (
                f"EXISTS (SELECT 1 FROM task_search_number n WHERE n.task_id = {pk_sql} "
                f"AND n.environment_id = %s AND n.scope = %s AND n.path = %s{conditions})"
            )
            params = [*pk_params, self.environment_id, self.scope, path_text(self.path)]
        return sql, params + bound_params

    def _json_sql(self, compiler: Any) -> tuple[str, list[Any]]:
        """The value at the path is a JSON number within the bounds. jsonb orders numbers by
        their numeric value, the comparison the side table makes (its values are the same
        numbers cast to ``numeric``); the type test keeps strings, booleans, objects and lists
        (which jsonb orders around the numbers) out. About 1 us per task, against a per-task
        index probe's 4-8 us (more before the first VACUUM, which leaves every index entry a
        heap visit)."""
        data_sql, data_params = compiler.compile(self.source_expressions[1])
        value = f"({data_sql} #> %s)"
        path = [step.key for step in self.path]
        sql = f"(jsonb_typeof{value} = 'number'"
        params: list[Any] = [*data_params, path]
        for op, number in self.bounds:
            sql += f" AND {value} {_SQL_OPERATORS[op]} to_jsonb((%s)::numeric)"
            params += [*data_params, path, str(number)]
        return sql + ")", params

    def _row_sql(self, pk_sql: str) -> tuple[str, list[Any]]:
        """The number at the path in the search row's ``param_numbers`` is within the bounds.

        ``param_numbers`` maps every path the side table has in scope ``param`` to the same
        number (both come from ``task_search_numbers``), and jsonb compares two numbers as
        ``numeric``, as the side table does: the same answer as "range" for every path, lists
        and all-digit keys included. A path the task lacks gives NULL, which matches nothing.
        """
        if self.scope != "param" or not pk_sql.endswith('."id"'):
            raise NotSupportedError("mode 'row' is for param clauses on the task's own row")
        table = pk_sql[: -len('"id"')]  # '"tasks_task".', as the query names the row
        value = f'({table}"param_numbers" -> %s)'
        # The bound as a jsonb constant (``str`` of a finite Decimal is a JSON number), which
        # the planner folds once; ``to_jsonb`` is only STABLE and would run for every row.
        sql = " AND ".join(f"{value} {_SQL_OPERATORS[op]} (%s)::jsonb" for op, _ in self.bounds)
        params: list[Any] = []
        for _, number in self.bounds:
            params += [path_text(self.path), str(number)]
        return f"({sql})", params

    def bounds_sql(self, column: str = "value") -> tuple[str, list[str]]:
        """`` AND <column> <op> (%s)::numeric`` per bound, and the bounds as parameters."""
        sql = "".join(f" AND {column} {_SQL_OPERATORS[op]} (%s)::numeric" for op, _ in self.bounds)
        return sql, [str(number) for _, number in self.bounds]

    def range_where(self) -> tuple[str, list[Any]]:
        """The WHERE clause of this match's range of the ``task_search_number_lookup`` index
        (environment, scope, path, value), and its parameters."""
        bounds, bound_params = self.bounds_sql()
        return ("environment_id = %s AND scope = %s AND path = %s" + bounds,
                [self.environment_id, self.scope, path_text(self.path), *bound_params])

    def range_sql(self) -> tuple[str, list[Any]]:
        """The ids of the tasks with a side row in bounds (each once): a range of the
        ``task_search_number_lookup`` index. A task has one row per path in scope ``param``;
        an asset scope may hold several (assets of different types sharing a name).
        """
        where, params = self.range_where()
        distinct = "" if self.scope == "param" else "DISTINCT "
        return f"SELECT {distinct}task_id FROM task_search_number WHERE {where}", params


def range_sizes_sql(matches: list[NumberIndexMatch], cap: int) -> tuple[list[str], list[Any]]:
    """Select-list items counting the side rows in each match's range up to ``cap`` (so at
    most ``cap`` index entries are read per match), and their parameters.
    """
    parts: list[str] = []
    params: list[Any] = []
    for match in matches:
        where, where_params = match.range_where()
        parts.append("(SELECT count(*) FROM (SELECT 1 FROM task_search_number "
                     f"WHERE {where} LIMIT %s) r)")
        params += [*where_params, cap]
    return parts, params
