"""Search suggestions: filter keys, their values and result columns (contract §4.12, §7.4).

Everything is computed from bounded samples or bounded aggregates so the cost of a call does not
grow with the size of the environment:

* key discovery walks the 100 most recent tasks' ``task_data`` and the 200 most recent assets;
* ``param.*`` / ``asset.*`` values come from the 500 most recent tasks / assets of that name;
* ``task_name`` / ``task_namespace`` values are one GROUP BY over an indexed column;
* ``build_id`` / ``build_name`` values count distinct tasks per build over the events of the
  environment's ``BUILD_SAMPLE`` most recent (prefix-matching) builds.

Results are cached per environment for ``TASK_SEARCH_CACHE_SECONDS`` (default 300, the five
minutes the contract allows; 0 disables caching).
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, F

from builds.models import Build, Event
from tasks.models import Task, TaskAsset
from tasks.search.expressions import JsonText, JsonType, UuidText
from tasks.search.grammar import parse_path
from workspaces.models import Environment

TASK_SAMPLE = 100
ASSET_SAMPLE = 200
VALUE_SAMPLE = 500
BUILD_SAMPLE = 200
MAX_DEPTH = 3
MAX_COLUMNS = 50

CORE_KEYS: tuple[tuple[str, str], ...] = (
    ("task_name", "string"), ("task_namespace", "string"), ("task_id", "string"),
    ("status", "string"), ("build_id", "string"), ("build_name", "string"),
    ("created_at", "datetime"),
)
CORE_COLUMNS: tuple[str, ...] = (
    "task_id", "task_name", "task_namespace", "status", "build_id", "build_name", "created_at",
    "started_at", "completed_at",
)
STATUS_VALUES: tuple[str, ...] = ("pending", "running", "completed", "failed", "cancelled")

_SEGMENT = re.compile(r"[A-Za-z0-9_]+")
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
_SCALAR_TYPES = ("string", "number", "boolean")
T = TypeVar("T")


@dataclass(frozen=True)
class KeyStat:
    key: str
    type: str
    count: int

    def body(self) -> dict[str, Any]:
        return {"key": self.key, "type": self.type, "count": self.count}


def _cached(parts: Iterable[object], compute: Callable[[], T]) -> T:
    seconds = settings.TASK_SEARCH_CACHE_SECONDS
    if seconds <= 0:
        return compute()
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()
    cache_key = f"task-search:{digest}"
    value = cache.get(cache_key)
    if value is None:
        value = compute()
        cache.set(cache_key, value, seconds)
    return value


def _json_type(value: Any) -> str | None:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "datetime" if _DATETIME.match(value) else "string"
    if isinstance(value, dict | list):
        return "object"
    return None


@lru_cache(maxsize=4096)
def _usable(name: str) -> bool:
    return _SEGMENT.fullmatch(name) is not None


def _walk(document: Any, prefix: str, depth: int, seen: dict[str, str | None]) -> None:
    """Record every key of ``document`` (depth ≤ 3) as ``prefix.key`` with its value's type.

    Keys that could not be written in a filter (anything but ``[A-Za-z0-9_]+``) are skipped:
    a suggestion must round-trip into ``filter``.
    """
    if not isinstance(document, dict):
        return
    for name, value in document.items():
        if not isinstance(name, str) or not _usable(name):
            continue
        key = f"{prefix}.{name}"
        if key not in seen:
            seen[key] = _json_type(value)
        if depth >= MAX_DEPTH:
            continue
        if isinstance(value, dict):
            _walk(value, key, depth + 1, seen)
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            _walk(value[0], f"{key}[0]", depth + 1, seen)


def _tally(documents: Iterable[tuple[str, Any]]) -> list[KeyStat]:
    """Keys found in ``(prefix, document)`` rows: rows containing each key, most frequent first."""
    counts: dict[str, int] = {}
    types: dict[str, dict[str, int]] = {}
    for prefix, document in documents:
        seen: dict[str, str | None] = {}
        _walk(document, prefix, 1, seen)
        for key, json_type in seen.items():
            counts[key] = counts.get(key, 0) + 1
            if json_type is not None:
                seen_types = types.setdefault(key, {})
                seen_types[json_type] = seen_types.get(json_type, 0) + 1
    stats = []
    for key, count in counts.items():
        tally = types.get(key)
        json_type = max(sorted(tally), key=tally.__getitem__) if tally else "string"
        stats.append(KeyStat(key, json_type, count))
    stats.sort(key=lambda stat: (-stat.count, stat.key))
    return stats


def valid_asset_name(name: str) -> bool:
    """Asset names usable in ``asset.<name>.<path>``: no separators of the filter grammar."""
    return bool(name) and name == name.strip() and not any(c in name for c in ".,:\x00")


def discovered_keys(environment: Environment) -> tuple[list[KeyStat], list[KeyStat]]:
    """``param.*`` and ``asset.*`` keys of the environment's recent tasks and assets (§7.4)."""

    def compute() -> tuple[list[KeyStat], list[KeyStat]]:
        task_data = (
            Task.objects.filter(environment=environment)
            .order_by("-created_at", "-id")
            .values_list("task_data", flat=True)[:TASK_SAMPLE]
        )
        assets = (
            TaskAsset.objects.filter(environment=environment)
            .order_by("-created_at", "-id")
            .values_list("name", "body")[:ASSET_SAMPLE]
        )
        params = _tally(("param", data) for data in task_data)
        asset_keys = _tally(
            (f"asset.{name}", body) for name, body in assets if valid_asset_name(name)
        )
        return params, asset_keys

    return _cached(("keys", environment.pk), compute)


