"""v2 transitions (SDK-WIRE 4.5): plans, starts (claims), reports, yield, build lifecycle.

Each public function owns its transaction and raises ``Refusal`` with the reference registry's
code. Check order follows ``stardag.testing.InMemoryRegistry`` exactly, because the SDK branches
on which refusal comes first. Locks: the build row, then the plan row, then task rows in
task_id order (``registration.lock_tasks``); nothing locks in another order.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from accounts.models import User
from builds.models_v2 import TERMINAL_BUILD_STATUSES, Deployment, Plan, V2Build
from builds.services_v2 import deployment_is_current, plan_active, settings_store
from stardag_site.api.errors import Refusal
from tasks.models_v2 import (
    ACTIONABLE,
    Execution,
    InstanceEdge,
    PlanMember,
    V2Artifact,
    V2Event,
    V2Task,
    YieldBatch,
)
from tasks.v2.registration import (
    Item,
    close_claim,
    closure,
    event,
    lock_tasks,
    move,
    register_items,
    upstream_tasks_incomplete,
)
from workspaces.models import Environment

# ``(environment_id, keys) -> {key: (max_concurrent, in_use)}``; installed by the locks app,
# which owns the limit rows and sits above tasks (``locks.apps.LocksConfig.ready``).
LimitProvider = Callable[[Any, list[str]], dict[str, tuple[int, int]]]
_limit_provider: LimitProvider | None = None


def set_limit_provider(provider: LimitProvider | None) -> None:
    global _limit_provider
    _limit_provider = provider


DEFAULT_CLAIM_TTL = 3600
MAX_CLAIM_TTL = 86400
PREEMPT_GRACE = datetime.timedelta(seconds=120)


def transition(task: V2Task, applied: bool = True) -> dict[str, Any]:
    """The TransitionResult body: the task's state after the call."""
    return {"applied": applied, "status": task.status, "execution_id": task.execution_id,
            "claim_expires_at": task.claim_expires_at}


# -- builds -------------------------------------------------------------------------------

def build_create_v2(*, environment: Environment, user: User | None, build_id: uuid.UUID | None,
                    root_task_ids: list[str], name: str | None, description: str | None,
                    executor_metadata: dict[str, Any] | None) -> V2Build:
    """Insert-if-absent by the client id: a retried create returns the same build. A build is
    born ``running`` (a local build starts at once) with a ``build_started`` event."""
    if not root_task_ids:
        raise Refusal("invalid_request", "root_task_ids is required", status_code=422)
    build_id = build_id or uuid.uuid4()
    existing = V2Build.objects.filter(pk=build_id).first()
    if existing is None:
        now = timezone.now()
        try:
            with transaction.atomic():
                build = V2Build.objects.create(
                    id=build_id, environment=environment, user=user,
                    name=name or f"build-{now:%Y%m%d-%H%M%S}-{str(build_id)[-6:]}",
                    description=description, root_task_ids=sorted(set(root_task_ids)),
                    created_at=now, started_at=now, last_active_at=now,
                    executor_metadata=executor_metadata)
                V2Event.objects.create(environment=environment, build=build,
                                       event_type="build_started", created_at=now)
                return build
        except IntegrityError:
            existing = V2Build.objects.filter(pk=build_id).first()
            if existing is None:
                raise
    if existing.environment_id != environment.pk:
        raise Refusal("build_id_conflict", "build id already in use")
    return existing


def _release_build_claims(build: V2Build, now: datetime.datetime) -> None:
    """A terminal build releases the claims held through any of its plans: those tasks go
    ``cancelled`` (actionable for any other build)."""
    held = V2Task.objects.filter(environment_id=build.environment_id, status="running",
                                 claim_plan__build=build).values_list("task_id", flat=True)
    tasks = lock_tasks(build.environment_id, list(held))
    events = []
    for task in tasks.values():
        if task.status == "running" and task.claim_plan_id is not None:
            close_claim(task, "released", now)
            move(task, "cancelled", now)
            task.save()
            events.append(event(None, "task_cancelled", task=task, now=now,
                                environment_id=build.environment_id, build_id=build.pk))
    V2Event.objects.bulk_create(events)


def _locked_build(build: V2Build) -> V2Build:
    return V2Build.objects.select_for_update().get(pk=build.pk)


