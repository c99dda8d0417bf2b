"""Build endpoints (contract §4.10 and the legacy PATCH of §9).

Views declare and delegate: they resolve the build through ``BuildScopedMixin`` (404/403 as
the contract words them), validate input, call one service and serialize the result.
"""

from __future__ import annotations

from typing import Any, cast

from django.db.models import Case, OuterRef, QuerySet, Subquery, When
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import User
from builds.filters import BuildFilterSet
from builds.models import Build, Event
from builds.serializers import (
    BuildCancelResultSerializer,
    BuildCreateSerializer,
    BuildListSerializer,
    BuildRootsSerializer,
    BuildScopeSerializer,
    BuildSerializer,
    BuildUpdateSerializer,
    BulkCancelResultSerializer,
    BulkCancelSerializer,
    build_body,
)
from builds.services import (
    ScopeMismatch,
    build_attribution,
    build_bulk_cancel,
    build_cancel,
    build_create,
    build_event_record,
    build_resume,
    build_roots_add,
    build_scope_set,
    build_update,
)
from stardag_site.api.bodies import validated_body
from stardag_site.api.errors import Conflict, Forbidden, NotFound
from stardag_site.api.filtering import filter_parameters, filter_queryset_or_422
from stardag_site.api.mixins import SdkScopedMixin
from stardag_site.api.pagination import PAGE_PARAMS, page_body, paginate
from stardag_site.api.params import PageParams, parse_uuid, query_json_object, query_text
from stardag_site.api.schema import error_responses
from stardag_site.db.prepared import PreparedQuery

BUILD_ID = OpenApiParameter("build_id", OpenApiTypes.UUID, OpenApiParameter.PATH)
TRIGGERED_BY = OpenApiParameter(
    "triggered_by_user_id", OpenApiTypes.STR, OpenApiParameter.QUERY,
    description="Recorded as the caller's own OIDC subject when the caller uses an internal "
    "token; ignored for API keys.",
)
SCOPE_PARAMS = [
    OpenApiParameter("scope_key", OpenApiTypes.STR, OpenApiParameter.QUERY),
    OpenApiParameter("build_config", OpenApiTypes.STR, OpenApiParameter.QUERY,
                     description="The build config as compact JSON (SDK 0.26)."),
    OpenApiParameter("executor_metadata", OpenApiTypes.STR, OpenApiParameter.QUERY,
                     description="JSON object."),
    OpenApiParameter("commit_hash", OpenApiTypes.STR, OpenApiParameter.QUERY),
]


def with_activity(queryset: QuerySet[Build]) -> QuerySet[Build]:
    """Builds annotated with what the 0.20+ CLI shows (SDK-WIRE C8): the time of the build's
    latest event (``last_activity_at``, what ``idle_for_seconds`` measures) and the message of
    its latest ``build_failed`` event. Two correlated subqueries on ``event_build_order_idx``
    in the same SELECT, so a list page costs no extra query.

    The error message is shown only while the build is failed, and only then is its subquery
    run (a ``CASE`` branch): it walks the build's events from the newest until it meets a
    ``build_failed`` one, which for a build that never failed means every event of the build
    (30,000 index entries for a 10,000-task build, on every ``GET``). A failed build's
    ``build_failed`` event is among its latest, so the walk stops at once."""
    events = Event.objects.filter(build=OuterRef("pk")).order_by("-created_at", "-id")
    return queryset.annotate(
        last_activity_at=Subquery(events.values("created_at")[:1]),
        latest_error_message=Case(When(status="failed", then=Subquery(
            events.filter(event_type="build_failed").values("error_message")[:1]))),
    )


# ``GET /builds/{id}`` in one query: the row with its activity annotations.
_BUILD_WITH_ACTIVITY = PreparedQuery(
    lambda build_id: with_activity(Build.objects.filter(pk=build_id)).order_by()[:1],
    build_id=Build._meta.pk)


