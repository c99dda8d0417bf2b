"""Member registration (SDK-WIRE 4.5.3): one chunk, one transaction, all or nothing.

Race safety: task rows are inserted if absent (``INSERT ... ON CONFLICT DO NOTHING`` through
``bulk_create(ignore_conflicts=True)``, with ids minted here so the rows this call inserted are
known) and then locked ``FOR NO KEY UPDATE`` in ``task_id`` order, the one lock order every v2
transaction uses. Instances, edges and members are inserted the same way. On SQLite the
IMMEDIATE transaction serialises writers instead.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q
from django.utils import timezone

from builds.models_v2 import Plan
from stardag_site.api.errors import Refusal
from stardag_site.ids import uuid7
from tasks.models_v2 import InstanceEdge, PlanMember, TaskInstance, V2Event, V2Task

CLOCK_SKEW = datetime.timedelta(seconds=5)
COUNTERS = ("tasks_created", "instances_created", "members_admitted", "closure_admitted",
            "edges_created", "completed", "invalidated", "diverged")


@dataclass
class Item:
    """A validated registration item (SDK-WIRE 4.3)."""

    task_id: str
    task_namespace: str
    task_name: str
    version: str | None
    output_uri: str | None
    instance_hash: str
    body: dict[str, Any]
    declared_upstreams: list[str] | None
    observed_complete: bool
    observed_at: datetime.datetime


@dataclass
class Counts:
    values: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTERS, 0))

    def add(self, name: str, n: int = 1) -> None:
        self.values[name] += n


def lock_tasks(environment_id: Any, task_ids: Iterable[str]) -> dict[str, V2Task]:
    """The task rows, locked in task_id order (the fixed lock order of every v2 write)."""
    rows = (V2Task.objects.filter(environment_id=environment_id, task_id__in=set(task_ids))
            .select_for_update(no_key=True).order_by("task_id"))
    return {row.task_id: row for row in rows}


def close_claim(task: V2Task, outcome: str, now: datetime.datetime) -> None:
    """Release the task's claim on the ledger (once) and clear it on the task."""
    from tasks.models_v2 import Execution

    if task.execution_id is not None:
        Execution.objects.filter(pk=task.execution_id, claim_released_at__isnull=True).update(
            claim_released_at=now, claim_outcome=outcome)
    task.claim_plan = None
    task.preempted_at = None
    task.claim_expires_at = None


def move(task: V2Task, status: str, now: datetime.datetime) -> None:
    task.status = status
    task.status_at = now


def event(plan: Plan | None, event_type: str, *, task: V2Task | None = None,
          execution_id: uuid.UUID | None = None, applied: bool = True,
          error_message: str | None = None, now: datetime.datetime | None = None,
          environment_id: Any = None, build_id: Any = None) -> V2Event:
    environment_id = environment_id or (plan.environment_id if plan else None)
    assert environment_id is not None, "an event needs its plan or an environment"
    return V2Event(
        environment_id=environment_id,
        build_id=build_id or (plan.build_id if plan else None), plan=plan, task=task,
        execution_id=execution_id, event_type=event_type, report_applied=applied,
        error_message=error_message, created_at=now or timezone.now())