def build_finish(*, build: V2Build, status: str, error_message: str | None = None,
                 force: bool = False) -> V2Build:
    """complete / fail / cancel / exit_early. Terminal statuses are sticky: the same transition
    again is a no-op, another one is recorded ``report_applied=false`` (that record is
    committed) and refused ``build_terminal``. ``completed`` verifies the active plan."""
    now = timezone.now()
    with transaction.atomic():
        build = _locked_build(build)
        if build.status == status:
            return build
        refused = build.status in TERMINAL_BUILD_STATUSES
        if refused:
            V2Event.objects.create(environment_id=build.environment_id, build=build,
                                   event_type=f"build_{status}", report_applied=False,
                                   created_at=now, event_metadata={"refused": "build_terminal"})
        else:
            if status == "completed":
                _verify_plan_complete(build, force=force)
            build.status = status
            build.error_message = error_message if status == "failed" else None
            build.last_active_at = now
            if status in TERMINAL_BUILD_STATUSES:
                build.completed_at = now
            build.save()
            if status != "exit_early":
                _release_build_claims(build, now)
            V2Event.objects.create(environment_id=build.environment_id, build=build,
                                   event_type=f"build_{status}", created_at=now,
                                   error_message=error_message)
    if refused:
        raise Refusal("build_terminal", f"the build is {build.status.upper()}",
                      build_id=str(build.pk), build_status=build.status)
    return build


def _verify_plan_complete(build: V2Build, *, force: bool) -> None:
    plan = plan_active(build)
    if plan is None or plan.sealed_at is None:
        raise Refusal("plan_incomplete", "the plan is not sealed", reason="not_sealed")
    members = PlanMember.objects.filter(plan=plan).select_related("task")
    if any(m.is_root and m.excluded_reason for m in members):
        raise Refusal("plan_incomplete", "a root is excluded", reason="root_excluded")
    outstanding = sorted(m.task.task_id for m in members
                         if m.excluded_reason is None and m.task.status != "completed")
    if outstanding and not force:
        raise Refusal("plan_incomplete", "members are not completed",
                      reason="members_incomplete", task_ids=outstanding)


def build_resume(*, build: V2Build, deployment: Deployment | None,
                 settings: dict[str, str], executor_metadata: dict[str, Any] | None
                 ) -> tuple[V2Build, Plan | None, bool]:
    """Find the caller's scope's plan (re-activating a superseded one), and move a
    non-running build back to ``running`` with a ``build_resumed`` event."""
    from builds.services_v2 import settings_hash

    now = timezone.now()
    with transaction.atomic():
        build = _locked_build(build)
        changed = False
        plan = None
        if deployment is not None:
            plan = Plan.objects.filter(build=build, deployment=deployment,
                                       settings_hash=settings_hash(settings)).first()
            if plan is not None and plan.superseded_at is not None:
                if deployment.kind != "local" and not deployment_is_current(deployment):
                    raise Refusal("deployment_not_current")
                Plan.objects.filter(build=build, activated_at__isnull=False,
                                    superseded_at__isnull=True).update(superseded_at=now)
                plan.superseded_at = None
                plan.activated_at = now
                plan.save()
                changed = True
        if build.status != "running":
            build.status = "running"
            build.error_message = None
            build.completed_at = None
            changed = True
        if executor_metadata is not None:
            build.executor_metadata = executor_metadata
        if changed:
            build.is_resumed = True
            build.last_active_at = now
            V2Event.objects.create(environment_id=build.environment_id, build=build,
                                   event_type="build_resumed", created_at=now)
        build.save()
        return build, plan, changed


