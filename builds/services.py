"""Build services: creation, build-level events (with the materialised §5.1 status) and edits.

Every function owns its transaction. A build's status columns are only ever written here, by
folding the event just appended onto the stored state while the build row is locked, so the
stored state always equals the fold over the build's events in ``(created_at, id)`` order.
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import Max, OuterRef, Subquery
from django.dispatch import Signal
from django.utils import timezone

from accounts.models import User
from builds.models import Build, BuildRootTask, Event
from builds.status import BUILD_EVENT_TYPES, BuildState, build_fold_step
from stardag_site import metrics
from stardag_site.ids import uuid7
from stardag_site.patching import save_patch
from workspaces.models import Environment

# Sent inside ``build_cancel``'s transaction when a cascade is asked for; receivers (the tasks
# app) cancel the build's tasks and return their SDK ids. A signal keeps builds free of any
# import of tasks.
build_cancelling = Signal()

_ADJECTIVES = (
    "agile", "amber", "ancient", "bold", "brave", "bright", "calm", "clever", "cosmic", "crisp",
    "daring", "eager", "electric", "fancy", "fierce", "gentle", "golden", "grand", "happy",
    "humble", "jolly", "keen", "lively", "lucky", "mellow", "mighty", "nimble", "noble", "polar",
    "proud", "quick", "quiet", "rapid", "royal", "rustic", "shiny", "silent", "silver", "smooth",
    "snowy", "solar", "steady", "stellar", "sunny", "swift", "tidy", "vivid", "wild", "wise",
    "witty",
)
_NOUNS = (
    "badger", "bear", "comet", "condor", "crane", "dolphin", "eagle", "falcon", "fox", "galaxy",
    "gecko", "hawk", "heron", "ibis", "jaguar", "koala", "lemur", "lion", "lynx", "meteor",
    "moose", "nebula", "otter", "owl", "panda", "panther", "pulsar", "quasar", "raven", "robin",
    "salmon", "seal", "sparrow", "star", "swan", "tiger", "walrus", "whale", "wolf", "zebra",
)


def build_name_generate() -> str:
    """A memorable, non-unique name: ``adjective-noun-NN`` with NN in 10..99."""
    rng = random.SystemRandom()
    return f"{rng.choice(_ADJECTIVES)}-{rng.choice(_NOUNS)}-{rng.randint(10, 99)}"


def next_event_time(previous: datetime.datetime | None) -> datetime.datetime:
    """Now, or one microsecond after ``previous`` if the clock has not moved past it.

    Stamping each event of a fold strictly after the previous one (taken while the owning row
    is locked) means events never tie on ``created_at``, so ``(created_at, id)`` order is the
    order in which the materialised state was folded, whatever the workers' clocks do.
    """
    now = timezone.now()
    if previous is not None and now <= previous:
        return previous + datetime.timedelta(microseconds=1)
    return now


@metrics.counts_builds
def build_create(
    *,
    environment: Environment,
    user: User | None = None,
    commit_hash: str | None = None,
    root_task_ids: Iterable[str] = (),
    description: str | None = None,
    scope_key: str | None = None,
    build_config: dict[str, Any] | None = None,
    executor_metadata: dict[str, Any] | None = None,
) -> Build:
    """Create a build with a generated name and its ``build_started`` event (status running).

    Not idempotent by design (contract §1.8): every call is a new build. ``scope_key``,
    ``build_config`` and ``executor_metadata`` are stored as sent by SDK ≥0.10 (C1).
    """
    root_ids = [str(value) for value in root_task_ids]
    with transaction.atomic():
        build = Build.objects.create(
            id=uuid7(),
            environment=environment,
            user=user,
            name=build_name_generate(),
            description=description,
            commit_hash=commit_hash,
            root_task_ids=root_ids,
            scope_key=scope_key,
            build_config=build_config,
            executor_metadata=executor_metadata,
        )
        BuildRootTask.objects.bulk_create(
            [BuildRootTask(build=build, task_id=value) for value in dict.fromkeys(root_ids)]
        )
        return build_event_record(build=build, event_type="build_started")


def build_event_record(
    *,
    build: Build,
    event_type: str,
    error_message: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> Build:
    """Append a build-level event and fold it into the build's stored status (§5.1).

    Accepted in any state (no terminal lock-in: the latest event wins). The build row is locked
    for the duration so concurrent transitions fold in the order their events are stamped.
    Returns the updated build.
    """
    if event_type not in BUILD_EVENT_TYPES:
        raise ValueError(f"{event_type!r} is not a build-level event type")
    # No savepoint: inside a caller's transaction this joins it (an error aborts it anyway),
    # which saves two round trips per event.
    with transaction.atomic(savepoint=False):
        locked = Build.objects.select_for_update(no_key=True).get(pk=build.pk)
        # Every build-level event stamps either started_at or completed_at, so the later of the
        # two is the time of the build's latest build-level event.
        stamps = [t for t in (locked.started_at, locked.completed_at) if t is not None]
        event = Event.objects.create(
            id=uuid7(),
            build=locked,
            task=None,
            event_type=event_type,
            created_at=next_event_time(max(stamps) if stamps else None),
            error_message=error_message,
            event_metadata=metadata,
        )
        state = build_fold_step(
            BuildState(locked.status, locked.started_at, locked.completed_at,
                       locked.status_trigger),
            event,
        )
        locked.status, locked.started_at = state.status, state.started_at
        locked.completed_at, locked.status_trigger = state.completed_at, state.trigger
        locked.is_resumed = locked.is_resumed or event_type == "build_resumed"
        locked.save(update_fields=["status", "started_at", "completed_at", "status_trigger",
                                   "is_resumed"])
    for field in ("status", "started_at", "completed_at", "status_trigger", "is_resumed"):
        setattr(build, field, getattr(locked, field))
    return locked


def build_attribution(*, requested: bool, user: User | None) -> dict[str, str] | None:
    """Event metadata of a manual override (§5.1), or None.

    ``requested``: the caller sent ``triggered_by_user_id`` (its value is not trusted);
    ``user``: the person behind an internal token (None for API keys, which get no
    attribution). The caller's OWN subject is what gets recorded.
    """
    if not requested or user is None or not user.external_id:
        return None
    return {"triggered_by_user_id": user.external_id}


def build_update(
    *,
    build: Build,
    name: str | None = None,
    description: str | None = None,
    commit_hash: str | None = None,
    fields: Iterable[str] = (),
) -> Build:
    """Legacy ``PATCH /builds/{id}`` (§9): change only the named descriptive fields.

    ``fields`` lists which of name/description/commit_hash were present in the request, so an
    explicit ``null`` clears a nullable field while an absent key leaves it unchanged.
    """
    values = {"name": name, "description": description, "commit_hash": commit_hash}
    return save_patch(build, {field: values[field] for field in fields if field in values})


class ScopeMismatch(Exception):
    """A build keeps one ``build_config`` for life (SDK-WIRE §3.5 E-scopes)."""

    def __init__(self, message: str, scope_key: str) -> None:
        super().__init__(message)
        self.message = message
        self.scope_key = scope_key


def build_scope_key(build: Build) -> str:
    """The build's structure scope: the stored one, else the synthetic ``build:<id>``."""
    return build.scope_key or f"build:{build.pk}"


