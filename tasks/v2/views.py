"""``/api/v2`` routes that touch tasks (SDK-WIRE 4.4): build creation and lifecycle, plans and
members, claims, reports, yield, artifacts, and the reads the 0.28 CLI uses.

Views parse and validate (422 items), resolve ids through the caller's environment (another
environment's id is a 404 with the v2 code, and nothing is written), call one service, and
shape the answer the SDK's response model reads.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import Count, Q
from rest_framework.request import Request
from rest_framework.response import Response

from builds.models_v2 import Deployment, Plan
from builds.services_v2 import plan_active
from builds.views_v2 import BuildListView, V2View, build_info, deployment_info, plan_info
from stardag_site.api.errors import Refusal, RequestValidationError, validation_item
from stardag_site.api.params import query_bool, query_int, query_str
from stardag_site.api.v2 import Body, body_of, decode_cursor, encode_cursor, v2_doc
from tasks.models_v2 import Execution, InstanceEdge, PlanMember, V2Artifact, V2Event, V2Task
from tasks.v2 import services
from tasks.v2.registration import Item


def parse_items(raw: Any, name: str, *, maximum: int | None = None,
                minimum: int = 0) -> list[Item]:
    if not isinstance(raw, list):
        raise RequestValidationError([validation_item(["body", name], "Input should be a "
                                                      "valid list", "list_type", raw)])
    if len(raw) < minimum:
        raise RequestValidationError([validation_item(["body", name], "List should have at "
                                                      f"least {minimum} item", "too_short",
                                                      raw)])
    if maximum is not None and len(raw) > maximum:
        raise Refusal("chunk_too_large", f"at most {maximum} items", status_code=400)
    items = []
    for index, entry in enumerate(raw):
        body = Body(entry, ("body", name, index))
        upstreams = body.list("declared_upstreams")
        if upstreams is not None and not all(isinstance(u, str) for u in upstreams):
            raise RequestValidationError([validation_item(
                ["body", name, index, "declared_upstreams"], "Input should be a list of "
                "strings", "string_type", upstreams)])
        items.append(Item(
            task_id=body.str("task_id", required=True, max_length=64) or "",
            task_namespace=body.str("task_namespace", default="", max_length=255) or "",
            task_name=body.str("task_name", required=True, max_length=255) or "",
            version=body.str("version", max_length=64),
            output_uri=body.str("output_uri", max_length=2048),
            instance_hash=body.str("instance_hash", required=True, max_length=64) or "",
            body=body.dict("body", required=True) or {},
            declared_upstreams=upstreams,
            observed_complete=body.bool("observed_complete", False),
            observed_at=body.datetime("observed_at"),
        ))
    return items


def execution_info(execution: Execution, active_plan_ids: set[Any]) -> dict[str, Any]:
    return {
        "id": execution.pk, "task_id": execution.task.task_id,
        "build_id": execution.plan.build_id, "plan_id": execution.plan_id,
        "instance_id": execution.instance_id, "executor": execution.executor,
        "executor_ref": execution.executor_ref,
        "executor_metadata": execution.executor_metadata,
        "in_current_plan": execution.plan_id in active_plan_ids,
        "started_at": execution.started_at, "claim_released_at": execution.claim_released_at,
        "claim_outcome": execution.claim_outcome, "ended_at": execution.ended_at,
        "outcome": execution.outcome,
    }


def task_info(task: V2Task, *, instances: bool = False) -> dict[str, Any]:
    info: dict[str, Any] = {
        "task_id": task.task_id, "task_namespace": task.task_namespace,
        "task_name": task.task_name, "version": task.version, "output_uri": task.output_uri,
        "status": task.status, "status_at": task.status_at, "started_at": task.started_at,
        "completed_at": task.completed_at, "error_message": task.error_message,
        "claim_expires_at": task.claim_expires_at, "claim_plan_id": task.claim_plan_id,
        "claim_build_id": task.claim_plan.build_id if task.claim_plan else None,
        "execution_id": task.execution_id,
    }
    if instances:
        info["instances"] = [
            {"id": i.pk, "deployment_id": i.deployment_id, "settings_hash": i.settings_hash,
             "instance_hash": i.instance_hash, "body": i.body, "expanded_at": i.expanded_at,
             "created_at": i.created_at}
            for i in task.instances.order_by("-created_at", "-id")]
    return info


class TaskScoped(V2View):
    def task(self, task_id: str) -> V2Task:
        return self.scoped_row(V2Task.objects.select_related("claim_plan"), "unknown_task",
                               f"no task {task_id}", task_id=task_id)


# -- builds ---------------------------------------------------------------------------------

class BuildsView(BuildListView):
    @v2_doc("Create a build",
            "Idempotent on the id you send: a retried create returns the same build. "
            "`root_task_ids` needs at least one id.", body=True)
    def post(self, request: Request) -> Response:
        body = body_of(request)
        roots = body.list("root_task_ids", required=True) or []
        if not all(isinstance(r, str) for r in roots):
            raise RequestValidationError([validation_item(["body", "root_task_ids"],
                                                          "Input should be a list of strings",
                                                          "string_type", roots)])
        build = services.build_create_v2(
            environment=self.environment, user=self.principal.user,
            build_id=body.uuid("id"), root_task_ids=roots,
            name=body.str("name", max_length=255), description=body.str("description"),
            executor_metadata=body.dict("executor_metadata"))
        return Response(build_info(build))


class BuildFinishView(V2View):
    action = "completed"

    def post(self, request: Request, build_id: str) -> Response:
        build = self.build(build_id)
        body = body_of(request)
        build = services.build_finish(
            build=build, status=self.action,
            error_message=body.str("error_message") if self.action == "failed" else None,
            force=body.bool("force", False) if self.action == "completed" else False)
        return Response(build_info(build))


def _finish(action: str, summary: str, description: str) -> type[BuildFinishView]:
    post = v2_doc(summary, description, body=action in ("completed", "failed"))(
        BuildFinishView.post)
    return type(f"Build{action.title()}View", (BuildFinishView,),
                {"action": action, "post": post, "__doc__": summary})


BuildCompleteView = _finish(
    "completed", "Complete a build",
    "Verifies that the active plan is sealed and every member completed (`force` skips the "
    "member check); releases the build's claims. A terminal build is refused `build_terminal`.")
BuildFailView = _finish("failed", "Fail a build",
                        "Stores `error_message` and releases the build's claims.")
BuildCancelView = _finish("cancelled", "Cancel a build", "Releases the build's claims.")
BuildExitEarlyView = _finish("exit_early", "Exit a build early", "Releases nothing.")


class BuildResumeView(V2View):
    @v2_doc("Resume a build",
            "Finds the plan of your scope (re-activating a superseded one) and moves a "
            "finished build back to running.", body=True)
    def post(self, request: Request, build_id: str) -> Response:
        build = self.build(build_id)
        body = body_of(request)
        deployment = None
        deployment_id = body.uuid("deployment_id")
        if deployment_id is not None:
            deployment = self.scoped_row(Deployment.objects.all(), "unknown_deployment",
                                         pk=deployment_id)
        settings = body.dict("settings") or {}
        build, plan, changed = services.build_resume(
            build=build, deployment=deployment, settings=settings,
            executor_metadata=body.dict("executor_metadata"))
        return Response({"build": build_info(build),
                         "plan": plan_info(plan) if plan is not None else None,
                         "changed": changed})


class BuildPlansView(V2View):
    @v2_doc("Create a plan",
            "Binds the build to a scope (deployment, settings) and registers its roots; "
            "idempotent per scope.", body=True)
    def post(self, request: Request, build_id: str) -> Response:
        build = self.build(build_id)
        body = body_of(request)
        plan_id = body.uuid("plan_id", required=True)
        deployment_id = body.uuid("deployment_id", required=True)
        roots = parse_items(body.data.get("roots", []), "roots")
        plan, created = services.plan_create(
            build=build, plan_id=plan_id, deployment_id=deployment_id,
            settings=body.data.get("settings") or {}, roots=roots)
        return Response(plan_info(plan, created=created))

    @v2_doc("List a build's plans", "Newest generation first.")
    def get(self, request: Request, build_id: str) -> Response:
        build = self.build(build_id)
        return Response({"plans": [plan_detail(p) for p in
                                   Plan.objects.filter(build=build).select_related("deployment")
                                   .order_by("-generation")]})


def plan_detail(plan: Plan) -> dict[str, Any]:
    counts = dict(PlanMember.objects.filter(plan=plan, excluded_reason__isnull=True)
                  .values_list("task__status").annotate(n=Count("id")).values_list(
                      "task__status", "n"))
    members = PlanMember.objects.filter(plan=plan)
    return {**plan_info(plan), "deployment": deployment_info(plan.deployment),
            "created_at": plan.created_at, "is_active": plan.is_active,
            "member_count": members.count(), "root_count": members.filter(is_root=True).count(),
            "excluded_count": members.filter(excluded_reason__isnull=False).count(),
            "member_counts": counts}


class BuildSkipBlockedView(V2View):
    @v2_doc("Skip blocked members",
            "Members waiting on a failed, cancelled or skipped upstream become skipped, "
            "transitively.")
    def post(self, request: Request, build_id: str) -> Response:
        skipped, plan = services.build_skip_blocked(build=self.build(build_id))
        return Response({"skipped": skipped, "plan_id": plan.pk if plan else None})


class BuildFrontierView(V2View):
    @v2_doc("A build's frontier",
            "The active plan's runnable members, discovery jobs and running members.")
    def get(self, request: Request, build_id: str) -> Response:
        build = self.build(build_id)
        plan = plan_active(build)
        base: dict[str, Any] = {"build_id": build.pk, "build_status": build.status,
                                "reactive_app_name": build.reactive_app_name,
                                "reactive_tick_kwargs": build.reactive_tick_kwargs,
                                "plan_id": None}
        if plan is None:
            return Response(base)
        state = services.frontier_members(plan)
        return Response({**base, "plan_id": plan.pk, "deployment_id": plan.deployment_id,
                         "settings_hash": plan.settings_hash,
                         "sealed": plan.sealed_at is not None,
                         **state})


class BuildExecutionsView(V2View):
    @v2_doc("A build's executions",
            "Executions of any of the build's plans; by default only those with no end.")
    def get(self, request: Request, build_id: str) -> Response:
        build = self.build(build_id)
        rows = Execution.objects.filter(plan__build=build).select_related("task", "plan")
        if not query_bool(request, "include_ended", False):
            rows = rows.filter(ended_at__isnull=True)
        active = {p.pk for p in [plan_active(build)] if p is not None}
        infos = [execution_info(e, active) for e in rows.order_by("started_at", "id")]
        if query_bool(request, "not_in_current_plan", False):
            infos = [i for i in infos if not i["in_current_plan"]]
        return Response({"executions": infos})


# -- plans and members ------------------------------------------------------------------------

class PlanMembersView(V2View):
    @v2_doc("Register plan members",
            "One chunk of at most 1000 registration items, in one transaction.", body=True)
    def post(self, request: Request, plan_id: str) -> Response:
        plan = self.plan(plan_id)
        items = parse_items(body_of(request).data.get("items"), "items", maximum=1000)
        return Response(services.plan_register(plan=plan, items=items))


class PlanSealView(V2View):
    @v2_doc("Seal a plan", "Runs the closure, verifies the roots and activates a replacement.")
    def post(self, request: Request, plan_id: str) -> Response:
        return Response(plan_info(services.plan_seal(plan=self.plan(plan_id))))


class PlanDetailView(V2View):
    @v2_doc("Get a plan", "A plan with its deployment and member counts.")
    def get(self, request: Request, plan_id: str) -> Response:
        return Response(plan_detail(self.plan(plan_id)))


def _member_row(member: PlanMember) -> dict[str, Any]:
    return {"task_id": member.task.task_id, "instance_id": member.instance_id,
            "instance_hash": member.instance.instance_hash, "status": member.task.status,
            "is_root": member.is_root, "body": member.instance.body, "attempts": 0,
            "interruptions": 0, "restart_expected_by": None}


class PlanRootsView(V2View):
    @v2_doc("A plan's roots", "The root members with their instance bodies.")
    def get(self, request: Request, plan_id: str) -> Response:
        plan = self.plan(plan_id)
        roots = PlanMember.objects.filter(plan=plan, is_root=True).select_related(
            "task", "instance")
        return Response({"plan_id": plan.pk, "build_id": plan.build_id,
                         "deployment_id": plan.deployment_id,
                         "settings_hash": plan.settings_hash,
                         "roots": [_member_row(m) for m in roots]})


class PlanGraphView(V2View):
    @v2_doc("A plan's graph", "Every member with its status, and the recorded edges between "
            "the members' instances (dynamic ones marked).")
    def get(self, request: Request, plan_id: str) -> Response:
        plan = self.plan(plan_id)
        members = list(PlanMember.objects.filter(plan=plan).select_related("task", "instance")
                       .order_by("task__task_id"))
        instance_ids = [m.instance_id for m in members]
        counts = services.execution_counts(plan.build_id)
        edges = InstanceEdge.objects.filter(downstream_id__in=instance_ids,
                                            upstream_id__in=instance_ids)
        return Response({
            "plan_id": plan.pk, "build_id": plan.build_id, "deployment_id": plan.deployment_id,
            "settings_hash": plan.settings_hash,
            "members": [{
                "task_id": m.task.task_id, "instance_id": m.instance_id,
                "instance_hash": m.instance.instance_hash,
                "task_namespace": m.task.task_namespace, "task_name": m.task.task_name,
                "status": m.task.status, "is_root": m.is_root, "admitted_by": m.admitted_by,
                "excluded_at": m.excluded_at, "excluded_reason": m.excluded_reason,
                "attempts": counts.get(m.task.task_id, (0, 0))[0],
                "interruptions": counts.get(m.task.task_id, (0, 0))[1],
            } for m in members],
            "edges": [{"upstream_instance_id": e.upstream_id,
                       "downstream_instance_id": e.downstream_id, "is_dynamic": e.is_dynamic}
                      for e in edges.order_by("id")],
        })


class MemberStartView(V2View):
    @v2_doc("Start a member",
            "A claiming start grants the task's claim to your execution id; refusals carry "
            "`detail.code` (task_already_running, upstream_incomplete, ...).", body=True)
    def post(self, request: Request, plan_id: str, task_id: str) -> Response:
        plan = self.plan(plan_id)
        body = body_of(request)
        keys = body.list("limit_keys") or []
        return Response(services.member_start(
            plan=plan, task_id=task_id, execution_id=body.uuid("execution_id", required=True),
            claim=body.bool("claim", True), claim_ttl_seconds=body.int("claim_ttl_seconds"),
            executor=body.str("executor", max_length=32),
            executor_ref=body.str("executor_ref", max_length=255),
            executor_metadata=body.dict("executor_metadata"),
            limit_keys=[str(k) for k in keys]))


class MemberReportView(V2View):
    outcome = "completed"

    def post(self, request: Request, plan_id: str, task_id: str) -> Response:
        plan = self.plan(plan_id)
        body = body_of(request)
        return Response(services.member_report(
            plan=plan, task_id=task_id, execution_id=body.uuid("execution_id", required=True),
            outcome=self.outcome, error_message=body.str("error_message")))


def _report(outcome: str, summary: str, description: str) -> type[MemberReportView]:
    post = v2_doc(summary, description, body=True)(MemberReportView.post)
    return type(f"Member{outcome.title()}View", (MemberReportView,),
                {"outcome": outcome, "post": post, "__doc__": summary})


MemberCompleteView = _report("completed", "Report a member completed",
                             "The execution's report; a late one is refused "
                             "`execution_not_current` and kept as history.")
MemberFailView = _report("failed", "Report a member failed", "Stores `error_message`.")
MemberInterruptView = _report("interrupted", "Report a member interrupted",
                              "Stores `error_message`.")


class MemberYieldView(V2View):
    @v2_doc("Yield dynamic dependencies",
            "Registers the children, adds dynamic edges and optionally suspends, at once; a "
            "re-delivered batch returns the stored answer.", body=True)
    def post(self, request: Request, plan_id: str, task_id: str) -> Response:
        plan = self.plan(plan_id)
        body = body_of(request)
        items = parse_items(body.data.get("items"), "items", maximum=1000, minimum=1)
        yielded = body.list("yielded", required=True) or []
        return Response(services.member_yield(
            plan=plan, task_id=task_id, execution_id=body.uuid("execution_id", required=True),
            deployment_id=body.uuid("deployment_id", required=True),
            batch_id=body.uuid("batch_id", required=True), items=items,
            yielded=[str(y) for y in yielded], suspend=body.bool("suspend", False)))


class MemberActionView(V2View):
    action = "retry"

    def post(self, request: Request, plan_id: str, task_id: str) -> Response:
        plan = self.plan(plan_id)
        service = {"retry": services.member_retry, "skip": services.member_skip,
                   "cancel": services.member_cancel}[self.action]
        return Response(service(plan=plan, task_id=task_id))


def _action(action: str, summary: str, description: str) -> type[MemberActionView]:
    post = v2_doc(summary, description)(MemberActionView.post)
    return type(f"Member{action.title()}View", (MemberActionView,),
                {"action": action, "post": post, "__doc__": summary})


MemberRetryView = _action("retry", "Retry a member", "Back to pending (a no-op when pending).")
MemberSkipView = _action("skip", "Skip a member", "Pending, suspended or interrupted → skipped.")
MemberCancelView = _action("cancel", "Cancel a running member",
                           "Only the build holding the claim may cancel it.")


class MemberArtifactsView(V2View):
    @v2_doc("Upload a member's artifacts",
            "Upserts by (type, name) on the task; markdown bodies are `{content}`.", body=True)
    def post(self, request: Request, plan_id: str, task_id: str) -> Response:
        plan = self.plan(plan_id)
        body = body_of(request)
        raw = body.list("artifacts", required=True) or []
        artifacts = []
        for index, entry in enumerate(raw):
            item = Body(entry, ("body", "artifacts", index))
            artifacts.append({"type": item.str("type", required=True, max_length=50),
                              "name": item.str("name", required=True, max_length=255),
                              "body": item.data.get("body")})
        services.artifacts_upload(plan=plan, task_id=task_id, artifacts=artifacts)
        return Response({"artifacts": [{"type": a["type"], "name": a["name"]}
                                       for a in artifacts]})


# -- tasks --------------------------------------------------------------------------------------

class ClaimRenewView(TaskScoped):
    @v2_doc("Renew a claim", "Extends the live claim your execution holds; otherwise "
            "`claim_not_held`.", body=True)
    def post(self, request: Request, task_id: str) -> Response:
        body = body_of(request)
        return Response(services.claim_renew(
            environment=self.environment, task_id=task_id,
            execution_id=body.uuid("execution_id", required=True),
            claim_ttl_seconds=body.int("claim_ttl_seconds")))


class TaskListView(TaskScoped):
    @v2_doc("List tasks", "Most recent status change first, with an opaque cursor.",
            operation_id="api_v2_tasks_list")
    def get(self, request: Request) -> Response:
        rows = self.scoped(V2Task.objects.all()).select_related("claim_plan")
        status = query_str(request, "status")
        if status:
            rows = rows.filter(status__in=status.split(","))
        limit = query_int(request, "limit", 100, minimum=1, maximum=500)
        cursor = decode_cursor(query_str(request, "cursor"), 2)
        if cursor is not None:
            at = datetime.datetime.fromisoformat(cursor[0])
            rows = rows.filter(Q(status_at__lt=at) | Q(status_at=at, id__lt=cursor[1]))
        page = list(rows.order_by("-status_at", "-id")[: limit + 1])
        next_cursor = None
        if len(page) > limit:
            page = page[:limit]
            next_cursor = encode_cursor(page[-1].status_at.isoformat(), page[-1].pk)
        return Response({"tasks": [task_info(t) for t in page], "next_cursor": next_cursor})


class TaskDetailView(TaskScoped):
    @v2_doc("Get a task", "A completion's state and its instances, newest first.")
    def get(self, request: Request, task_id: str) -> Response:
        return Response(task_info(self.task(task_id), instances=True))


class TaskArtifactsView(TaskScoped):
    @v2_doc("A task's artifacts", "Every artifact uploaded for the task.")
    def get(self, request: Request, task_id: str) -> Response:
        task = self.task(task_id)
        return Response({"artifacts": [
            {"id": a.pk, "task_id": task.task_id, "artifact_type": a.artifact_type,
             "name": a.name, "body": a.body, "created_at": a.created_at}
            for a in V2Artifact.objects.filter(task=task)]})


class TaskExecutionsView(TaskScoped):
    @v2_doc("A task's executions", "Newest first.")
    def get(self, request: Request, task_id: str) -> Response:
        task = self.task(task_id)
        rows = Execution.objects.filter(task=task).select_related("task", "plan__build")
        if not query_bool(request, "include_ended", True):
            rows = rows.filter(ended_at__isnull=True)
        limit = query_int(request, "limit", 100, minimum=1, maximum=500)
        active = set(Plan.objects.filter(build__in=rows.values("plan__build"),
                                         activated_at__isnull=False,
                                         superseded_at__isnull=True).values_list("pk", flat=True))
        return Response({"executions": [execution_info(e, active)
                                        for e in rows.order_by("-started_at", "-id")[:limit]]})


class TaskEventsView(TaskScoped):
    @v2_doc("A task's events", "The append-only log; refused late reports have "
            "`report_applied: false`.")
    def get(self, request: Request, task_id: str) -> Response:
        task = self.task(task_id)
        limit = query_int(request, "limit", 500, minimum=1, maximum=5000)
        return Response({"events": [
            {"id": e.pk, "event_type": e.event_type, "created_at": e.created_at,
             "build_id": e.build_id, "plan_id": e.plan_id, "execution_id": e.execution_id,
             "task_id": task.task_id, "report_applied": e.report_applied,
             "error_message": e.error_message, "event_metadata": e.event_metadata}
            for e in V2Event.objects.filter(task=task).order_by("created_at", "id")[:limit]]})
