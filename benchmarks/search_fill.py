"""Fill one environment with a realistic registry history, fast (PostgreSQL ``COPY``).

Used by ``benchmarks/search_bench.py``. The shape follows what SDK builds produce:

* tasks spread over 40 (namespace, name) pairs, 10 task names in 9 namespaces (a few pairs
  are much more common than others), created over 180 days in order; ``task_data`` is the SDK's
  serialised task: ``__name``, ``__namespace``, ``version``, parameters of every JSON type, a
  nested ``model`` object, a list of objects and usually a serialised upstream dependency task
  (~0.5-1 KB per task);
* builds of ~50 tasks each; every task is registered in one build (``task_pending``) and about a
  fifth are referenced again by a later build (``task_referenced``); lifecycle events follow
  (started, completed / failed / cancelled), so there are ~3.3 events per task;
* global status columns (§5.3) are written consistently with those events: ~75 % completed,
  ~8 % failed, ~2 % cancelled, ~5 % running, ~10 % pending; ``last_build`` is the build of the
  task's most recent event;
* ~20 % of tasks have a ``metrics`` JSON asset, ~10 % a ``report`` markdown asset.

Deterministic for a given size (seeded), so runs are comparable.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import Model

from builds.models import Build, Event
from stardag_site.ids import uuid7
from tasks.models import Task, TaskAsset

NAMESPACES = ["etl", "ingest", "ml.training", "ml.eval", "reports", "features", "exports",
              "monitoring", ""]
VERBS = ["Load", "Clean", "Train", "Evaluate", "Predict", "Aggregate", "Export", "Score", "Join",
         "Split"]
NOUNS = ["Dataset", "Model", "Features", "Report", "Metrics"]
MODEL_KINDS = ["resnet", "xgboost", "linear", "transformer", "random_forest"]
DATASETS = [f"dataset_{i:02d}" for i in range(30)]
BUILD_SIZE = 50
START = datetime(2025, 6, 1, tzinfo=UTC)


def task_names(rng: random.Random) -> list[tuple[str, str]]:
    """40 (namespace, name) pairs (10 names); the first ones get most of the tasks (Zipf-like)."""
    pairs = [(NAMESPACES[i % len(NAMESPACES)], f"{VERBS[i % len(VERBS)]}{NOUNS[i % len(NOUNS)]}")
             for i in range(40)]
    rng.shuffle(pairs)
    return pairs


def task_data(rng: random.Random, namespace: str, name: str, day: datetime) -> dict[str, Any]:
    data: dict[str, Any] = {
        "__name": name,
        "__namespace": namespace,
        "version": str(rng.choice([1, 1, 1, 2, 3])),
        "date": day.date().isoformat(),
        "dataset": rng.choice(DATASETS),
        "seed": rng.randrange(10_000),
        "lr": round(10 ** rng.uniform(-4, -1), 6),
        "epochs": rng.choice([5, 10, 20, 50, 100]),
        "threshold": round(rng.random(), 3),
        "dry_run": rng.random() < 0.1,
        "model": {"kind": rng.choice(MODEL_KINDS), "layers": rng.randrange(1, 48),
                  "dropout": round(rng.random() / 2, 2)},
        "splits": [{"name": "train", "fraction": 0.8}, {"name": "test", "fraction": 0.2}],
        "comment": None if rng.random() < 0.7 else f"run {rng.randrange(1000)} for review",
    }
    if rng.random() < 0.8:
        data["upstream"] = {
            "__name": "LoadDataset", "__namespace": "ingest", "version": "1",
            "date": day.date().isoformat(), "dataset": data["dataset"],
            "source": {"uri": f"s3://bucket/raw/{data['dataset']}/{day.date()}.parquet",
                       "format": "parquet"},
        }
    return data


def _fate(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.75:
        return "completed"
    if roll < 0.83:
        return "failed"
    if roll < 0.85:
        return "cancelled"
    if roll < 0.90:
        return "running"
    return "pending"


def _copy(model: type[Model], rows: Sequence[dict[str, Any]]) -> None:
    """``COPY`` rows (dicts keyed by column attname) into the model's table; fields a row does
    not mention get the model default.
    """
    fields = [f for f in model._meta.concrete_fields]
    columns = [f.column for f in fields]
    defaults = {f.attname: f.get_default() for f in fields}
    table = model._meta.db_table
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with connection.cursor() as cursor:
        raw = cursor.cursor  # the psycopg cursor underneath Django's wrapper
        with raw.copy(sql) as copy:
            for row in rows:
                values = []
                for field in fields:
                    value = row.get(field.attname, defaults[field.attname])
                    if isinstance(value, dict | list):
                        value = json.dumps(value)
                    values.append(value)
                copy.write_row(values)


def fill(environment: Any, size: int, *, seed: int = 5) -> dict[str, int]:
    """Insert ``size`` tasks with their builds, events and assets into ``environment``."""
    rng = random.Random(seed)
    names = task_names(rng)
    weights = [1 / (rank + 1) for rank in range(len(names))]
    span = timedelta(days=180)
    tasks: list[dict[str, Any]] = []
    builds: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    assets: list[dict[str, Any]] = []
    build_count = max(1, size // BUILD_SIZE)
    build_times = [START + span * i / build_count for i in range(build_count)]
    for b, created in enumerate(build_times):
        builds.append({"id": uuid7(), "environment_id": environment.pk,
                       "name": f"{rng.choice(['brave', 'calm', 'eager', 'swift'])}-"
                               f"{rng.choice(['tiger', 'otter', 'heron', 'lynx'])}-{10 + b % 90}",
                       "created_at": created, "started_at": created, "status": "completed",
                       "completed_at": created + timedelta(minutes=30), "root_task_ids": []})
    for i in range(size):
        b = min(i // BUILD_SIZE, build_count - 1)
        build = builds[b]
        namespace, name = rng.choices(names, weights)[0]
        created = build["created_at"] + timedelta(seconds=(i % BUILD_SIZE) * 20)
        task_pk = uuid7()
        fate = _fate(rng)
        timeline = [("task_pending", build, created)]
        t = created + timedelta(seconds=5)
        if fate != "pending":
            timeline.append(("task_started", build, t))
        if fate in ("completed", "failed", "cancelled"):
            timeline.append((f"task_{fate}", build, t + timedelta(seconds=rng.randrange(5, 600))))
        if rng.random() < 0.2 and b + 1 < build_count:
            later = builds[rng.randrange(b + 1, min(build_count, b + 20))]
            timeline.append(("task_referenced", later, later["created_at"] + timedelta(seconds=1)))
        for event_type, event_build, at in timeline:
            events.append({"id": uuid7(), "build_id": event_build["id"], "task_id": task_pk,
                           "event_type": event_type, "created_at": at,
                           "error_message": "Traceback: ValueError" if event_type == "task_failed"
                           else None})
        started = timeline[1][2] if fate != "pending" else None
        finished = timeline[2][2] if fate in ("completed", "failed", "cancelled") else None
        task_assets = []
        if fate == "completed" and rng.random() < 0.27:
            task_assets.append(("json", "metrics", {
                "accuracy": round(rng.random(), 4), "loss": round(rng.random() * 3, 4),
                "rows": rng.randrange(1000, 10_000_000)}))
        if fate == "completed" and rng.random() < 0.13:
            task_assets.append(("markdown", "report", {"content": f"# {name}\n\nAll good."}))
        for asset_type, asset_name, body in task_assets:
            assets.append({"id": uuid7(), "task_id": task_pk, "environment_id": environment.pk,
                           "asset_type": asset_type, "name": asset_name, "body": body,
                           "created_at": finished})
        tasks.append({
            "id": task_pk, "environment_id": environment.pk,
            "task_id": str(uuid.UUID(int=rng.getrandbits(128), version=5)),
            "task_namespace": namespace, "task_name": name,
            "task_data": task_data(rng, namespace, name, created),
            "version": "1", "output_uri": f"s3://bucket/out/{namespace or 'root'}/{name}/{i}.json",
            "created_at": created, "status": fate, "started_at": started,
            "completed_at": finished if fate != "running" else None,
            "error_message": "Traceback: ValueError" if fate == "failed" else None,
            "status_build_id": build["id"] if fate != "pending" else None,
            "last_build_id": timeline[-1][1]["id"], "last_event_at": timeline[-1][2],
            "asset_count": len(task_assets), "waiting_for_lock": False,
        })
    _copy(Build, builds)
    _copy(Task, tasks)
    _copy(Event, events)
    _copy(TaskAsset, assets)
    return {"tasks": len(tasks), "builds": len(builds), "events": len(events),
            "assets": len(assets)}

