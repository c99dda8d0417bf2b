"""One page of task search results in the TaskSearchResult shape (contract §4.12).

A page costs three queries whatever its number: an exact COUNT, the page's rows (the page's ids
are picked by a sub-select that PostgreSQL answers from an index, so a deep OFFSET skips index
entries rather than whole rows) and, when ``include_assets`` names any, the assets of those rows.
Searches with numeric clauses on PostgreSQL get the total and the page's ids from one statement
over the whole matching set instead (``_matched_page``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connection, transaction
from django.db.models import F, QuerySet

from stardag_site.api.fields import TIMESTAMP_FORMAT
from stardag_site.api.params import PageParams
from tasks.models import Task, TaskAsset
from tasks.search.numbers import NumberIndexMatch, range_sizes_sql, search_rows_available

AVAILABLE_COLUMNS = ["task_name", "task_namespace", "status", "build_name", "created_at"]
MAX_INCLUDED_ASSETS = 50
# A numeric clause with fewer side rows than this drives its search (``_matched_page``).
DRIVER_LIMIT = 4096
# Otherwise, when the other clauses leave fewer tasks than this, the numeric clauses are read
# from those tasks' JSON instead of their ranges (``_matched_page``).
CANDIDATE_LIMIT = 16384
# ... but only while less than this share of the side table's pages is marked all-visible.
ALL_VISIBLE_SHARE = 0.5
# The columns of ``task_search_row`` (migration ``tasks/0009_search_rows``), quoted.
SEARCH_ROW_COLUMNS = frozenset(f'"{name}"' for name in (
    "id", "environment_id", "task_namespace", "task_name", "created_at", "status",
    "param_numbers"))

_ROW_FIELDS = (
    "id", "task_id", "environment_id", "task_namespace", "task_name", "task_data", "version",
    "output_uri", "created_at", "last_build_id", "status", "started_at", "completed_at",
    "error_message", "asset_count",
)


def parse_include_assets(raw: str | None) -> list[str]:
    """Comma-separated asset names, trimmed, de-duplicated, in order (at most 50)."""
    names: list[str] = []
    for part in (raw or "").split(","):
        name = part.strip()
        if name and "\x00" not in name and name not in names:
            names.append(name)
    return names[:MAX_INCLUDED_ASSETS]


def _timestamp(value: datetime | None) -> str | None:
    return value.astimezone(UTC).strftime(TIMESTAMP_FORMAT) if value is not None else None


def _asset_data(task_pks: list[Any], names: list[str]) -> dict[Any, dict[str, Any]]:
    """``{task pk: {name: body}}``; when a name exists with several types, ``json`` wins,
    otherwise the oldest asset of that name.
    """
    if not names or not task_pks:
        return {}
    by_task: dict[Any, dict[str, Any]] = {}
    chosen_type: dict[tuple[Any, str], str] = {}
    assets = (
        TaskAsset.objects.filter(task_id__in=task_pks, name__in=names)
        .order_by("created_at", "id")
        .values_list("task_id", "name", "asset_type", "body")
    )
    for task_pk, name, asset_type, body in assets:
        previous = chosen_type.get((task_pk, name))
        if previous is None or (asset_type == "json" and previous != "json"):
            chosen_type[(task_pk, name)] = asset_type
            by_task.setdefault(task_pk, {})[name] = body
    return by_task


def _result(row: dict[str, Any], assets: dict[str, Any]) -> dict[str, Any]:
    return {
        "task_id": row["task_id"],
        "environment_id": str(row["environment_id"]),
        "task_namespace": row["task_namespace"],
        "task_name": row["task_name"],
        "task_data": row["task_data"],
        "version": row["version"],
        "output_uri": row["output_uri"],
        "created_at": _timestamp(row["created_at"]),
        "build_id": str(row["last_build_id"]) if row["last_build_id"] else None,
        "build_name": row["build_name"],
        "status": row["status"],
        "started_at": _timestamp(row["started_at"]),
        "completed_at": _timestamp(row["completed_at"]),
        "error_message": row["error_message"],
        "asset_count": row["asset_count"],
        "asset_data": assets,
    }


def search_page(*, queryset: QuerySet[Task], params: PageParams, include_assets: list[str],
                matched_set: list[NumberIndexMatch] | None = None, narrowed: bool = True
                ) -> tuple[list[dict[str, Any]], int]:
    """The requested page of an (already filtered, scoped and ordered) search, and the exact
    total. A page past the end is empty with the real total.

    ``matched_set`` (PostgreSQL; the numeric clauses that may drive the search, see
    ``filters.TaskSearchFilterSet.matched_set``): the total and the page's ids come from one
    statement over the whole matching set (``_matched_page``) instead of a COUNT plus an
    ordered sub-select. ``narrowed``: whether anything besides those clauses selects the
    tasks (``filters.TaskSearchFilterSet.narrowed``); when not, there are no candidates to
    count for the "json" plan.
    """
    order = queryset.query.order_by
    if matched_set is not None and connection.vendor == "postgresql":
        total, page_pks = _matched_page(queryset, params, matched_set, narrowed)
        if not page_pks:
            return [], total
        page_filter: Any = page_pks
    else:
        total = queryset.count()
        if params.offset >= total:
            return [], total
        page_filter = queryset.values("pk")[params.offset : params.offset + params.page_size]
    rows = list(
        Task.objects.filter(pk__in=page_filter)
        .order_by(*order)
        .values(*_ROW_FIELDS, build_name=F("last_build__name"))
    )
    assets = _asset_data([row["id"] for row in rows], include_assets)
    return [_result(row, assets.get(row["id"], {})) for row in rows], total


def _matched_page(queryset: QuerySet[Task], params: PageParams,
                  matches: list[NumberIndexMatch], narrowed: bool) -> tuple[int, list[Any]]:
    """``(total, ids of the page in order)`` of a search with numeric clauses, from one
    statement: the matching tasks' ids and sort keys are materialised once, then counted and
    top-N sorted. It is planned with nested loops (and JIT) off, so that whatever the planner's
    statistics say (right after a bulk load there are none) nothing is rescanned per task:

    * a numeric clause whose range is small (fewer than ``DRIVER_LIMIT`` side rows, counted
      first by reading at most that many) drives: its range is read once and each of its tasks
      fetched by primary key (a LATERAL sub-select, OFFSET 0 so it stays one), the other
      numeric clauses probed per task through the per-task index
      (``NumberIndexMatch.mode``), everything else hash-joined or filtered;
    * otherwise, while less than ``ALL_VISIBLE_SHARE`` of the side table is marked
      all-visible (after a bulk load, until the first VACUUM: ``pg_class.relallvisible``,
      which the planner reads for the same purpose; no pages known counts as none visible),
      and when every clause can be answered from the narrow ``task_search_row``
      (``_row_ids_sql``): the environment's search rows are read once and the ``param``
      clauses checked on each row's ``param_numbers`` (mode "row"). Until that VACUUM every
      range entry and every candidate task costs a heap visit, and the tasks' heap (~0.9 KB
      a row) and the side table do not stay in the buffer cache together: at 100,000 tasks
      ``param.lr:>:0.01,param.epochs:>=:20,status:completed`` (ranges of 33,000 and 60,000
      entries, 75,000 completed tasks) took 135-180 ms that way and takes 45 ms from the
      search rows (36 MB). Once the side table is all-visible its ranges are read from the
      index alone and a single large range costs less than a pass over every row (24 against
      46 ms for a range of 10,000 entries), so the plans below are kept then;
    * otherwise (a clause the search rows lack: ``build_name``, ``version``...), while the
      side table is not all-visible and other clauses (``narrowed``) leave fewer than
      ``CANDIDATE_LIMIT`` tasks (counted by reading at most that many), those tasks are read
      once and the numeric clauses checked on each task's own JSON (mode "json"; asset
      clauses and list paths by the per-task index).
      Every range holds at least ``DRIVER_LIMIT`` rows here, usually many more, and until
      then each range index entry costs a heap visit (about 2 us, 0.4 us once all-visible; a
      task's JSON test with its heap visit about 3 us): at 100,000 tasks a namespace of
      11,600 tasks with a range of 33,000 rows took 120-150 ms by the ranges and 30-45 ms
      this way before VACUUM, but 25 ms by the ranges and 45 ms this way after it;
    * otherwise every numeric range is read once from the range index and hash-joined to the
      tasks the other clauses select.

    Either way the cost is linear in what the clauses select. The settings are
    transaction-local and, inside an outer transaction, put back before the rows of the page
    are read.
    """
    columns = ["id"]
    ordering: list[tuple[str, bool]] = []
    for item in queryset.query.order_by:
        name = str(item).lstrip("-")
        name = "id" if name == "pk" else name
        if name not in columns:
            columns.append(name)
        ordering.append((name, str(item).startswith("-")))
    names = ", ".join(f"c{i}" for i in range(len(columns)))
    order_sql = ", ".join(f"c{columns.index(name)} {'DESC' if descending else 'ASC'}"
                          for name, descending in ordering)
    unordered = queryset.order_by()
    try:  # a clause that can never match (``conditions.NOTHING``) empties the whole search
        unordered.values("pk").query.sql_with_params()
    except EmptyResultSet:
        return 0, []
    sizes_sql, sizes_params = range_sizes_sql(matches, DRIVER_LIMIT)
    nested = connection.in_atomic_block
    with transaction.atomic(using=queryset.db, savepoint=False), connection.cursor() as cursor:
        # One round trip: the settings (transaction-local), how much of the side table is
        # marked all-visible and the size of each range.
        cursor.execute(
            "SELECT current_setting('enable_nestloop'), current_setting('jit'), "
            "set_config('enable_nestloop', 'off', true), set_config('jit', 'off', true), "
            "pages.relpages, pages.relallvisible"
            + "".join(f", {part}" for part in sizes_sql)
            + " FROM pg_class pages WHERE pages.oid = 'task_search_number'::regclass",
            sizes_params)
        row = cursor.fetchone()
        nestloop, jit, pages, visible_pages = row[0], row[1], int(row[4]), int(row[5])
        visible = pages > 0 and visible_pages >= pages * ALL_VISIBLE_SHARE
        sizes = [int(size) for size in row[6:]]
        driver = None
        modes: dict[int, str] = {}
        row_sql = None
        if sizes and min(sizes) < DRIVER_LIMIT:
            driver = matches[sizes.index(min(sizes))]
            modes = {id(match): "probe" for match in matches} | {id(driver): "driver"}
        elif not visible and (row_sql := _row_ids_sql(unordered.values_list(*columns),
                                                       matches)) is not None:
            pass  # the environment's search rows, read once
        elif (matches and narrowed and not visible
              and _candidates(cursor, unordered, matches) < CANDIDATE_LIMIT):
            modes = {id(match): "json" if match.json_readable else "probe" for match in matches}
        if row_sql is not None:
            sql, sql_params = row_sql
        else:
            with _modes(matches, modes):
                sql, sql_params = _ids_sql(unordered.values_list(*columns), driver)
        cursor.execute(
            f"WITH m ({names}) AS MATERIALIZED ({sql}) "
            f"SELECT (SELECT count(*) FROM m), "
            f"ARRAY(SELECT c0 FROM m ORDER BY {order_sql} LIMIT %s OFFSET %s)",
            [*sql_params, params.page_size, params.offset])
        total, page_pks = cursor.fetchone()
        if nested:  # otherwise the transaction ends here, and the settings with it
            cursor.execute("SELECT set_config('enable_nestloop', %s, true), "
                           "set_config('jit', %s, true)", [nestloop, jit])
    return int(total), list(page_pks or [])


@contextmanager
def _modes(matches: list[NumberIndexMatch], modes: dict[int, str]) -> Iterator[None]:
    """Compile ``matches`` in ``modes`` (by ``id()``; the others as they are) for the
    duration of the block."""
    saved = [match.mode for match in matches]
    try:
        for match in matches:
            match.mode = modes.get(id(match), match.mode)
        yield
    finally:
        for match, mode in zip(matches, saved, strict=True):
            match.mode = mode


def _candidates(cursor: Any, queryset: QuerySet[Task], matches: list[NumberIndexMatch]) -> int:
    """How many tasks the clauses other than ``matches`` select, counted up to
    ``CANDIDATE_LIMIT`` (so at most that many are read)."""
    with _modes(matches, {id(match): "driver" for match in matches}):
        sql, sql_params = queryset.values("pk").query.sql_with_params()
    cursor.execute(f"SELECT count(*) FROM ({sql} LIMIT %s) candidates",
                   [*sql_params, CANDIDATE_LIMIT])
    return int(cursor.fetchone()[0])


def _row_ids_sql(queryset: QuerySet[Any],
                 matches: list[NumberIndexMatch]) -> tuple[str, list[Any]] | None:
    """The SQL of ``queryset`` run on ``task_search_row`` instead of ``tasks_task`` (the
    ``param`` clauses in mode "row"), or ``None`` when that table is absent or the query needs
    a column it does not copy (a join for ``build_name``, ``task_id``, ``version``...).

    The search row keeps the task's column names and the query names it ``"tasks_task"``, so
    every other condition compiles as it is; sub-selects (asset clauses) refer to the task by
    ``"tasks_task"."id"``, the row's primary key. Rows and tasks are inserted, changed and
    deleted together (triggers, same transaction), so the same tasks match.
    """
    if not search_rows_available():
        return None
    with _modes(matches, {id(match): "row" for match in matches if match.scope == "param"}):
        sql, sql_params = queryset.query.sql_with_params()
    table = connection.ops.quote_name(Task._meta.db_table)
    source = f" FROM {table}"
    at = sql.find(source)
    end = at + len(source)
    if at < 0 or sql[end : end + 1] not in ("", " ") or sql.find(source, end) >= 0:
        return None
    columns = set(re.findall(rf'{re.escape(table)}\.("[a-z_]+")', sql))
    if (columns - SEARCH_ROW_COLUMNS
            or sql.count(table) != sql.count(f"{table}.") + 1):  # the FROM and column refs only
        return None
    return (sql[:at] + f" FROM {connection.ops.quote_name('task_search_row')} {table}"
            + sql[end:], list(sql_params))


def _ids_sql(queryset: QuerySet[Any],
             driver: NumberIndexMatch | None) -> tuple[str, list[Any]]:
    """The SQL of ``queryset`` (ids and sort keys of the matching tasks, its numeric clauses
    already in their modes), taking its tasks from ``driver``'s range when there is one."""
    sql, sql_params = queryset.query.sql_with_params()
    if driver is None:
        return sql, list(sql_params)
    table = f" FROM {connection.ops.quote_name(Task._meta.db_table)}"
    at = sql.find(table)
    end = at + len(table)
    if at < 0 or "%s" in sql[:at] or sql[end : end + 1] not in ("", " "):
        raise AssertionError(f"unexpected search SQL: {sql[:200]}")
    range_sql, range_params = driver.range_sql()
    source = (f" FROM ({range_sql}) search_driver CROSS JOIN LATERAL "
              f"(SELECT * FROM {table[6:]} driver_task "
              f"WHERE driver_task.id = search_driver.task_id OFFSET 0) {table[6:]}")
    return sql[:at] + source + sql[end:], [*range_params, *sql_params]
