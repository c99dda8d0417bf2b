"""Task services: race-safe registration, lifecycle events with the materialised global status
(§5.3), per-build status (§5.2) and asset upserts.

Concurrency design (PostgreSQL; SQLite serialises writers with IMMEDIATE transactions):

* Registration inserts with ``ON CONFLICT DO NOTHING`` and re-reads the row. A concurrent
  inserter of the same (environment, task_id) waits for the first one to commit, inserts
  nothing, and reads the committed row, so exactly one registration sees its own row
  (``task_pending``) and every other one appends ``task_referenced``. No duplicate-key error
  can escape.
* Every task event is appended while holding ``SELECT ... FOR NO KEY UPDATE`` on the task row
  and is stamped after the lock is taken (strictly after the task's previous event), so events
  of one task are folded into the stored columns in exactly their ``(created_at, id)`` order.
  ``NO KEY`` keeps the lock compatible with the foreign-key checks of other transactions that
  insert events or edges pointing at the same task.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import transaction
from django.db.models import QuerySet

from builds.models import Build, Event
from builds.services import next_event_time
from stardag_site import metrics
from stardag_site.ids import uuid7
from tasks.models import Task, TaskAsset, TaskDependency
from tasks.status import (
    TASK_EVENT_TYPES,
    TaskLatest,
    TaskState,
    task_build_status,
    task_build_status_step,
    task_fold_step,
    task_latest_step,
)


def task_insert_or_ignore(*, environment_id: Any, payload: dict[str, Any]) -> tuple[Task, bool]:
    """The task row for ``payload["task_id"]`` in the environment, and whether this call
    created it. An existing row is never modified (tasks are immutable after creation).
    """
    lookup = {"environment_id": environment_id, "task_id": payload["task_id"]}
    existing = Task.objects.filter(**lookup).first()
    if existing is not None:
        return existing, False
    candidate = Task(
        id=uuid7(),
        task_namespace=payload.get("task_namespace") or "",
        task_name=payload["task_name"],
        task_data=payload.get("task_data") or {},
        version=payload.get("version"),
        output_uri=payload.get("output_uri"),
        **lookup,
    )
    Task.objects.bulk_create([candidate], ignore_conflicts=True)
    task = Task.objects.get(**lookup)
    return task, task.pk == candidate.pk


def task_edges_ensure(*, task: Task, dependency_task_ids: Iterable[str]) -> None:
    """Insert-or-ignore an edge (dependency → task) for every id naming a task of the same
    environment; unknown ids (and the task's own id) are ignored silently.
    """
    wanted = {str(value) for value in dependency_task_ids} - {task.task_id}
    if not wanted:
        return
    dependency_pks = Task.objects.filter(
        environment_id=task.environment_id, task_id__in=wanted
    ).values_list("pk", flat=True)
    TaskDependency.objects.bulk_create(
        [TaskDependency(dependency_id=pk, dependent_id=task.pk) for pk in dependency_pks],
        ignore_conflicts=True,
    )


def task_register(*, build: Build, payload: dict[str, Any]) -> Task:
    """Register a task in a build (§4.10.1): create it and append ``task_pending`` if it is new
    in the environment, else append ``task_referenced``; then ensure its dependency edges.

    ``payload`` holds the validated request fields (task_id, task_name, task_namespace,
    task_data, version, output_uri, dependency_task_ids). Safe to repeat and to run
    concurrently from many builds; returns the stored row.
    """
    with transaction.atomic():
        task, created = task_insert_or_ignore(environment_id=build.environment_id,
                                              payload=payload)
        task_event_record(build=build, task=task,
                          event_type="task_pending" if created else "task_referenced")
        task_edges_ensure(task=task, dependency_task_ids=payload.get("dependency_task_ids") or ())
    return task


def task_create_outside_build(*, environment_id: Any, payload: dict[str, Any]) -> Task:
    """Legacy ``POST /tasks`` (§9): insert-or-ignore the task and its edges, no event."""
    with transaction.atomic():
        task, _ = task_insert_or_ignore(environment_id=environment_id, payload=payload)
        task_edges_ensure(task=task, dependency_task_ids=payload.get("dependency_task_ids") or ())
    return task


@metrics.counts_task_events
def task_event_record(
    *,
    build: Build,
    task: Task,
    event_type: str,
    error_message: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> Event:
    """Append a task event in ``build`` and fold it into the task's stored global status.

    The event insert and the status update share one transaction and the task row lock, so
    ``status``, ``started_at``, ``completed_at``, ``error_message``, ``waiting_for_lock``,
    ``status_build`` and ``last_build`` always equal the §5.3 fold over the task's events, and
    the ``latest_*`` columns the E-state fold (``tasks.status.task_latest_step``).
    No state machine: any event is accepted at any time. ``task`` is updated in place.
    """
    if event_type not in TASK_EVENT_TYPES:
        raise ValueError(f"{event_type!r} is not a task event type")
    if task.environment_id != build.environment_id:
        raise ValueError("task and build belong to different environments")
    # No savepoint: inside a caller's transaction this joins it (an error aborts it anyway),
    # which saves two round trips per event.
    with transaction.atomic(savepoint=False):
        locked = Task.objects.select_for_update(no_key=True).get(pk=task.pk)
        event = Event.objects.create(
            id=uuid7(),
            build_id=build.pk,
            task_id=locked.pk,
            event_type=event_type,
            created_at=next_event_time(locked.last_event_at),
            error_message=error_message,
            event_metadata=metadata,
        )
        state = task_fold_step(
            TaskState(locked.status, locked.started_at, locked.completed_at,
                      locked.error_message, locked.status_build_id, locked.waiting_for_lock),
            event,
        )
        latest = task_latest_step(
            TaskLatest(locked.latest_status, locked.latest_status_at,
                       locked.latest_status_build_id, locked.latest_executor,
                       locked.latest_executor_ref, locked.latest_executor_metadata,
                       locked.latest_execution_id),
            event,
        )
        values = {
            "latest_status": latest.status,
            "latest_status_at": latest.status_at,
            "latest_status_build_id": latest.status_build_id,
            "latest_executor": latest.executor,
            "latest_executor_ref": latest.executor_ref,
            "latest_executor_metadata": latest.executor_metadata,
            "latest_execution_id": latest.execution_id,
            "status": state.status,
            "started_at": state.started_at,
            "completed_at": state.completed_at,
            "error_message": state.error_message,
            "waiting_for_lock": state.waiting_for_lock,
            "status_build_id": state.status_build_id,
            "last_build_id": build.pk,
            "last_event_at": event.created_at,
        }
        Task.objects.filter(pk=locked.pk).update(**values)
    for field, value in values.items():
        setattr(task, field, value)
    return event


def task_build_status_get(*, build: Build, task: Task) -> str:
    """Per-build status (§5.2) of ``task`` in ``build``: one query over that pair's events."""
    event_types = (
        Event.objects.filter(build=build, task=task)
        .order_by("created_at", "id")
        .values_list("event_type", flat=True)
    )
    return task_build_status(event_types)


def task_assets_upsert(*, task: Task, items: Sequence[dict[str, Any]]) -> list[TaskAsset]:
    """Upsert assets by (task, type, name) in one transaction (§4.10.3) and refresh
    ``asset_count``. Existing assets keep id and created_at; a repeated (type, name) in one
    request ends with the last body. Returns one asset per item, in request order.
    """
    with transaction.atomic():
        Task.objects.select_for_update(no_key=True).filter(pk=task.pk).first()
        keys = [(item["type"], item["name"]) for item in items]
        existing: dict[tuple[str, str], TaskAsset] = {}
        if keys:
            names = {name for _, name in keys}
            for asset in TaskAsset.objects.filter(task=task, name__in=names):
                existing[(asset.asset_type, asset.name)] = asset
        to_create: dict[tuple[str, str], TaskAsset] = {}
        to_update: dict[tuple[str, str], TaskAsset] = {}
        for item, key in zip(items, keys, strict=True):
            if key in existing:
                existing[key].body = item["body"]
                to_update[key] = existing[key]
            elif key in to_create:
                to_create[key].body = item["body"]
            else:
                to_create[key] = TaskAsset(id=uuid7(), task=task,
                                           environment_id=task.environment_id,
                                           asset_type=key[0], name=key[1], body=item["body"])
        TaskAsset.objects.bulk_create(list(to_create.values()))
        TaskAsset.objects.bulk_update(list(to_update.values()), ["body"])
        count = TaskAsset.objects.filter(task=task).count()
        Task.objects.filter(pk=task.pk).update(asset_count=count)
    task.asset_count = count
    by_key = {**existing, **to_create}
    return [by_key[key] for key in keys]


# --- SDK ≥0.10 additions (SDK-WIRE §3.4) -------------------------------------------------------

BLOCKING_STATUSES = frozenset({"failed", "cancelled", "skipped"})
RETRYABLE_STATUSES = frozenset({"failed", "cancelled", "skipped"})


def task_register_bulk(*, build: Build, items: Sequence[dict[str, Any]]) -> list[Task]:
    """``POST /builds/{id}/tasks/bulk`` (N2): register every item exactly as
    ``task_register`` would (same ``task_pending``/``task_referenced`` events and edges), in
    request order, all in ONE transaction: either every item is recorded or none is.

    Items come dependencies first (post-order), so an item's edges to tasks registered
    earlier in the same request are recorded. Returns the stored rows, in request order.
    """
    tasks: list[Task] = []
    with transaction.atomic():
        for payload in items:
            task, created = task_insert_or_ignore(environment_id=build.environment_id,
                                                  payload=payload)
            task_event_record(build=build, task=task,
                              event_type="task_pending" if created else "task_referenced")
            task_edges_ensure(task=task,
                              dependency_task_ids=payload.get("dependency_task_ids") or ())
            tasks.append(task)
    return tasks


def task_dependencies_add(*, task: Task, upstream_task_ids: Iterable[str],
                          is_dynamic: bool = True) -> int:
    """``POST …/tasks/{t}/dependencies`` (N3): insert-or-ignore edges upstream → ``task``,
    flagged ``is_dynamic``. An edge that already exists keeps its flag (a static edge stays
    static); ids naming no task of the environment are ignored, as at registration. Returns
    the number of edges added.
    """
    wanted = {str(value) for value in upstream_task_ids} - {task.task_id}
    with transaction.atomic():
        upstream_pks = list(Task.objects.filter(environment_id=task.environment_id,
                                                task_id__in=wanted).values_list("pk", flat=True))
        existing = set(TaskDependency.objects.filter(dependent=task, dependency_id__in=upstream_pks)
                       .values_list("dependency_id", flat=True))
        new = [TaskDependency(dependency_id=pk, dependent_id=task.pk, is_dynamic=is_dynamic)
               for pk in upstream_pks if pk not in existing]
        TaskDependency.objects.bulk_create(new, ignore_conflicts=True)
    return len(new)


def task_retry(*, build: Build, task: Task) -> bool:
    """``POST …/tasks/{t}/retry`` (N6): put a failed, cancelled or skipped task back to
    ``pending`` (a ``task_pending`` event marked ``{"retry": true}``); completed, running and
    pending tasks are left alone. Decided under the task's row lock. Returns whether it reset.
    """
    with transaction.atomic():
        locked = Task.objects.select_for_update(no_key=True).get(pk=task.pk)
        if locked.latest_status not in RETRYABLE_STATUSES:
            return False
        task_event_record(build=build, task=task, event_type="task_pending",
                          metadata={"retry": True})
    return True


def build_task_statuses(*, build: Build) -> dict[Any, str]:
    """Per-build status (§5.2) of every task of ``build`` by task pk, from one ordered query;
    a task completed in any build counts as completed (it blocks nothing)."""
    statuses: dict[Any, str] = {}
    rows = (Event.objects.filter(build=build, task__isnull=False)
            .order_by("created_at", "id").values_list("task_id", "event_type"))
    for task_pk, event_type in rows:
        statuses[task_pk] = task_build_status_step(statuses.get(task_pk, "pending"), event_type)
    for task_pk in Task.objects.filter(pk__in=list(statuses), status="completed").values_list(
            "pk", flat=True):
        statuses[task_pk] = "completed"
    return statuses


def task_skip_blocked(*, build: Build) -> list[str]:
    """``POST /builds/{id}/skip-blocked`` (N8): skip (``task_skipped``) every pending or
    suspended task of the build with an upstream, static or dynamic, that failed, was
    cancelled or was skipped, transitively. Returns the skipped SDK ids, upstream first.
    """
    with transaction.atomic():
        statuses = build_task_statuses(build=build)
        edges = TaskDependency.objects.filter(dependent_id__in=list(statuses)).values_list(
            "dependency_id", "dependent_id")
        downstream: dict[Any, list[Any]] = {}
        for upstream, dependent in edges:
            downstream.setdefault(upstream, []).append(dependent)
        queue = [pk for pk, status in statuses.items() if status in BLOCKING_STATUSES]
        skipped: list[Any] = []
        while queue:
            for dependent in downstream.get(queue.pop(0), ()):
                if statuses.get(dependent) in ("pending", "suspended"):
                    statuses[dependent] = "skipped"
                    skipped.append(dependent)
                    queue.append(dependent)
        tasks = Task.objects.in_bulk(skipped)
        for pk in skipped:
            task_event_record(build=build, task=tasks[pk], event_type="task_skipped")
    return [tasks[pk].task_id for pk in skipped]


def build_tasks_cancel(*, build: Build) -> list[str]:
    """Cancel (``task_cancelled``) the build's running and suspended tasks: the cascade of a
    build cancel (C4, N13). Runs inside the caller's transaction; returns their SDK ids."""
    statuses = build_task_statuses(build=build)
    running = [pk for pk, status in statuses.items() if status in ("running", "suspended")]
    tasks = Task.objects.in_bulk(running)
    for pk in running:
        task_event_record(build=build, task=tasks[pk], event_type="task_cancelled")
    return [tasks[pk].task_id for pk in running]


def task_list_for_build(*, build: Build) -> QuerySet[Task]:
    """Tasks with at least one event in ``build``, oldest task first (§4.10.4).

    One semi-join on the event log (``event_build_task_idx``), so the cost does not grow with
    the number of events per task.
    """
    task_pks = Event.objects.filter(build=build, task__isnull=False).values("task_id")
    return (Task.objects.for_environment(build.environment_id).filter(pk__in=task_pks)
            .order_by("created_at", "id"))


def task_graph_for_build(*, build: Build) -> tuple[list[Task], list[tuple[Any, Any, bool]]]:
    """The build's tasks and the (dependency pk, dependent pk, is_dynamic) edges between them
    (§4.10.6).

    Two queries whatever the size: the nodes, and the edges into them (a subquery, not a
    parameter list of every node id); edges coming from a task outside the build are dropped.
    """
    queryset = task_list_for_build(build=build)
    nodes = list(queryset)
    node_pks = {node.pk for node in nodes}
    edges = TaskDependency.objects.filter(dependent_id__in=queryset.order_by().values("pk"))
    pairs = [(source, target, is_dynamic) for source, target, is_dynamic in
             edges.order_by("id").values_list("dependency_id", "dependent_id", "is_dynamic")
             if source in node_pks]
    return nodes, pairs
