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

import functools
import uuid
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, NoReturn, TypedDict, cast

from django.db import connection, transaction
from django.db.models import OuterRef, QuerySet, Subquery, UUIDField

from builds.models import Build, Event
from builds.services import next_event_time
from stardag_site import metrics
from stardag_site.db.lookups import unindexed_equality
from stardag_site.db.prepared import (
    PreparedQuery,
    insert_row,
    insert_row_and_update_row,
    prepared_cursor,
)
from stardag_site.db.rows import fetch_rows
from stardag_site.db.text import UuidText
from stardag_site.ids import uuid7
from tasks.models import Task, TaskAsset, TaskDependency
from tasks.status import (
    PER_BUILD_STATUS_EVENT_TYPES,
    TASK_EVENT_TYPES,
    TaskLatest,
    TaskState,
    task_build_status,
    task_build_status_step,
    task_fold_step,
    task_latest_step,
)

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

TASK_FIELDS = tuple(Task._meta.concrete_fields)
EVENT_FIELDS = tuple(field.attname for field in Event._meta.concrete_fields)
STATUS_FIELDS = (
    "status", "started_at", "completed_at", "error_message", "waiting_for_lock",
    "status_build_id", "last_build_id", "last_event_at",
)


class BuildNotFound(LookupError):
    """The build of the path does not exist (HTTP 404 ``Build not found``)."""


class BuildOutsideEnvironment(PermissionError):
    """The build belongs to another environment (HTTP 403, contract §4.10)."""


class TaskNotFound(LookupError):
    """No task with that SDK ``task_id`` in the environment (HTTP 404 ``Task not found``)."""


# The task row, locked ``FOR NO KEY UPDATE`` (see module docstring). The pair is unique, so no
# ORDER BY (``.first()`` would add one). Compiled once per thread.
_LOCKED_TASK = PreparedQuery(
    lambda environment_id, task_id: (Task.objects.select_for_update(no_key=True)
                                     .by_key(environment_id, task_id).order_by()[:1]),
    environment_id=Task._meta.get_field("environment"), task_id=Task._meta.get_field("task_id"),
)


def _lifecycle_query(environment_id: Any, task_id: Any, build_id: Any) -> Any:
    """The task row, locked, with its build's environment (to check the build in the same
    statement) and its latest status-changing event in that build (§5.2)."""
    previous = (Event.objects.filter(build_id=build_id, task_id=OuterRef("pk"),
                                     event_type__in=sorted(PER_BUILD_STATUS_EVENT_TYPES))
                .order_by("-created_at", "-id").values("event_type")[:1])
    return (Task.objects.select_for_update(no_key=True)
            .by_key(environment_id, task_id)
            .annotate(build_environment_id=Subquery(
                          Build.objects.filter(pk=build_id).values("environment_id")[:1],
                          output_field=UUIDField()),  # a UUID on SQLite too
                      build_status_event=Subquery(previous))
            .order_by()[:1])


class _LifecycleAnnotations(TypedDict):
    build_environment_id: uuid.UUID | None  # None: no such build
    build_status_event: str | None  # None: no status-changing event of the task in the build


_LIFECYCLE_TASK = PreparedQuery(
    _lifecycle_query, environment_id=Task._meta.get_field("environment"),
    task_id=Task._meta.get_field("task_id"), build_id=Build._meta.pk,
)


def _locked_task(environment_id: Any, task_id: str) -> Task | None:
    return cast("Task | None", _LOCKED_TASK.first(environment_id=environment_id, task_id=task_id))