def _scope_apply(locked: Build, scope_key: str | None,
                 build_config: dict[str, Any] | None) -> None:
    """Adopt ``scope_key`` and a first ``build_config`` on the locked row, or refuse a config
    that differs from the stored one (``None`` and ``{}`` are the same config)."""
    if build_config is not None:
        stored = locked.build_config
        if stored is not None and (stored or {}) != (build_config or {}):
            raise ScopeMismatch(
                "The build_config differs from the one this build was started with; a build "
                "has one build_config for life. Start a new build.",
                build_scope_key(locked),
            )
        locked.build_config = build_config
    if scope_key is not None:
        locked.scope_key = scope_key


def build_scope_set(*, build: Build, scope_key: str,
                    build_config: dict[str, Any] | None = None) -> Build:
    """``PUT /builds/{id}/scope`` (N28): move the build to ``scope_key``.

    Raises ``ScopeMismatch`` (nothing written) when ``build_config`` differs from the stored one.
    """
    with transaction.atomic():
        locked = Build.objects.select_for_update(no_key=True).get(pk=build.pk)
        _scope_apply(locked, scope_key, build_config)
        locked.save(update_fields=["scope_key", "build_config"])
    return locked


def build_resume(*, build: Build, scope_key: str | None = None,
                 build_config: dict[str, Any] | None = None,
                 executor_metadata: dict[str, Any] | None = None) -> Build:
    """``POST /builds/{id}/resume`` (N5): append ``build_resumed``, which puts the build back
    to ``running`` and marks it resumed; adopt the claimed scope and executor metadata.

    Raises ``ScopeMismatch`` (nothing written) for a different ``build_config``. Every call
    appends an event (the SDK resumes once per run).
    """
    with transaction.atomic():
        locked = Build.objects.select_for_update(no_key=True).get(pk=build.pk)
        _scope_apply(locked, scope_key, build_config)
        if executor_metadata is not None:
            locked.executor_metadata = executor_metadata
        locked.save(update_fields=["scope_key", "build_config", "executor_metadata"])
        return build_event_record(build=locked, event_type="build_resumed")