def scope_conflict(exc: ScopeMismatch) -> Conflict:
    """The 409 the SDK turns into ``BuildConfigMismatchError`` (SDK-WIRE N5, §1.6)."""
    return Conflict({"error_code": "scope_mismatch", "message": exc.message,
                     "scope_key": exc.scope_key})


# Compiled once per thread; the id is unique: no ORDER BY (``.first()`` would add one).
_BUILD_BY_ID = PreparedQuery(lambda build_id: Build.objects.filter(pk=build_id).order_by()[:1],
                             build_id=Build._meta.pk)


class BuildScopedMixin(SdkScopedMixin):
    """Resolves ``{build_id}`` for every ``/builds/{build_id}...`` endpoint."""

    kwargs: dict[str, Any]

    def get_build(self, query: PreparedQuery | None = None) -> Build:
        """The build of the path, in the caller's environment (``query``: the lookup to use,
        e.g. one with annotations, instead of the plain row).

        The lookup is deliberately unscoped first so that a build of another environment
        answers 403 ``Build does not belong to this environment`` (contract §4.10) rather than
        404; nothing of the foreign build is read beyond its environment id.
        """
        build_id = parse_uuid(self.kwargs["build_id"], "build_id")
        build = cast("Build | None", (query or _BUILD_BY_ID).first(build_id=build_id))
        if build is None:
            raise NotFound("Build not found")
        if build.environment_id != self.environment.pk:
            raise Forbidden("Build does not belong to this environment")
        return build