def task_insert_or_ignore(*, environment_id: Any, payload: dict[str, Any],
                          build_id: uuid.UUID | None = None) -> tuple[Task, bool]:
    """The task row for ``payload["task_id"]`` in the environment, locked, and whether this call
    created it. An existing row is never modified (tasks are immutable after creation).

    Must run inside a transaction (the row lock lasts until its end). With ``build_id`` a new
    row is inserted already folded with the ``task_pending`` event the caller is about to
    append in that build (status pending, ``last_build``, ``last_event_at``), so that event
    needs no UPDATE of the row; the caller then stamps the event with ``task.last_event_at``.

    Statements: one locked read for an existing task (the SDK registers every task again
    before starting it); the read and the ``INSERT ... ON CONFLICT DO NOTHING`` for a new one,
    whose row count says whether this call created it (the new row is then the candidate as
    written, not read back); a third, the locked read again, only when a concurrent insert won.
    """
    existing = _locked_task(environment_id, payload["task_id"])
    if existing is not None:
        return existing, False
    candidate = Task(
        id=uuid7(),
        environment_id=environment_id,
        task_id=payload["task_id"],
        task_namespace=payload.get("task_namespace") or "",
        task_name=payload["task_name"],
        task_data=payload.get("task_data") or {},
        version=payload.get("version"),
        output_uri=payload.get("output_uri"),
    )
    if build_id is not None:
        pending = Event(id=uuid7(), build_id=build_id, task_id=candidate.id,
                        event_type="task_pending", created_at=next_event_time(None))
        for field, value in _folded(candidate, pending).items():
            setattr(candidate, field, value)
    inserted = insert_row(Task, {field.attname: getattr(candidate, field.attname)
                                 for field in TASK_FIELDS}, ignore_conflicts=True)
    if inserted:  # the row is exactly ``candidate``, and ours until the transaction ends
        candidate._state.adding = False
        candidate._state.db = "default"
        return candidate, True
    task = _locked_task(environment_id, payload["task_id"])  # a concurrent insert won
    assert task is not None, "a conflicting insert has committed"
    return task, False


def task_edges_ensure(*, task: Task, dependency_task_ids: Iterable[str]) -> None:
    """Insert-or-ignore an edge (dependency → task) for every id naming a task of the same
    environment; unknown ids (and the task's own id) are ignored silently.

    One ``INSERT ... SELECT ... ON CONFLICT DO NOTHING`` (PostgreSQL and SQLite alike): the
    dependencies are looked up and the edges written in the same statement, so re-registering
    a task (the SDK registers every task again right before starting it) costs one statement.

    The statement's text depends only on the form of the lookup, never on the ids, so that
    PostgreSQL prepares it (``stardag_site.db.prepared.prepared_cursor``): ``task_id = %s`` for
    one dependency, the commonest case, whose prepared statement PostgreSQL soon runs with one
    generic plan; ``= ANY(%s)`` over one array parameter for several, for which it still plans
    each call (a generic plan cannot know the array's length), as it did for the ``IN`` list
    SQLite gets (no arrays there). The environment is compared as in ``TaskQuerySet.by_key``
    (``IS NOT DISTINCT FROM`` on PostgreSQL), so the dependencies are found through the unique
    index on (task_id, environment) whatever the statistics say.
    """
    wanted = sorted({str(value) for value in dependency_task_ids} - {task.task_id})
    if not wanted:
        return
    pk_field = Task._meta.pk
    ids: list[Any]  # the ids, or one list of them (an array parameter)
    if len(wanted) == 1:
        lookup, ids = "= %s", wanted
    elif connection.vendor == "postgresql":
        lookup, ids = "= ANY(%s)", [wanted]
    else:
        lookup, ids = f"IN ({', '.join(['%s'] * len(wanted))})", wanted
    params = [pk_field.get_db_prep_value(task.pk, connection), False,  # a declared edge
              pk_field.get_db_prep_value(task.environment_id, connection), *ids]
    with prepared_cursor(connection) as cursor:
        cursor.execute(_edges_insert_sql(connection.vendor, lookup), params)


@functools.cache
def _edges_insert_sql(vendor: str, lookup: str) -> str:
    """The edge insert of ``task_edges_ensure`` for ``vendor``, the dependencies' ``task_id``
    matched by ``lookup`` (``= %s``, ``= ANY(%s)`` or an ``IN`` list)."""
    quote = connection.ops.quote_name
    same = unindexed_equality(vendor)
    return (
        f"INSERT INTO {quote(TaskDependency._meta.db_table)} ({quote('dependency_id')}, "
        f"{quote('dependent_id')}, {quote('is_dynamic')}) SELECT {quote('id')}, %s, %s "
        f"FROM {quote(Task._meta.db_table)} WHERE {quote('environment_id')} {same} %s "
        f"AND {quote('task_id')} {lookup} ON CONFLICT DO NOTHING"
    )


