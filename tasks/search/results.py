"""One page of task search results in the TaskSearchResult shape (contract §4.12).

A page costs three queries whatever its number: an exact COUNT, the page's rows (the page's ids
are picked by a sub-select that PostgreSQL answers from an index, so a deep OFFSET skips index
entries rather than whole rows) and, when ``include_assets`` names any, the assets of those rows.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.db.models import F, QuerySet

from stardag_site.api.fields import TIMESTAMP_FORMAT
from stardag_site.api.params import PageParams
from tasks.models import Task, TaskAsset

AVAILABLE_COLUMNS = ["task_name", "task_namespace", "status", "build_name", "created_at"]
MAX_INCLUDED_ASSETS = 50

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
                total: int | None = None) -> tuple[list[dict[str, Any]], int]:
    """The requested page of an (already filtered, scoped and ordered) search, and the exact
    total (counted here unless the caller already knows it). A page past the end is empty with
    the real total.
    """
    if total is None:
        total = queryset.count()
    if params.offset >= total:
        return [], total
    order = queryset.query.order_by
    page_pks = queryset.values("pk")[params.offset : params.offset + params.page_size]
    rows = list(
        Task.objects.filter(pk__in=page_pks)
        .order_by(*order)
        .values(*_ROW_FIELDS, build_name=F("last_build__name"))
    )
    assets = _asset_data([row["id"] for row in rows], include_assets)
    return [_result(row, assets.get(row["id"], {})) for row in rows], total