class BuildViewSet(BuildScopedMixin, viewsets.ViewSet):
    serializer_class = BuildSerializer

    @extend_schema(parameters=[*PAGE_PARAMS, *filter_parameters(BuildFilterSet)],
                   responses=BuildListSerializer)
    def list(self, request: Request) -> Response:
        params = PageParams.from_request(request, default_page_size=20)
        queryset = filter_queryset_or_422(BuildFilterSet, request,
                                          Build.objects.for_environment(self.environment))
        builds, total = paginate(with_activity(queryset), params)
        return Response(page_body("builds", builds, total, params, build_body))

    @extend_schema(request=BuildCreateSerializer, responses={201: BuildSerializer})
    def create(self, request: Request) -> Response:
        data = validated_body(request, BuildCreateSerializer)
        build = build_create(environment=self.environment, user=self._internal_user(),
                             commit_hash=data["commit_hash"],
                             root_task_ids=data["root_task_ids"],
                             description=data["description"],
                             scope_key=data["scope_key"],
                             build_config=data["build_config"],
                             executor_metadata=data["executor_metadata"])
        return Response(build_body(build), status=status.HTTP_201_CREATED)

    @extend_schema(parameters=[BUILD_ID], responses=BuildSerializer)
    def retrieve(self, request: Request, build_id: str) -> Response:
        return Response(build_body(self.get_build(_BUILD_WITH_ACTIVITY)))

    @extend_schema(parameters=[BUILD_ID], request=BuildUpdateSerializer,
                   responses=BuildSerializer)
    def partial_update(self, request: Request, build_id: str) -> Response:
        build = self.get_build()
        data = validated_body(request, BuildUpdateSerializer)
        build = build_update(build=build, fields=data.keys(), **data)
        return Response(build_body(build))

    # --- transitions: no body; one more build-level event each time (latest wins) -----------

    def _transition(self, event_type: str, *, error_message: str | None = None,
                    attributable: bool = True) -> Response:
        build = self.get_build()
        metadata = build_attribution(
            requested="triggered_by_user_id" in self.request.query_params,
            user=self._internal_user(),
        ) if attributable else None
        build = build_event_record(build=build, event_type=event_type,
                                   error_message=error_message, metadata=metadata)
        return Response(build_body(build))

    def _internal_user(self) -> User | None:
        """The person behind an internal token; API keys act for no one."""
        return self.principal.user if self.principal.kind == "internal" else None

    @extend_schema(parameters=[BUILD_ID, TRIGGERED_BY], request=None, responses=BuildSerializer)
    def complete(self, request: Request, build_id: str) -> Response:
        return self._transition("build_completed")

    @extend_schema(
        parameters=[BUILD_ID, TRIGGERED_BY,
                    OpenApiParameter("error_message", OpenApiTypes.STR, OpenApiParameter.QUERY)],
        request=None, responses=BuildSerializer,
    )
    def fail(self, request: Request, build_id: str) -> Response:
        return self._transition("build_failed",
                                error_message=request.query_params.get("error_message"))

    @extend_schema(
        parameters=[BUILD_ID, TRIGGERED_BY,
                    OpenApiParameter("cascade", OpenApiTypes.BOOL, OpenApiParameter.QUERY,
                                     description="Also cancel the build's running and "
                                     "suspended tasks (SDK ≥0.20).")],
        request=None, responses=BuildCancelResultSerializer,
    )
    def cancel(self, request: Request, build_id: str) -> Response:
        build = self.get_build()
        cascade = request.query_params.get("cascade", "").lower() in ("true", "1")
        metadata = build_attribution(
            requested="triggered_by_user_id" in request.query_params,
            user=self._internal_user(),
        )
        build, cascaded = build_cancel(build=build, cascade=cascade, metadata=metadata)
        body = build_body(build)
        if cascade:
            body = {**body, "cascaded_task_ids": cascaded, "cascaded_task_count": len(cascaded)}
        return Response(body)

    # --- SDK ≥0.10 additions (SDK-WIRE §3.4) ------------------------------------------------

    @extend_schema(parameters=[BUILD_ID, *SCOPE_PARAMS], request=None,
                   responses={200: BuildSerializer, **error_responses(409)})
    def resume(self, request: Request, build_id: str) -> Response:
        build = self.get_build()
        try:
            build = build_resume(build=build,
                                 scope_key=query_text(request, "scope_key", 255),
                                 build_config=query_json_object(request, "build_config"),
                                 executor_metadata=query_json_object(request,
                                                                     "executor_metadata"))
        except ScopeMismatch as exc:
            raise scope_conflict(exc) from exc
        return Response(build_body(build))

    @extend_schema(parameters=[BUILD_ID], request=BuildScopeSerializer,
                   responses={200: BuildSerializer, **error_responses(409)})
    def scope(self, request: Request, build_id: str) -> Response:
        build = self.get_build()
        data = validated_body(request, BuildScopeSerializer)
        try:
            build = build_scope_set(build=build, scope_key=data["scope_key"],
                                    build_config=data["build_config"])
        except ScopeMismatch as exc:
            raise scope_conflict(exc) from exc
        return Response(build_body(build))

    @extend_schema(parameters=[BUILD_ID], request=BuildRootsSerializer,
                   responses=BuildSerializer)
    def roots(self, request: Request, build_id: str) -> Response:
        build = self.get_build()
        data = validated_body(request, BuildRootsSerializer)
        return Response(build_body(build_roots_add(build=build,
                                                   root_task_ids=data["root_task_ids"])))

    @extend_schema(request=BulkCancelSerializer, responses=BulkCancelResultSerializer)
    def bulk_cancel(self, request: Request) -> Response:
        data = validated_body(request, BulkCancelSerializer)
        result = build_bulk_cancel(
            environment=self.environment, build_ids=data["build_ids"],
            idle_for_seconds=data["idle_for_seconds"], cascade=data["cascade"],
            dry_run=data["dry_run"], limit=data["limit"], reason=data["reason"],
        )
        if data["reactive_app_name"]:
            # No build is reactively scheduled on v1: a filter on the app matches nothing.
            result = {**result, "builds": [], "build_count": 0, "task_count": 0}
        return Response(BulkCancelResultSerializer(result).data)

    @extend_schema(
        parameters=[BUILD_ID, OpenApiParameter("reason", OpenApiTypes.STR,
                                               OpenApiParameter.QUERY)],
        request=None, responses=BuildSerializer,
    )
    def exit_early(self, request: Request, build_id: str) -> Response:
        return self._transition("build_exit_early", attributable=False,
                                error_message=request.query_params.get("reason"))