def task_register(*, build: Build, payload: dict[str, Any]) -> Task:
    """Register a task in a build (§4.10.1): create it and append ``task_pending`` if it is new
    in the environment, else append ``task_referenced``; then ensure its dependency edges.

    ``payload`` holds the validated request fields (task_id, task_name, task_namespace,
    task_data, version, output_uri, dependency_task_ids). Safe to repeat and to run
    concurrently from many builds; returns the stored row.
    """
    with transaction.atomic(savepoint=False):
        task, created = task_insert_or_ignore(environment_id=build.environment_id,
                                              payload=payload, build_id=build.pk)
        if created:  # the row was inserted already folded with this event (see above)
            _event_insert(build_id=build.pk, task=task, event_type="task_pending",
                          created_at=task.last_event_at)
        else:
            _event_append(build_id=build.pk, task=task, event_type="task_referenced")
        task_edges_ensure(task=task, dependency_task_ids=payload.get("dependency_task_ids") or ())
    metrics.TASK_EVENTS.labels("task_pending" if created else "task_referenced").inc()
    return task


def task_create_outside_build(*, environment_id: Any, payload: dict[str, Any]) -> Task:
    """Legacy ``POST /tasks`` (§9): insert-or-ignore the task and its edges, no event."""
    with transaction.atomic():
        task, _ = task_insert_or_ignore(environment_id=environment_id, payload=payload)
        task_edges_ensure(task=task, dependency_task_ids=payload.get("dependency_task_ids") or ())
    return task


def _new_event(*, build_id: uuid.UUID, task: Task, event_type: str, created_at: Any,
               error_message: str | None = None,
               metadata: dict[str, Any] | None = None) -> Event:
    event = Event(id=uuid7(), build_id=build_id, task_id=task.pk, event_type=event_type,
                  created_at=created_at, error_message=error_message, event_metadata=metadata)
    event._state.adding = False  # written by the caller, with exactly these values
    return event


def _event_row(event: Event) -> dict[str, Any]:
    return {field: getattr(event, field) for field in EVENT_FIELDS}


def _event_insert(*, build_id: uuid.UUID, task: Task, event_type: str, created_at: Any,
                  error_message: str | None = None,
                  metadata: dict[str, Any] | None = None) -> Event:
    event = _new_event(build_id=build_id, task=task, event_type=event_type,
                       created_at=created_at, error_message=error_message, metadata=metadata)
    insert_row(Event, _event_row(event))
    return event


def _event_append(*, build_id: uuid.UUID, task: Task, event_type: str,
                  error_message: str | None = None,
                  metadata: dict[str, Any] | None = None) -> Event:
    """Insert the event and fold it into the stored global status; ``task`` must be the row
    locked in the current transaction (it is updated in place). One statement on PostgreSQL,
    two elsewhere (``insert_row_and_update_row``)."""
    event = _new_event(build_id=build_id, task=task, event_type=event_type,
                       created_at=next_event_time(task.last_event_at),
                       error_message=error_message, metadata=metadata)
    values = _folded(task, event)
    insert_row_and_update_row(Event, _event_row(event), Task, task.pk, values)
    for field, value in values.items():
        setattr(task, field, value)
    return event


def _folded(task: Task, event: Event) -> dict[str, Any]:
    """The task's stored status columns after ``event``: the §5.3 fold and the ``latest_*``
    E-state fold (``tasks.status.task_latest_step``), one step each."""
    state = task_fold_step(
        TaskState(task.status, task.started_at, task.completed_at, task.error_message,
                  task.status_build_id, task.waiting_for_lock),
        event,
    )
    latest = task_latest_step(
        TaskLatest(task.latest_status, task.latest_status_at, task.latest_status_build_id,
                   task.latest_executor, task.latest_executor_ref,
                   task.latest_executor_metadata, task.latest_execution_id),
        event,
    )
    return {
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
        "last_build_id": event.build_id,
        "last_event_at": event.created_at,
    }


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
        event = _event_append(build_id=build.pk, task=locked, event_type=event_type,
                              error_message=error_message, metadata=metadata)
    for field in STATUS_FIELDS:
        setattr(task, field, getattr(locked, field))
    return event