def build_skip_blocked(*, build: V2Build) -> tuple[list[str], Plan | None]:
    """Active-plan members in pending/suspended/interrupted with a failed, cancelled or
    skipped upstream become ``skipped``, transitively."""
    plan = plan_active(build)
    if build.status in ("cancelled", "completed") or plan is None:
        return [], plan
    now = timezone.now()
    skipped: list[str] = []
    with transaction.atomic():
        members = list(PlanMember.objects.filter(plan=plan).select_related("task"))
        tasks = lock_tasks(build.environment_id, [m.task.task_id for m in members])
        by_instance = {m.instance_id: tasks[m.task.task_id] for m in members}
        upstreams: dict[Any, list[Any]] = {}
        for down, up in InstanceEdge.objects.filter(
                downstream_id__in=list(by_instance)).values_list("downstream_id", "upstream_id"):
            upstreams.setdefault(down, []).append(up)
        upstream_status = {}
        for instance_id, task_pk in (V2Task.objects.filter(
                instances__downstream_edges__downstream_id__in=list(by_instance))
                .values_list("instances__id", "pk")):
            upstream_status[instance_id] = task_pk
        status_of = {t.pk: t for t in tasks.values()}
        extra = V2Task.objects.filter(pk__in=set(upstream_status.values()) - set(status_of))
        status_of.update({t.pk: t for t in extra})
        changed = True
        while changed:
            changed = False
            for member in members:
                task = tasks[member.task.task_id]
                if task.status not in ("pending", "suspended", "interrupted"):
                    continue
                states = {status_of[upstream_status[u]].status
                          for u in upstreams.get(member.instance_id, []) if u in upstream_status}
                if states & {"failed", "cancelled", "skipped"}:
                    move(task, "skipped", now)
                    task.save()
                    skipped.append(task.task_id)
                    changed = True
        V2Event.objects.bulk_create([event(plan, "task_skipped", task=tasks[t], now=now)
                                     for t in skipped])
    return skipped, plan


# -- plans --------------------------------------------------------------------------------

def plan_create(*, build: V2Build, plan_id: uuid.UUID, deployment_id: uuid.UUID,
                settings: Any, roots: list[Item]) -> tuple[Plan, bool]:
    """SDK-WIRE 4.5.2, checks in the reference's order; idempotent per (build, scope)."""
    if not roots:
        raise Refusal("no_roots", status_code=400)
    if any(r.declared_upstreams is not None for r in roots):
        raise Refusal("root_declared_upstreams", status_code=400)
    if {r.task_id for r in roots} != set(build.root_task_ids):
        raise Refusal("root_mismatch", status_code=400)
    deployment = Deployment.objects.filter(pk=deployment_id,
                                           environment_id=build.environment_id).first()
    if deployment is None:
        raise Refusal("unknown_deployment", status_code=400)
    if deployment.activated_at is None:
        raise Refusal("deployment_not_activated", status_code=400)
    with transaction.atomic():
        build = _locked_build(build)
        digest = settings_store(environment=build.environment, body=settings)
        existing = Plan.objects.filter(build=build, deployment=deployment,
                                       settings_hash=digest).first()
        if existing is not None:
            recorded = set(PlanMember.objects.filter(plan=existing, is_root=True)
                           .values_list("instance__instance_hash", flat=True))
            if recorded != {r.instance_hash for r in roots}:
                raise Refusal("root_instance_conflict", "start a new build")
            register_items(existing, roots, as_roots=True)
            return existing, False
        if Plan.objects.filter(pk=plan_id).exists():
            raise Refusal("plan_id_conflict")
        generation = 1 + (Plan.objects.filter(build=build).aggregate(m=Max("generation"))["m"]
                          or 0)
        now = timezone.now()
        plan = Plan.objects.create(id=plan_id, environment_id=build.environment_id, build=build,
                                   deployment=deployment, settings_hash=digest,
                                   generation=generation, created_at=now,
                                   activated_at=now if generation == 1 else None)
        register_items(plan, roots, as_roots=True)
        return plan, True


def plan_register(*, plan: Plan, items: list[Item]) -> dict[str, int]:
    if len(items) > 1000:
        raise Refusal("chunk_too_large", "at most 1000 items per chunk", status_code=400)
    with transaction.atomic():
        plan = Plan.objects.select_for_update().get(pk=plan.pk)
        return register_items(plan, items, as_roots=False)


def plan_seal(*, plan: Plan) -> Plan:
    with transaction.atomic():
        plan = Plan.objects.select_for_update().select_related("deployment").get(pk=plan.pk)
        if plan.sealed_at is not None:
            return plan
        closure(plan)
        for member in PlanMember.objects.filter(plan=plan, is_root=True).select_related(
                "instance", "task"):
            if member.instance.expanded_at is None and member.task.status != "completed":
                raise Refusal("plan_incomplete_registration", "a root is not expanded",
                              reason="roots_unexpanded")
        if plan.deployment.kind != "local" and not deployment_is_current(plan.deployment):
            raise Refusal("deployment_not_current")
        if Plan.objects.filter(build_id=plan.build_id, generation__gt=plan.generation).exists():
            raise Refusal("plan_superseded")
        now = timezone.now()
        plan.sealed_at = now
        if plan.activated_at is None:
            Plan.objects.filter(build_id=plan.build_id, activated_at__isnull=False,
                                superseded_at__isnull=True).update(superseded_at=now)
            plan.activated_at = now
        plan.save()
        return plan