def build_roots_add(*, build: Build, root_task_ids: Iterable[str]) -> Build:
    """``POST /builds/{id}/roots`` (N7): append root task ids not yet listed, in order."""
    with transaction.atomic():
        locked = Build.objects.select_for_update(no_key=True).get(pk=build.pk)
        known = set(locked.root_task_ids)
        added = [value for value in dict.fromkeys(str(v) for v in root_task_ids)
                 if value not in known]
        if added:
            locked.root_task_ids = [*locked.root_task_ids, *added]
            locked.save(update_fields=["root_task_ids"])
            BuildRootTask.objects.bulk_create(
                [BuildRootTask(build=locked, task_id=value) for value in added],
                ignore_conflicts=True,
            )
    return locked


def build_cancel(*, build: Build, cascade: bool = False,
                 metadata: dict[str, Any] | None = None) -> tuple[Build, list[str]]:
    """Cancel a build; with ``cascade`` also cancel its running and suspended tasks (C4).

    The task side belongs to the tasks app, which answers the ``build_cancelling`` signal
    inside this transaction; returns the build and the SDK ids of the tasks it cancelled.
    """
    with transaction.atomic():
        build = build_event_record(build=build, event_type="build_cancelled", metadata=metadata)
        cascaded: list[str] = []
        if cascade:
            for _, task_ids in build_cancelling.send(sender=Build, build=build):
                cascaded.extend(task_ids or ())
    return build, cascaded


def build_bulk_cancel(
    *,
    environment: Environment,
    build_ids: Iterable[Any] | None = None,
    idle_for_seconds: int | None = None,
    cascade: bool = False,
    dry_run: bool = False,
    limit: int = 100,
    reason: str | None = None,
) -> dict[str, Any]:
    """``POST /builds/bulk-cancel`` (N13): cancel the environment's ``running`` builds named by
    ``build_ids`` and/or idle (no event) for at least ``idle_for_seconds``, oldest activity
    first, at most ``limit``. A dry run selects without writing. Each build is cancelled in
    its own transaction (``build_cancel``), so one failure does not undo the others.
    """
    activity = Build.objects.filter(pk=OuterRef("pk")).annotate(
        last=Max("events__created_at")).values("last")[:1]
    queryset = (Build.objects.filter(environment=environment)
                .annotate(last_activity_at=Subquery(activity)))
    skipped: dict[str, str] = {}
    if build_ids is not None:
        wanted = {str(value) for value in build_ids}
        queryset = queryset.filter(pk__in=wanted)
        found = {str(build.pk): build.status for build in queryset}
        for value in wanted:
            if value not in found:
                skipped[value] = "not_found"
            elif found[value] != "running":
                skipped[value] = f"not_running ({found[value]})"
    queryset = queryset.filter(status="running")
    if idle_for_seconds is not None:
        cutoff = timezone.now() - datetime.timedelta(seconds=idle_for_seconds)
        queryset = queryset.filter(last_activity_at__lte=cutoff)
    selected = list(queryset.order_by("last_activity_at", "id")[: limit + 1])
    truncated = len(selected) > limit
    rows: list[dict[str, Any]] = []
    task_count = 0
    metadata = {"reason": reason} if reason else None
    for build in selected[:limit]:
        cascaded: list[str] = []
        if not dry_run:
            _, cascaded = build_cancel(build=build, cascade=cascade, metadata=metadata)
        task_count += len(cascaded)
        rows.append({"build_id": str(build.pk), "name": build.name,
                     "last_activity_at": build.last_activity_at,
                     "reactive_app_name": None, "cascaded_task_ids": cascaded})
    return {"dry_run": dry_run, "builds": rows, "build_count": len(rows),
            "task_count": task_count, "skipped": skipped, "truncated": truncated}
