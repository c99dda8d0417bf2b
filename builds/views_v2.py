"""``/api/v2`` build-side routes (SDK-WIRE 4.4): deployments, settings, builds create/read.

Every lookup goes through the caller's environment (``SdkScopedMixin.scoped``): an id of another
environment is answered exactly like an unknown one (404 with the v2 ``code``). The lifecycle
routes of a build (plans, complete, fail, frontier...) touch tasks, so the tasks app serves
them (``tasks/v2``).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any, TypeVar

from django.db.models import Model, Q, QuerySet
from django.http import Http404
from django.urls import get_resolver
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from builds.models_v2 import Deployment, Plan, SettingsBody, V2Build
from builds.services_v2 import deployment_create, deployment_is_current
from stardag_site.api.errors import Refusal
from stardag_site.api.mixins import SdkScopedMixin
from stardag_site.api.params import parse_uuid, query_bool, query_int, query_str
from stardag_site.api.v2 import body_of, decode_cursor, encode_cursor, v2_doc

_Row = TypeVar("_Row", bound=Model)


def build_info(build: V2Build) -> dict[str, Any]:
    return {
        "id": build.pk, "name": build.name, "description": build.description,
        "status": build.status, "root_task_ids": build.root_task_ids,
        "created_at": build.created_at, "started_at": build.started_at,
        "completed_at": build.completed_at, "last_active_at": build.last_active_at,
        "is_resumed": build.is_resumed, "executor_metadata": build.executor_metadata,
        "reactive_app_name": build.reactive_app_name,
        "reactive_tick_kwargs": build.reactive_tick_kwargs,
        "error_message": build.error_message if build.status == "failed" else None,
    }


def deployment_info(deployment: Deployment) -> dict[str, Any]:
    return {
        "id": deployment.pk, "kind": deployment.kind, "app_name": deployment.app_name,
        "code_id": deployment.code_id, "image_id": deployment.image_id,
        "modal_app_id": deployment.modal_app_id, "generation": deployment.generation,
        "deployed_at": deployment.deployed_at, "activated_at": deployment.activated_at,
        "is_current": deployment_is_current(deployment),
    }


def plan_info(plan: Plan, *, created: bool = False) -> dict[str, Any]:
    return {
        "id": plan.pk, "build_id": plan.build_id, "deployment_id": plan.deployment_id,
        "settings_hash": plan.settings_hash, "generation": plan.generation,
        "activated_at": plan.activated_at, "sealed_at": plan.sealed_at,
        "superseded_at": plan.superseded_at, "created": created,
    }


class V2View(SdkScopedMixin, APIView):
    """Base of every v2 route: SDK credentials and environment-scoped lookups."""

    def scoped(self, queryset: Any) -> Any:
        """Every v2 queryset goes through here: only the caller's environment's rows."""
        return queryset.filter(environment=self.environment)

    def http_method_not_allowed(  # type: ignore[override]  # DRF narrows the request type
            self, request: Request, *args: Any, **kwargs: Any) -> Any:
        """A method a v2 path does not serve is a missing route, answered exactly like an
        unknown URL (the project's 404 handler), never a 405."""
        # The stubs type the handler as taking the request alone; Django calls it with the
        # exception too (django.core.handlers.exception.response_for_exception).
        not_found: Callable[..., Any] = get_resolver().resolve_error_handler(404)
        return not_found(request, Http404())

    def scoped_row(self, queryset: QuerySet[_Row], refusal: str, message: str = "",
                   **lookup: Any) -> _Row:
        """The caller's environment's row matching ``lookup``; otherwise the 404 ``refusal``
        (another environment's id included: it does not exist for this caller)."""
        row = self.scoped(queryset).filter(**lookup).first()
        if row is None:
            raise Refusal(refusal, message, status_code=404)
        return row

    def build(self, raw_id: str) -> V2Build:
        return self.scoped_row(V2Build.objects.all(), "unknown_build", f"no build {raw_id}",
                               pk=parse_uuid(raw_id, "build_id"))

    def plan(self, raw_id: str) -> Plan:
        return self.scoped_row(Plan.objects.select_related("deployment"), "unknown_plan",
                               f"no plan {raw_id}", pk=parse_uuid(raw_id, "plan_id"))


class DeploymentsView(V2View):
    @v2_doc("Register a deployment",
            "A local deployment is looked up by its code id (born activated, its own id "
            "returned); a Modal deployment is inserted by the id you send.", body=True)
    def post(self, request: Request) -> Response:
        body = body_of(request)
        kind = body.str("kind", required=True)
        if kind not in ("local", "modal"):
            raise Refusal("invalid_request", "kind must be local or modal", status_code=422)
        deployment, created = deployment_create(
            environment=self.environment, kind=kind,
            code_id=body.str("code_id", required=True, min_length=1, max_length=64) or "",
            deployment_id=body.uuid("id"),
            app_name=body.str("app_name", max_length=64),
            image_id=body.str("image_id", max_length=128),
            modal_app_id=body.str("modal_app_id", max_length=64))
        return Response({**deployment_info(deployment), "created": created})

    @v2_doc("List deployments", "Newest first; filter by kind, app name and current.",
            operation_id="api_v2_deployments_list")
    def get(self, request: Request) -> Response:
        rows = self.scoped(Deployment.objects.all())
        if query_str(request, "kind"):
            rows = rows.filter(kind=query_str(request, "kind"))
        if query_str(request, "app_name"):
            rows = rows.filter(app_name=query_str(request, "app_name"))
        limit = query_int(request, "limit", 100, minimum=1, maximum=500)
        infos = [deployment_info(d) for d in rows.order_by("-deployed_at", "-id")]
        if query_bool(request, "current", False):
            infos = [i for i in infos if i["is_current"]]
        return Response({"deployments": infos[:limit]})


class DeploymentDetailView(V2View):
    @v2_doc("Get a deployment", "One deployment of this environment.")
    def get(self, request: Request, deployment_id: str) -> Response:
        row = self.scoped_row(Deployment.objects.all(), "unknown_deployment",
                              pk=parse_uuid(deployment_id, "deployment_id"))
        return Response(deployment_info(row))


class SettingsView(V2View):
    @v2_doc("Get a settings body", "The flat settings a plan was registered with, by hash.")
    def get(self, request: Request, settings_hash: str) -> Response:
        row = self.scoped_row(SettingsBody.objects.all(), "unknown_settings", hash=settings_hash)
        return Response({"hash": row.hash, "body": row.body})


class BuildListView(V2View):
    """``GET /builds``; the tasks app adds ``POST`` (creation writes the event log it owns)."""

    @v2_doc("List builds", "Most recently active first, with an opaque cursor.",
            operation_id="api_v2_builds_list")
    def get(self, request: Request) -> Response:
        rows = self.scoped(V2Build.objects.all())
        status = query_str(request, "status")
        if status:
            rows = rows.filter(status__in=status.split(","))
        if query_str(request, "reactive_app_name"):
            rows = rows.filter(reactive_app_name=query_str(request, "reactive_app_name"))
        total = rows.count()
        limit = query_int(request, "limit", 100, minimum=1, maximum=500)
        cursor = decode_cursor(query_str(request, "cursor"), 2)
        if cursor is not None:
            at = datetime.datetime.fromisoformat(cursor[0])
            rows = rows.filter(Q(last_active_at__lt=at) | Q(last_active_at=at, id__lt=cursor[1]))
        page = list(rows.order_by("-last_active_at", "-id")[: limit + 1])
        next_cursor = None
        if len(page) > limit:
            page = page[:limit]
            next_cursor = encode_cursor(page[-1].last_active_at.isoformat(), page[-1].pk)
        return Response({"builds": [build_info(b) for b in page], "total": total,
                         "next_cursor": next_cursor})


class BuildDetailView(V2View):
    @v2_doc("Get a build", "One build of this environment.")
    def get(self, request: Request, build_id: str) -> Response:
        return Response(build_info(self.build(build_id)))


class BuildNotifyView(V2View):
    """Only the read: reactive scheduling (the POST/DELETE flag, wake-ups, leases) is not
    served yet, so no build is ever flagged; the CLI's ``builds frontier`` reads this."""

    @v2_doc("Whether a build wants a scheduler tick",
            "Always false here: reactive (Modal) scheduling is not served by this server yet.")
    def get(self, request: Request, build_id: str) -> Response:
        return Response({"build_id": self.build(build_id).pk, "needs_tick": False})