# -- members ------------------------------------------------------------------------------

def _member(plan: Plan, task_id: str) -> PlanMember:
    member = (PlanMember.objects.filter(plan=plan, task__task_id=task_id)
              .select_related("instance").first())
    if member is None:
        if not V2Task.objects.filter(environment_id=plan.environment_id,
                                     task_id=task_id).exists():
            raise Refusal("unknown_task", f"no task {task_id}", status_code=404)
        raise Refusal("unknown_member", f"task {task_id} is not a member", status_code=404)
    return member


def _locked_task(plan: Plan, task_id: str) -> V2Task:
    task = lock_tasks(plan.environment_id, [task_id]).get(task_id)
    if task is None:
        raise Refusal("unknown_task", f"no task {task_id}", status_code=404)
    return task


def _ttl(seconds: int | None) -> datetime.timedelta:
    seconds = DEFAULT_CLAIM_TTL if seconds is None else seconds
    if not 0 < seconds <= MAX_CLAIM_TTL:
        raise Refusal("invalid_claim_ttl", "claim_ttl_seconds must be in (0, 86400]",
                      status_code=400)
    return datetime.timedelta(seconds=seconds)


def _check_claim_plan(task: V2Task, plan: Plan, *, build_level: bool = False) -> None:
    if task.claim_plan_id == plan.pk:
        return
    if (build_level and task.claim_plan_id is not None
            and Plan.objects.filter(pk=task.claim_plan_id, build_id=plan.build_id).exists()):
        return
    raise Refusal("not_claim_holder")


def member_start(*, plan: Plan, task_id: str, execution_id: uuid.UUID, claim: bool,
                 claim_ttl_seconds: int | None, executor: str | None,
                 executor_ref: str | None, executor_metadata: dict[str, Any] | None,
                 limit_keys: list[str]) -> dict[str, Any]:
    """SDK-WIRE 4.5.4: the claiming start is the only mutual exclusion of v2; the task row is
    locked, so of two concurrent starts exactly one is granted."""
    full: list[str] = []
    with transaction.atomic():
        member = _member(plan, task_id)
        task = _locked_task(plan, task_id)
        plan = Plan.objects.get(pk=plan.pk)
        now = timezone.now()
        if not claim:
            execution = Execution.objects.filter(pk=execution_id, task=task).first()
            if execution is None:
                raise Refusal("unknown_execution")
            if (task.execution_id != execution_id or execution.claim_released_at is not None
                    or execution.ended_at is not None):
                raise Refusal("execution_not_current")
            _check_claim_plan(task, plan)
            if task.preempted_at is not None:
                task.claim_expires_at = now + _ttl(claim_ttl_seconds)
                task.preempted_at = None
                task.save()
            for name, value in (("executor", executor), ("executor_ref", executor_ref),
                                ("executor_metadata", executor_metadata)):
                if value is not None:
                    setattr(execution, name, value)
            execution.save()
            return transition(task)
        if task.execution_id == execution_id and task.live(now):
            return transition(task, applied=False)
        if task.status == "completed":
            raise Refusal("task_already_completed")
        if task.live(now):
            raise Refusal("task_already_running")
        if Execution.objects.filter(pk=execution_id).exists():
            raise Refusal("execution_superseded")
        if not plan.is_active:
            raise Refusal("plan_superseded")
        build_status = V2Build.objects.filter(pk=plan.build_id).values_list(
            "status", flat=True).get()
        if build_status != "running":
            raise Refusal("build_not_running", f"the build is {build_status}",
                          build_status=build_status)
        if member.excluded_reason is not None:
            raise Refusal("member_excluded")
        if member.instance.expanded_at is None:
            raise Refusal("upstream_incomplete", "the instance is not expanded",
                          reason="not_expanded")
        if upstream_tasks_incomplete(member.instance):
            raise Refusal("upstream_incomplete", "an upstream task is not completed")
        keys = sorted(set(limit_keys))
        if keys and _limit_provider is not None:
            full = [key for key, (cap, used) in
                    _limit_provider(plan.environment_id, keys).items() if used >= cap]
        if not full:
            return _grant(task=task, plan=plan, member=member, execution_id=execution_id,
                          ttl=_ttl(claim_ttl_seconds), executor=executor,
                          executor_ref=executor_ref, executor_metadata=executor_metadata,
                          limit_keys=keys, now=now)
        # As upstream and the reference: the keys are kept although the start is refused.
        task.limit_keys = keys
        task.save(update_fields=["limit_keys"])
    raise Refusal("concurrency_limit_reached", "a concurrency limit is full", keys=full)


