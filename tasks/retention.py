"""Retention: forget builds older than an environment's ``build_retention_days`` (off by default),
with their events, then the tasks no event refers to any more (with their assets and edges), and
audit entries older than ``AUDIT_RETENTION_DAYS``.

What is kept, and why:

* A build created after the cutoff, or finished after it, is never touched, and neither is
  anything it shows: its events, its tasks, their assets and the edges between them.
* A task's global status is a fold over *all* its events (§5.3), and "completed anywhere" is
  what makes the SDK skip a task and the lock service answer ``already_completed``. An old
  build that decided the status of a task a kept build still uses (``Task.status_build``) is
  therefore kept too, and so, in turn, are the builds that decided the status of *its* tasks
  (a fixed point, usually reached in one or two rounds). Without this rule, purging history
  would make the next build re-run work that is done.
* A task is deleted only when no event of any build refers to it and it was registered before
  the cutoff (a task registered outside a build a minute ago stays).

Deletion runs in bounded batches, each in its own short transaction, so a large purge never
holds locks for long and can be interrupted and resumed.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from audit.models import AuditEntry
from builds.models import Build, BuildRootTask, Event
from tasks.models import Task, TaskAsset, TaskDependency
from workspaces.models import Environment

Progress = Callable[[str, int, int], None]


@dataclass
class PurgeCounts:
    builds: int = 0
    events: int = 0
    tasks: int = 0
    assets: int = 0
    kept_for_status: int = 0  # old builds kept because a kept build's tasks depend on them

    def add(self, other: PurgeCounts) -> None:
        for name in ("builds", "events", "tasks", "assets", "kept_for_status"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class PurgePlan:
    environment: Environment
    cutoff: datetime.datetime
    protected: set[Any] = field(default_factory=set)

    def builds(self) -> QuerySet[Build]:
        """Builds to delete: created and (if finished) finished before the cutoff, and not
        protected."""
        old = Build.objects.filter(environment=self.environment, created_at__lt=self.cutoff)
        old = old.filter(Q(completed_at__isnull=True) | Q(completed_at__lt=self.cutoff))
        return old.exclude(pk__in=self.protected) if self.protected else old

    def orphaned_tasks(self) -> QuerySet[Task]:
        """Tasks no event outside the purged builds refers to, registered before the cutoff."""
        surviving = Event.objects.filter(task=OuterRef("pk")).exclude(
            build_id__in=self.builds().values("pk"))
        return Task.objects.filter(environment=self.environment, created_at__lt=self.cutoff
                                   ).exclude(Exists(surviving))


def plan(environment: Environment, *, now: datetime.datetime | None = None) -> PurgePlan | None:
    """The purge of one environment, or None when its retention is off."""
    days = environment.build_retention_days
    if not days:
        return None
    result = PurgePlan(environment, (now or timezone.now()) - datetime.timedelta(days=days))
    for _round in range(100):  # a fixed point; each round only grows ``protected``
        doomed = result.builds()
        kept_task_ids = Event.objects.filter(build__environment=environment,
                                             task__isnull=False).exclude(
            build_id__in=doomed.values("pk")).values("task_id")
        deciding = set(
            Task.objects.filter(pk__in=kept_task_ids, status_build_id__in=doomed.values("pk"))
            .values_list("status_build_id", flat=True).distinct()
        )
        if not deciding:
            break
        result.protected |= deciding
    return result


def count(purge: PurgePlan) -> PurgeCounts:
    """What ``execute`` would delete (the dry run)."""
    builds = purge.builds()
    orphans = purge.orphaned_tasks()
    return PurgeCounts(
        builds=builds.count(),
        events=Event.objects.filter(build__in=builds.values("pk")).count(),
        tasks=orphans.count(),
        assets=TaskAsset.objects.filter(task__in=orphans.values("pk")).count(),
        kept_for_status=len(purge.protected),
    )


def _batches(queryset: QuerySet[Any], size: int) -> Iterator[list[Any]]:
    """Primary keys of ``queryset`` in batches; re-queried each time (rows get deleted)."""
    while True:
        ids = list(queryset.order_by().values_list("pk", flat=True)[:size])
        if not ids:
            return
        yield ids


def execute(purge: PurgePlan, *, batch_size: int = 500,
            progress: Progress | None = None) -> PurgeCounts:
    """Delete what ``count`` counted, ``batch_size`` rows per transaction."""
    done = PurgeCounts(kept_for_status=len(purge.protected))
    total_builds = purge.builds().count()
    for build_ids in _batches(purge.builds(), batch_size):
        for event_ids in _batches(Event.objects.filter(build_id__in=build_ids), batch_size * 4):
            with transaction.atomic():
                done.events += Event.objects.filter(pk__in=event_ids).delete()[0]
        with transaction.atomic():
            BuildRootTask.objects.filter(build_id__in=build_ids).delete()
            # Task.status_build / last_build are SET_NULL: the collector updates those rows.
            done.builds += Build.objects.filter(pk__in=build_ids).delete()[1].get(
                Build._meta.label, 0)
        if progress is not None:
            progress("builds", done.builds, total_builds)
    orphans = Task.objects.filter(environment=purge.environment, created_at__lt=purge.cutoff
                                  ).exclude(Exists(Event.objects.filter(task=OuterRef("pk"))))
    total_tasks = orphans.count()
    for task_ids in _batches(orphans, batch_size):
        with transaction.atomic():
            done.assets += TaskAsset.objects.filter(task_id__in=task_ids).delete()[0]
            TaskDependency.objects.filter(Q(dependency_id__in=task_ids)
                                          | Q(dependent_id__in=task_ids)).delete()
            done.tasks += Task.objects.filter(pk__in=task_ids).delete()[1].get(
                Task._meta.label, 0)
        if progress is not None:
            progress("tasks", done.tasks, total_tasks)
    return done


def audit_entries_before(cutoff: datetime.datetime) -> QuerySet[AuditEntry]:
    return AuditEntry.objects.filter(created_at__lt=cutoff)


def purge_audit(cutoff: datetime.datetime, *, batch_size: int = 500) -> int:
    deleted = 0
    for ids in _batches(audit_entries_before(cutoff), batch_size):
        with transaction.atomic():
            deleted += AuditEntry.objects.filter(pk__in=ids).delete()[0]
    return deleted