def suggest_keys(*, environment: Environment, prefix: str, limit: int) -> list[dict[str, Any]]:
    """``GET /tasks/search/keys``: core keys, then discovered param and asset keys (§4.12)."""
    found = [KeyStat(key, json_type, 0) for key, json_type in CORE_KEYS if key.startswith(prefix)]
    params, assets = discovered_keys(environment)
    if not prefix or prefix.startswith("param"):
        found += [stat for stat in params if stat.key.startswith(prefix)]
    if not prefix or prefix.startswith("asset"):
        found += [stat for stat in assets if stat.key.startswith(prefix)]
    return [stat.body() for stat in found[:limit]]


def suggest_columns(*, environment: Environment) -> dict[str, list[str]]:
    params, assets = discovered_keys(environment)
    return {
        "core": list(CORE_COLUMNS),
        "params": [stat.key for stat in params[:MAX_COLUMNS]],
        "assets": [stat.key for stat in assets[:MAX_COLUMNS]],
    }


def _ranked(counts: Iterable[tuple[Any, int]], limit: int) -> list[dict[str, Any]]:
    ordered = sorted(((str(v), c) for v, c in counts), key=lambda item: (-item[1], item[0]))
    return [{"value": value, "count": count} for value, count in ordered[:limit]]


def _column_values(environment: Environment, column: str, prefix: str,
                   limit: int) -> list[dict[str, Any]]:
    tasks = Task.objects.filter(environment=environment).exclude(**{column: ""})
    if prefix:
        tasks = tasks.filter(**{f"{column}__istartswith": prefix})
    rows = (
        tasks
        .values(column)
        .annotate(n=Count("id"))
        .order_by("-n", column)
        .values_list(column, "n")[:limit]
    )
    return _ranked(rows, limit)


def _build_values(environment: Environment, key: str, prefix: str,
                  limit: int) -> list[dict[str, Any]]:
    """Distinct tasks with events in each of the ``BUILD_SAMPLE`` most recent matching builds.

    Counted per build straight from the ``(build, task)`` event index; builds sharing a name
    (names are not unique) are counted again together, so a task in two of them counts once.
    """
    builds = Build.objects.filter(environment=environment)
    if prefix and key == "build_name":
        builds = builds.filter(name__istartswith=prefix)
    elif prefix:
        builds = builds.alias(id_text=UuidText(F("id"))).filter(id_text__istartswith=prefix)
    names = dict(builds.order_by("-created_at", "-id").values_list("pk", "name")[:BUILD_SAMPLE])
    per_build = dict(
        Event.objects.filter(build_id__in=list(names), task__isnull=False)
        .values("build_id")
        .annotate(n=Count("task_id", distinct=True))
        .values_list("build_id", "n")
    )
    if key == "build_id":
        return _ranked(per_build.items(), limit)
    by_name: dict[str, list[Any]] = {}
    for build_pk in per_build:
        by_name.setdefault(names[build_pk], []).append(build_pk)
    counts = {name: per_build[pks[0]] for name, pks in by_name.items() if len(pks) == 1}
    shared = [pk for pks in by_name.values() if len(pks) > 1 for pk in pks]
    if shared:
        counts.update(
            Event.objects.filter(build_id__in=shared, task__isnull=False)
            .values("build__name")
            .annotate(n=Count("task_id", distinct=True))
            .values_list("build__name", "n")
        )
    return _ranked(counts.items(), limit)


def _json_values(rows: Iterable[tuple[str | None, str | None]], prefix: str,
                 limit: int) -> list[dict[str, Any]]:
    counts: Counter[str] = Counter(
        text for text, json_type in rows
        if text is not None and json_type in _SCALAR_TYPES and text.startswith(prefix)
    )
    return _ranked(counts.items(), limit)


def suggest_values(*, environment: Environment, key: str, prefix: str,
                   limit: int) -> list[dict[str, Any]]:
    """``GET /tasks/search/values`` (§4.12); an unknown or unusable key has no values."""
    if key == "status":
        return [{"value": v, "count": 0} for v in STATUS_VALUES if v.startswith(prefix)][:limit]

    def compute() -> list[dict[str, Any]]:
        if key in ("task_name", "task_namespace"):
            return _column_values(environment, key, prefix, limit)
        if key in ("build_id", "build_name"):
            return _build_values(environment, key, prefix, limit)
        family, _, rest = key.partition(".")
        if family == "param":
            path = parse_path(rest)
            if path is None:
                return []
            rows = (
                Task.objects.filter(environment=environment)
                .order_by("-created_at", "-id")
                .annotate(v=JsonText(F("task_data"), path), t=JsonType(F("task_data"), path))
                .values_list("v", "t")[:VALUE_SAMPLE]
            )
            return _json_values(rows, prefix, limit)
        if family == "asset":
            name, _, path_text = rest.partition(".")
            path = parse_path(path_text)
            if path is None or not valid_asset_name(name):
                return []
            asset_rows = (
                TaskAsset.objects.filter(environment=environment, name=name)
                .order_by("-created_at", "-id")
                .annotate(v=JsonText(F("body"), path), t=JsonType(F("body"), path))
                .values_list("v", "t")[:VALUE_SAMPLE]
            )
            return _json_values(asset_rows, prefix, limit)
        return []

    return _cached(("values", environment.pk, key, prefix, limit), compute)