def _grant(*, task: V2Task, plan: Plan, member: PlanMember, execution_id: uuid.UUID,
           ttl: datetime.timedelta, executor: str | None, executor_ref: str | None,
           executor_metadata: dict[str, Any] | None, limit_keys: list[str],
           now: datetime.datetime) -> dict[str, Any]:
    """The claim: a ledger row, the task running under it, a ``task_started`` event."""
    if task.status == "running":
        close_claim(task, "taken_over", now)
    Execution.objects.create(id=execution_id, environment_id=plan.environment_id,
                             task=task, plan=plan, instance=member.instance,
                             executor=executor, executor_ref=executor_ref,
                             executor_metadata=executor_metadata, started_at=now)
    task.limit_keys = limit_keys
    task.claim_plan = plan
    task.execution_id = execution_id
    task.claim_expires_at = now + ttl
    task.started_at = now
    task.error_message = None
    move(task, "running", now)
    task.save()
    V2Event.objects.create(environment_id=plan.environment_id, build_id=plan.build_id,
                           plan=plan, task=task, execution_id=execution_id,
                           event_type="task_started", created_at=now)
    return transition(task)


REPORT_STATUS = {"completed": "completed", "failed": "failed", "interrupted": "interrupted",
                 "suspended": "suspended"}


def _apply_report(plan: Plan, task: V2Task, execution_id: uuid.UUID, outcome: str,
                  error_message: str | None, now: datetime.datetime) -> bool:
    """Record the execution's end; apply it when current. False = a late report, recorded
    ``report_applied=false`` (the caller commits that record, then refuses)."""
    execution = Execution.objects.select_for_update().filter(pk=execution_id, task=task).first()
    if execution is None:
        raise Refusal("unknown_execution")
    if execution.ended_at is not None:
        raise Refusal("execution_already_ended")
    current = task.execution_id == execution_id and execution.claim_released_at is None
    if current:
        _check_claim_plan(task, plan)
    execution.ended_at = now
    execution.outcome = outcome
    execution.save(update_fields=["ended_at", "outcome"])
    status = REPORT_STATUS[outcome]
    if not current:
        V2Event.objects.create(environment_id=plan.environment_id, build_id=plan.build_id,
                               plan=plan, task=task, execution_id=execution_id,
                               event_type=f"task_{status}", report_applied=False,
                               error_message=error_message, created_at=now)
        return False
    close_claim(task, outcome, now)
    move(task, status, now)
    if status == "completed":
        task.completed_at = now
        task.error_message = None
    elif status in ("failed", "interrupted"):
        task.error_message = error_message
    task.save()
    V2Event.objects.create(environment_id=plan.environment_id, build_id=plan.build_id,
                           plan=plan, task=task, execution_id=execution_id,
                           event_type=f"task_{status}", error_message=error_message,
                           created_at=now)
    return True


def member_report(*, plan: Plan, task_id: str, execution_id: uuid.UUID, outcome: str,
                  error_message: str | None = None) -> dict[str, Any]:
    """complete / fail / interrupt (SDK-WIRE 4.5.5). A late report is kept as history and
    refused ``execution_not_current``, which the SDK treats as silent."""
    with transaction.atomic():
        _member(plan, task_id)
        task = _locked_task(plan, task_id)
        applied = _apply_report(plan, task, execution_id, outcome, error_message, timezone.now())
        result = transition(task)
    if not applied:
        raise Refusal("execution_not_current", "the execution no longer holds the claim")
    return result


