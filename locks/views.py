"""Lock endpoints (contract §4.13): validate, call one service, map its refusal to the contract.

Refusals the SDK reads (§6.6): 423 and 429 carry an *object* ``detail`` with ``status`` and
``error_message``; renew/release of a lease the caller does not own is 409. These views are never
throttled: the SDK reads every 429 from a lock endpoint as "concurrency limit reached" (§8.6).
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from locks import services
from locks.models import Lock
from locks.serializers import (
    CompletionStatusSerializer,
    ErrorSerializer,
    LockAcquireResponseSerializer,
    LockAcquireSerializer,
    LockListSerializer,
    LockRefusalSerializer,
    LockReleaseResponseSerializer,
    LockReleaseSerializer,
    LockRenewResponseSerializer,
    LockRenewSerializer,
    LockSerializer,
    lock_dict,
)
from stardag_site.api.bodies import validated_body
from stardag_site.api.errors import Conflict, ContractError, NotFound, invalid
from stardag_site.api.mixins import SdkScopedMixin
from stardag_site.api.params import query_bool

NOT_OWNED = "Lock not found or not owned by caller"
LOCK_NAME = OpenApiParameter("lock_name", str, OpenApiParameter.PATH,
                             description="Free string without '/' (the SDK uses the task id).")


MAX_LOCK_NAME_LENGTH = 255


class LockView(SdkScopedMixin, APIView):
    """Base of the lock endpoints: SDK scoping, no throttling, a sane ``lock_name``.

    Lock names are free strings (the SDK uses task ids), but a very long name cannot go into
    the unique index, so it is a 422 on the path parameter rather than a 500. (A NUL, which no
    PostgreSQL text column can store, is refused for every path before any view runs, by
    ``stardag_site.middleware``.)
    """

    throttle_classes: list[Any] = []

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # authentication first: 401 before 422
        name = kwargs.get("lock_name")
        if name is None:
            return
        if len(name) > MAX_LOCK_NAME_LENGTH:
            raise invalid("path", "lock_name",
                          f"String should have at most {MAX_LOCK_NAME_LENGTH} characters",
                          "string_too_long", name)


class LockAcquireView(LockView):
    @extend_schema(tags=["locks"], operation_id="lock_acquire", parameters=[LOCK_NAME],
                   request=LockAcquireSerializer,
                   responses={200: LockAcquireResponseSerializer, 423: LockRefusalSerializer,
                              429: LockRefusalSerializer})
    def post(self, request: Request, lock_name: str) -> Response:
        body = dict(validated_body(request, LockAcquireSerializer))
        try:
            result = services.lock_acquire(environment=self.environment, name=lock_name, **body)
        except services.LockHeld as exc:
            raise ContractError({"status": "held_by_other", "error_message": str(exc)},
                                status_code=423) from exc
        except services.ConcurrencyLimitReached as exc:
            raise ContractError({"status": "concurrency_limit_reached",
                                 "error_message": str(exc)}, status_code=429) from exc
        lock = lock_dict(result.lock) if result.lock is not None else None
        return Response({"status": result.status, "acquired": result.acquired, "lock": lock,
                         "error_message": None})


class LockRenewView(LockView):
    @extend_schema(tags=["locks"], operation_id="lock_renew", parameters=[LOCK_NAME],
                   request=LockRenewSerializer,
                   responses={200: LockRenewResponseSerializer, 409: ErrorSerializer})
    def post(self, request: Request, lock_name: str) -> Response:
        body = dict(validated_body(request, LockRenewSerializer))
        try:
            services.lock_renew(environment=self.environment, name=lock_name, **body)
        except services.LockNotOwned as exc:
            raise Conflict(NOT_OWNED) from exc
        return Response({"renewed": True})


class LockReleaseView(LockView):
    @extend_schema(tags=["locks"], operation_id="lock_release", parameters=[LOCK_NAME],
                   request=LockReleaseSerializer,
                   responses={200: LockReleaseResponseSerializer, 404: ErrorSerializer,
                              409: ErrorSerializer})
    def post(self, request: Request, lock_name: str) -> Response:
        body = dict(validated_body(request, LockReleaseSerializer))
        try:
            services.lock_release(environment=self.environment, name=lock_name, **body)
        except services.BuildNotFound as exc:
            raise NotFound("Build not found") from exc
        except services.LockNotOwned as exc:
            raise Conflict(NOT_OWNED) from exc
        return Response({"released": True})


class LockListView(LockView):
    @extend_schema(
        tags=["locks"],
        operation_id="lock_list",
        parameters=[OpenApiParameter("include_expired", bool, default=False,
                                     description="Also list leases that have lapsed.")],
        responses={200: LockListSerializer},
    )
    def get(self, request: Request) -> Response:
        include_expired = query_bool(request, "include_expired", False)
        locks = Lock.objects.for_environment(self.environment).visible()
        if not include_expired:
            locks = locks.active(timezone.now())
        items = LockSerializer(locks.order_by("-acquired_at", "-id"), many=True).data
        return Response({"locks": items, "count": len(items)})


class LockDetailView(LockView):
    @extend_schema(tags=["locks"], operation_id="lock_get", parameters=[LOCK_NAME],
                   responses={200: LockSerializer, 404: ErrorSerializer})
    def get(self, request: Request, lock_name: str) -> Response:
        lock = (Lock.objects.for_environment(self.environment).visible()
                .filter(name=lock_name).first())
        if lock is None:
            raise NotFound("Lock not found")
        return Response(LockSerializer(lock).data)


class CompletionStatusView(LockView):
    @extend_schema(tags=["locks"], operation_id="lock_task_completion_status",
                   parameters=[OpenApiParameter("task_id", str, OpenApiParameter.PATH)],
                   responses={200: CompletionStatusSerializer})
    def get(self, request: Request, task_id: str) -> Response:
        done = services.lock_task_is_completed(environment=self.environment, task_id=task_id)
        return Response({"task_id": task_id, "is_completed": done})