@metrics.counts_task_events
def task_lifecycle_record(
    *,
    environment_id: uuid.UUID,
    build_id: uuid.UUID,
    task_id: str,
    event_type: str,
    error_message: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> str:
    """A lifecycle call (§4.10.2: start, complete, fail, ...): append ``event_type`` for the task
    named ``task_id`` in build ``build_id`` and return the task's PER-BUILD status (§5.2) after
    it.

    Two statements in one transaction on PostgreSQL (three on SQLite): the task row is locked by
    a SELECT that also reads the build's environment and the task's latest status-changing event
    in this build; then the event is inserted and the global status updated (one statement,
    ``insert_row_and_update_row``). The per-build status is folded from that
    read, not re-read after commit: §5.2 is "the latest status-changing event wins", and the new
    event is the task's latest (stamped after ``last_event_at`` under the row lock), so
    ``task_build_status_step(previous, event_type)`` is exactly the fold over the pair's events.

    Raises ``BuildNotFound``, ``BuildOutsideEnvironment`` (the build is checked first, as the
    contract orders the answers) or ``TaskNotFound``; nothing is written then.
    """
    if event_type not in TASK_EVENT_TYPES:
        raise ValueError(f"{event_type!r} is not a task event type")
    with transaction.atomic(savepoint=False):
        task = cast("WithAnnotations[Task, _LifecycleAnnotations] | None",
                    _LIFECYCLE_TASK.first(environment_id=environment_id, task_id=task_id,
                                          build_id=build_id))
        found = (task if task is not None and task.build_environment_id == environment_id
                 else None)
        if found is not None:
            _event_append(build_id=build_id, task=found, event_type=event_type,
                          error_message=error_message, metadata=metadata)
    if found is None:  # raised outside the block: an error inside would doom a caller's transaction
        _raise_lookup_error(environment_id, build_id,
                            task.build_environment_id if task is not None else None)
    previous_status = task_build_status([found.build_status_event] if found.build_status_event
                                        else [])
    return task_build_status_step(previous_status, event_type)


def _raise_lookup_error(environment_id: uuid.UUID, build_id: uuid.UUID,
                        build_environment_id: uuid.UUID | None) -> NoReturn:
    if build_environment_id is None:
        rows = Build.objects.filter(pk=build_id).values_list("environment_id", flat=True)[:1]
        build_environment_id = next(iter(rows), None)
    if build_environment_id is None:
        raise BuildNotFound("Build not found")
    if build_environment_id != environment_id:
        raise BuildOutsideEnvironment("Build does not belong to this environment")
    raise TaskNotFound("Task not found")


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


def task_graph_for_build(*, build: Build, node_columns: Sequence[Any],
                         ) -> tuple[list[tuple[Any, ...]], list[tuple[Any, Any, bool]]]:
    """The build's tasks as rows of ``node_columns`` (oldest first) and the (dependency id,
    dependent id, is_dynamic) edges between them, in creation order (§4.10.6).

    Two statements whatever the size: the nodes, and the edges into them (a semi-join on the
    node query, not a parameter list of every node id); edges coming from a task outside the
    build are dropped here, against the fetched ids, rather than by a second semi-join (which
    cost PostgreSQL ~10 ms more on a 1,000-task build). The first node column must be
    ``UuidText("id")``, the form the edge ends come in: text on PostgreSQL, UUIDs elsewhere.
    """
    queryset = task_list_for_build(build=build)
    nodes = fetch_rows(queryset.values_list(*node_columns))
    node_ids = {node[0] for node in nodes}
    edges = (TaskDependency.objects.filter(dependent_id__in=queryset.order_by().values("pk"))
             .order_by("id").values_list(UuidText("dependency_id"), UuidText("dependent_id"),
                                         "is_dynamic"))
    return nodes, [edge for edge in fetch_rows(edges) if edge[0] in node_ids]