def register_items(plan: Plan, items: list[Item], *, as_roots: bool,
                   dynamic: Collection[str] = ()) -> dict[str, int]:
    """Register one chunk into ``plan``; the caller holds the transaction. Returns the
    MembersResult counters (all zero when the chunk was already registered)."""
    now = timezone.now()
    counts = Counts()
    by_hash: dict[str, Item] = {}
    for item in items:
        if item.observed_at > now + CLOCK_SKEW:
            raise Refusal("clock_skew", "observed_at is ahead of the registry", status_code=400)
        seen = by_hash.get(item.instance_hash)
        if seen is not None and (seen.body != item.body or seen.task_id != item.task_id):
            raise Refusal("instance_body_conflict", "two bodies under one hash")
        by_hash[item.instance_hash] = item
    ordered = sorted(by_hash.values(), key=lambda i: (i.task_id, i.instance_hash))
    env_id = plan.environment_id
    tasks = _tasks_for(env_id, ordered, counts, now)
    instances = _instances_for(plan, ordered, tasks, counts, now)
    members = _members_by_task_id(plan)
    new_members: list[PlanMember] = []
    events: list[V2Event] = []
    upstream_hashes = {h for i in ordered for h in (i.declared_upstreams or [])}
    scope = TaskInstance.objects.filter(deployment_id=plan.deployment_id,
                                        settings_hash=plan.settings_hash)
    known = {i.instance_hash: i for i in scope.filter(instance_hash__in=upstream_hashes)
             .select_related("task")}
    known.update(instances)
    expanded_ids = [instances[i.instance_hash].pk for i in ordered
                    if i.declared_upstreams is not None]
    existing_edges = set(InstanceEdge.objects.filter(downstream_id__in=expanded_ids)
                         .values_list("downstream_id", "upstream_id"))
    new_edges: list[InstanceEdge] = []
    newly_expanded: list[uuid.UUID] = []
    for item in ordered:
        instance = instances[item.instance_hash]
        if item.declared_upstreams is not None:
            for upstream_hash in item.declared_upstreams:
                upstream = known.get(upstream_hash)
                if upstream is None:
                    raise Refusal("unknown_upstream",
                                  f"upstream {upstream_hash} is not an instance in this scope",
                                  status_code=400)
                if (instance.pk, upstream.pk) not in existing_edges:
                    existing_edges.add((instance.pk, upstream.pk))
                    new_edges.append(InstanceEdge(downstream=instance, upstream=upstream))
                    counts.add("edges_created")
                if admit(plan, members, new_members, upstream, "closure"):
                    counts.add("closure_admitted")
            if instance.expanded_at is None:
                instance.expanded_at = now
                newly_expanded.append(instance.pk)
        admitted_by = ("root" if as_roots else
                       "dynamic" if item.instance_hash in dynamic else "static")
        if admit(plan, members, new_members, instance, admitted_by, is_root=as_roots):
            counts.add("members_admitted")
            events.append(event(plan, "task_pending", task=tasks[item.task_id], now=now))
        elif as_roots and not members[item.task_id].is_root:
            members[item.task_id].is_root = True
            PlanMember.objects.filter(pk=members[item.task_id].pk).update(is_root=True)
        observe(plan, tasks[item.task_id], item, counts, events, now)
    TaskInstance.objects.filter(pk__in=newly_expanded).update(expanded_at=now)
    InstanceEdge.objects.bulk_create(new_edges, ignore_conflicts=True)
    PlanMember.objects.bulk_create(new_members, ignore_conflicts=True)
    V2Event.objects.bulk_create(events)
    return counts.values


def _tasks_for(env_id: Any, ordered: list[Item], counts: Counts,
               now: datetime.datetime) -> dict[str, V2Task]:
    ids = {i.task_id for i in ordered}
    present = set(V2Task.objects.filter(environment_id=env_id, task_id__in=ids)
                  .values_list("task_id", flat=True))
    minted: set[uuid.UUID] = set()
    fresh = []
    for item in ordered:
        if item.task_id in present:
            continue
        present.add(item.task_id)
        row = V2Task(id=uuid7(), environment_id=env_id, task_id=item.task_id,
                     task_namespace=item.task_namespace, task_name=item.task_name,
                     version=item.version, output_uri=item.output_uri, status_at=now)
        minted.add(row.pk)
        fresh.append(row)
    V2Task.objects.bulk_create(fresh, ignore_conflicts=True)
    tasks = lock_tasks(env_id, ids)
    for item in ordered:
        task = tasks[item.task_id]
        if task.pk in minted:
            counts.add("tasks_created")
            minted.discard(task.pk)
        identity = (item.task_namespace, item.task_name, item.version, item.output_uri)
        if (task.task_namespace, task.task_name, task.version, task.output_uri) != identity:
            raise Refusal("task_identity_conflict", f"task {item.task_id}")
    return tasks