def member_yield(*, plan: Plan, task_id: str, execution_id: uuid.UUID,
                 deployment_id: uuid.UUID, batch_id: uuid.UUID, items: list[Item],
                 yielded: list[str], suspend: bool) -> dict[str, Any]:
    """Register the children, add dynamic parent→child edges and optionally suspend, at once;
    a re-delivered (execution, batch) returns the stored answer with ``replayed=true``."""
    stored = YieldBatch.objects.filter(execution_id=execution_id, batch_id=batch_id,
                                       execution__environment_id=plan.environment_id).first()
    if stored is not None:
        return {**stored.result, "replayed": True}
    with transaction.atomic():
        if deployment_id != plan.deployment_id:
            raise Refusal("deployment_mismatch")
        member = _member(plan, task_id)
        task = _locked_task(plan, task_id)
        execution = Execution.objects.filter(pk=execution_id, task=task).first()
        if (execution is None or task.execution_id != execution_id
                or execution.claim_released_at is not None):
            raise Refusal("execution_not_current")
        _check_claim_plan(task, plan)
        if not set(yielded) <= {i.instance_hash for i in items}:
            raise Refusal("yielded_not_in_items", status_code=400)
        plan = Plan.objects.select_for_update().get(pk=plan.pk)
        counts = register_items(plan, items, as_roots=False, dynamic=set(yielded))
        from tasks.models_v2 import TaskInstance

        children = TaskInstance.objects.filter(deployment_id=plan.deployment_id,
                                               settings_hash=plan.settings_hash,
                                               instance_hash__in=yielded)
        present = set(InstanceEdge.objects.filter(downstream=member.instance)
                      .values_list("upstream_id", flat=True))
        fresh = [InstanceEdge(downstream=member.instance, upstream=c, is_dynamic=True)
                 for c in children if c.pk not in present]
        InstanceEdge.objects.bulk_create(fresh, ignore_conflicts=True)
        now = timezone.now()
        V2Event.objects.create(environment_id=plan.environment_id, build_id=plan.build_id,
                               plan=plan, task=task, execution_id=execution_id,
                               event_type="task_yielded", created_at=now)
        task.refresh_from_db()
        if suspend:
            _apply_report(plan, task, execution_id, "suspended", None, now)
        result = {"members": counts, "dynamic_edges_created": len(fresh),
                  "status": task.status, "execution_id": str(task.execution_id),
                  "claim_expires_at": (task.claim_expires_at.isoformat()
                                       if task.claim_expires_at else None),
                  "replayed": False}
        YieldBatch.objects.create(execution=execution, batch_id=batch_id, result=result)
        return result


def member_retry(*, plan: Plan, task_id: str) -> dict[str, Any]:
    with transaction.atomic():
        _member(plan, task_id)
        task = _locked_task(plan, task_id)
        now = timezone.now()
        if task.status == "completed":
            raise Refusal("task_already_completed")
        if task.live(now):
            raise Refusal("task_already_running")
        if task.status == "pending":
            return transition(task, applied=False)
        if task.status == "running":
            close_claim(task, "lapsed", now)
        move(task, "pending", now)
        task.error_message = None
        task.save()
        return transition(task)


def member_skip(*, plan: Plan, task_id: str) -> dict[str, Any]:
    with transaction.atomic():
        task = _locked_task(plan, task_id)
        now = timezone.now()
        if task.status == "skipped":
            return transition(task, applied=False)
        if task.status == "completed":
            raise Refusal("task_already_completed")
        if task.live(now):
            raise Refusal("task_already_running")
        if task.status in ("failed", "cancelled"):
            raise Refusal("task_not_skippable")
        if task.status == "running":
            close_claim(task, "lapsed", now)
        move(task, "skipped", now)
        task.save()
        return transition(task)


def member_cancel(*, plan: Plan, task_id: str) -> dict[str, Any]:
    with transaction.atomic():
        task = _locked_task(plan, task_id)
        now = timezone.now()
        if task.status == "running" and task.live(now):
            _check_claim_plan(task, plan, build_level=True)
            close_claim(task, "cancelled", now)
            move(task, "cancelled", now)
            task.save()
        return transition(task)


