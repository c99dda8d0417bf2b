"""``GET /builds/{id}/frontier`` (SDK-WIRE §3.4 N11) for a build without reactive state.

What the 0.20+ CLI (``stardag builds frontier``) and a reactive tick read: the build's
``latest_*`` task states, counts per status, and the tasks that could run now (pending,
suspended or running, with every static and dynamic upstream completed). There are no wake-up
flags, external blockers or attempt counts on v1: ``needs_tick`` is false and those lists empty.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from builds.models import Build, Event
from stardag_site.api.fields import UtcTimestampField
from tasks.models import Task, TaskDependency

ACTIONABLE = ("pending", "suspended", "running")
_STAMP = UtcTimestampField()


def task_ref(task: Task) -> dict[str, Any]:
    return {
        "task_id": task.task_id,
        "latest_status": task.latest_status,
        "latest_executor": task.latest_executor,
        "latest_executor_ref": task.latest_executor_ref,
        "latest_executor_metadata": task.latest_executor_metadata,
        "latest_status_at": (_STAMP.to_representation(task.latest_status_at)
                             if task.latest_status_at else None),
        "latest_status_build_id": (str(task.latest_status_build_id)
                                   if task.latest_status_build_id else None),
    }


def build_frontier(*, build: Build, scope_key: str) -> dict[str, Any]:
    """The frontier of ``build``; three queries whatever the build's size."""
    task_pks = Event.objects.filter(build=build, task__isnull=False).values("task_id")
    tasks = list(Task.objects.filter(environment_id=build.environment_id, pk__in=task_pks)
                 .order_by("task_id"))
    upstreams: dict[Any, list[Any]] = {}
    for upstream, dependent in TaskDependency.objects.filter(
            dependent_id__in=[task.pk for task in tasks]).values_list("dependency_id",
                                                                      "dependent_id"):
        upstreams.setdefault(dependent, []).append(upstream)
    completed_pks = set(Task.objects.filter(
        pk__in={pk for pks in upstreams.values() for pk in pks}, status="completed",
    ).values_list("pk", flat=True))
    actionable = [task for task in tasks if task.latest_status in ACTIONABLE
                  and all(pk in completed_pks for pk in upstreams.get(task.pk, ()))]
    by_id = {task.task_id: task for task in tasks}
    return {
        "build_id": str(build.pk),
        "build_status": build.status,
        "needs_tick": False,
        "root_task_ids": list(build.root_task_ids),
        "roots": [task_ref(by_id[root]) for root in build.root_task_ids if root in by_id],
        "status_counts": dict(Counter(task.latest_status for task in tasks)),
        "actionable": [task_ref(task) for task in actionable],
        "running": [task_ref(task) for task in tasks if task.latest_status == "running"],
        "scope_key": scope_key,
        "blocked_by_external": [],
        "blocked_by_external_truncated": False,
        "reactive_app_name": None,
        "reactive_tick_kwargs": None,
    }