def _instances_for(plan: Plan, ordered: list[Item], tasks: dict[str, V2Task], counts: Counts,
                   now: datetime.datetime) -> dict[str, TaskInstance]:
    scope = TaskInstance.objects.filter(deployment_id=plan.deployment_id,
                                        settings_hash=plan.settings_hash)
    hashes = [i.instance_hash for i in ordered]
    present = set(scope.filter(instance_hash__in=hashes).values_list("instance_hash", flat=True))
    minted = set()
    fresh = []
    for item in ordered:
        if item.instance_hash in present:
            continue
        row = TaskInstance(id=uuid7(), environment_id=plan.environment_id,
                           deployment_id=plan.deployment_id, settings_hash=plan.settings_hash,
                           instance_hash=item.instance_hash, task=tasks[item.task_id],
                           body=item.body, created_at=now)
        minted.add(row.pk)
        fresh.append(row)
    TaskInstance.objects.bulk_create(fresh, ignore_conflicts=True)
    instances = {i.instance_hash: i for i in scope.filter(instance_hash__in=hashes)
                 .select_related("task")}
    for item in ordered:
        instance = instances[item.instance_hash]
        if instance.pk in minted:
            counts.add("instances_created")
        if instance.body != item.body or instance.task.task_id != item.task_id:
            raise Refusal("instance_body_conflict", f"instance {item.instance_hash}")
    return instances


def _members_by_task_id(plan: Plan) -> dict[str, PlanMember]:
    """The plan's members keyed by their task's client id (the key ``admit`` looks up)."""
    rows = PlanMember.objects.filter(plan=plan).select_related("task", "instance")
    return {row.task.task_id: row for row in rows}


def admit(plan: Plan, members: dict[str, PlanMember], new_members: list[PlanMember],
          instance: TaskInstance, admitted_by: str, *, is_root: bool = False) -> bool:
    """Make ``instance`` the plan's member for its task; False when it already was. Another
    instance of the same task → 409 ``instance_conflict`` with the differing body fields."""
    task_id = instance.task.task_id
    member = members.get(task_id)
    if member is None:
        member = PlanMember(id=uuid7(), plan=plan, task=instance.task, instance=instance,
                            is_root=is_root, admitted_by=admitted_by)
        members[task_id] = member
        new_members.append(member)
        return True
    if member.instance_id != instance.pk:
        other = member.instance.body if member.instance_id else {}
        fields = sorted(k for k in set(other) | set(instance.body)
                        if other.get(k) != instance.body.get(k))
        raise Refusal("instance_conflict",
                      f"the plan already holds another instance of task {task_id}",
                      task_id=task_id, fields=fields)
    return False


def observe(plan: Plan, task: V2Task, item: Item, counts: Counts, events: list[V2Event],
            now: datetime.datetime) -> None:
    """Apply the driver's view of the target: complete it, or withdraw a stale completion."""
    if item.observed_complete:
        if task.status != "completed" and not task.live(now):
            if task.status == "running":
                close_claim(task, "lapsed", now)
            move(task, "completed", now)
            task.completed_at = now
            task.save()
            counts.add("completed")
            events.append(event(plan, "task_observed_complete", task=task, now=now))
    elif (task.status == "completed" and not task.live(now)
          and (task.completed_at is None or task.completed_at < item.observed_at)):
        move(task, "pending", now)
        task.completed_at = None
        task.save()
        counts.add("invalidated")
        events.append(event(plan, "task_invalidated", task=task, now=now))


def closure(plan: Plan) -> int:
    """Admit every upstream instance reachable over edges from a member (whatever its status),
    so membership and edges agree. Returns how many were admitted."""
    admitted = 0
    while True:
        member_instances = PlanMember.objects.filter(plan=plan).values("instance_id")
        missing = (TaskInstance.objects.filter(downstream_edges__downstream_id__in=member_instances)
                   .exclude(task_id__in=PlanMember.objects.filter(plan=plan).values("task_id"))
                   .select_related("task").distinct())
        rows = list(missing)
        if not rows:
            return admitted
        members = _members_by_task_id(plan)
        fresh: list[PlanMember] = []
        for instance in sorted(rows, key=lambda i: (i.task.task_id, i.instance_hash)):
            if admit(plan, members, fresh, instance, "closure"):
                admitted += 1
        PlanMember.objects.bulk_create(fresh, ignore_conflicts=True)


def upstream_tasks_incomplete(instance: TaskInstance) -> bool:
    return (V2Task.objects.filter(instances__downstream_edges__downstream=instance)
            .filter(~Q(status="completed")).exists())