def claim_renew(*, environment: Environment, task_id: str, execution_id: uuid.UUID,
                claim_ttl_seconds: int | None) -> dict[str, Any]:
    with transaction.atomic():
        task = lock_tasks(environment.pk, [task_id]).get(task_id)
        if task is None:
            raise Refusal("unknown_task", f"no task {task_id}", status_code=404)
        now = timezone.now()
        if task.execution_id != execution_id or not task.live(now):
            outcome = (Execution.objects.filter(pk=execution_id, task=task)
                       .values_list("claim_outcome", flat=True).first())
            raise Refusal("claim_not_held", "this execution holds no live claim",
                          claim_outcome=outcome)
        task.claim_expires_at = now + _ttl(claim_ttl_seconds)
        task.preempted_at = None
        task.save(update_fields=["claim_expires_at", "preempted_at"])
        return transition(task)


def artifacts_upload(*, plan: Plan, task_id: str, artifacts: list[dict[str, Any]]) -> None:
    """Upsert by (task, type, name): the body is replaced, id and created_at kept."""
    member = PlanMember.objects.filter(plan=plan, task__task_id=task_id).select_related(
        "task").first()
    if member is None:
        raise Refusal("not_a_member", f"task {task_id} is not a member of plan {plan.pk}",
                      status_code=404)
    with transaction.atomic():
        for artifact in artifacts:
            V2Artifact.objects.update_or_create(
                task=member.task, artifact_type=artifact["type"], name=artifact["name"],
                defaults={"body": artifact.get("body")})


def execution_counts(build_id: Any) -> dict[str, tuple[int, int]]:
    """``(attempts, interruptions)`` per task id over the executions of all the build's plans
    (SDK-WIRE 4.5.7): attempts are execution rows; interruptions are rows whose claim ended
    ``interrupted`` or whose outcome is ``interrupted`` or ``preempted``."""
    counts: dict[str, tuple[int, int]] = {}
    for task_id, claim_outcome, outcome in Execution.objects.filter(
            plan__build_id=build_id).values_list("task__task_id", "claim_outcome", "outcome"):
        attempts, interruptions = counts.get(task_id, (0, 0))
        interrupted = claim_outcome == "interrupted" or outcome in ("interrupted", "preempted")
        counts[task_id] = (attempts + 1, interruptions + interrupted)
    return counts


def frontier_members(plan: Plan) -> dict[str, Any]:
    """SDK-WIRE 4.5.7 after the closure step: runnable, discovery jobs, running, and what the
    closure step admitted (``closure``; a closure conflict is refused as in registration, so
    ``conflicts`` stays empty and nothing fails the build here)."""
    with transaction.atomic():
        admitted = closure(plan)
    now = timezone.now()
    members = list(PlanMember.objects.filter(plan=plan, excluded_reason__isnull=True)
                   .select_related("task", "instance"))
    members.sort(key=lambda m: m.task.task_id)
    completed_upstream: dict[uuid.UUID, bool] = {}
    for down, status in InstanceEdge.objects.filter(
            downstream__in=[m.instance_id for m in members]).values_list(
            "downstream_id", "upstream__task__status"):
        completed_upstream[down] = completed_upstream.get(down, True) and status == "completed"
    executions = execution_counts(plan.build_id)
    runnable, discovery, running = [], [], []
    complete = plan.sealed_at is not None
    for member in members:
        task = member.task
        if task.status != "completed":
            complete = False
        live = task.live(now)
        actionable = task.status in ACTIONABLE or (task.status == "running" and not live)
        if live:
            running.append(_frontier_member(member, executions, running=True))
        elif member.instance.expanded_at is None:
            if task.status != "completed":
                discovery.append(_frontier_member(member, None))
        elif actionable and completed_upstream.get(member.instance_id, True):
            runnable.append(_frontier_member(member, executions))
    return {"runnable": runnable, "discovery_jobs": discovery, "running": running,
            "plan_complete": complete,
            "closure": {"admitted": admitted, "conflicts": [], "build_failed": False}}


def _frontier_member(member: PlanMember, executions: dict[str, tuple[int, int]] | None, *,
                     running: bool = False) -> dict[str, Any]:
    """One FrontierMember; ``executions`` gives (attempts, interruptions) per task id, or is
    ``None`` where the counts are not served (zero)."""
    task = member.task
    attempts, interruptions = (executions or {}).get(task.task_id, (0, 0))
    return {"task_id": task.task_id, "instance_id": member.instance_id,
            "instance_hash": member.instance.instance_hash, "status": task.status,
            "is_root": member.is_root, "body": member.instance.body, "attempts": attempts,
            "interruptions": interruptions,
            "restart_expected_by": (task.claim_expires_at
                                    if running and task.preempted_at else None)}
