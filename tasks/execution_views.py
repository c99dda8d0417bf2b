"""Task endpoints under a build that SDK releases 0.10-0.26 call (SDK-WIRE §3.4): bulk
registration, run-time dependencies, skip, retry, skip-blocked and the frontier.

Each one validates, calls one ``tasks`` service and answers what the SDK reads; the SDK
ignores most answers, so they are small. Unknown builds and tasks keep their own 404 details
("Build not found", "Task not found"), which the SDK never mistakes for a missing route.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from builds.services import build_scope_key
from builds.views import BUILD_ID, BuildScopedMixin
from stardag_site.api.bodies import required_body, validated_body
from stardag_site.api.errors import BadRequest
from tasks.frontier import build_frontier
from tasks.models import Task
from tasks.serializers import (
    MAX_BULK_TASKS,
    LifecycleResultSerializer,
    TaskBulkRegisterSerializer,
    TaskDependenciesSerializer,
)
from tasks.services import (
    task_build_status_get,
    task_dependencies_add,
    task_event_record,
    task_register_bulk,
    task_retry,
    task_skip_blocked,
)
from tasks.views import TASK_ID, TaskScopedMixin

NESTED = [BUILD_ID, TASK_ID]
COMMIT = OpenApiParameter("commit_hash", OpenApiTypes.STR, OpenApiParameter.QUERY,
                          description="Accepted and ignored.")

BulkItemResult = inline_serializer("BulkRegisteredTask", many=True, fields={
    "id": serializers.UUIDField(),
    "task_id": serializers.CharField(),
    "latest_status": serializers.CharField(),
    "latest_executor": serializers.CharField(allow_null=True),
    "latest_executor_ref": serializers.CharField(allow_null=True),
    "latest_executor_metadata": serializers.JSONField(allow_null=True),
})


def bulk_item(task: Task) -> dict[str, object]:
    """What the SDK reads per registered task (it re-attaches to a running detached one)."""
    return {"id": str(task.pk), "task_id": task.task_id, "latest_status": task.latest_status,
            "latest_executor": task.latest_executor,
            "latest_executor_ref": task.latest_executor_ref,
            "latest_executor_metadata": task.latest_executor_metadata}


class BuildTaskExecutionViewSet(BuildScopedMixin, TaskScopedMixin, viewsets.ViewSet):
    serializer_class = LifecycleResultSerializer

    @extend_schema(
        parameters=[BUILD_ID, OpenApiParameter("id_only", OpenApiTypes.BOOL,
                                               OpenApiParameter.QUERY)],
        request=TaskBulkRegisterSerializer,
        responses={201: inline_serializer("BulkRegisterResult",
                                          {"tasks": BulkItemResult})},
    )
    def bulk_register(self, request: Request, build_id: str) -> Response:
        build = self.get_build()
        body = required_body(request)
        items = body.get("tasks") if isinstance(body, dict) else None
        if isinstance(items, list) and len(items) > MAX_BULK_TASKS:
            raise BadRequest(f"At most {MAX_BULK_TASKS} tasks per bulk registration "
                             f"(got {len(items)})")
        data = validated_body(request, TaskBulkRegisterSerializer)
        tasks = task_register_bulk(build=build, items=[dict(item) for item in data["tasks"]])
        return Response({"tasks": [bulk_item(task) for task in tasks]},
                        status=status.HTTP_201_CREATED)

    @extend_schema(parameters=NESTED, request=TaskDependenciesSerializer,
                   responses={201: inline_serializer("DependenciesAdded",
                                                     {"added": serializers.IntegerField()})})
    def dependencies(self, request: Request, build_id: str, task_id: str) -> Response:
        self.get_build()
        task = self.get_task()
        data = validated_body(request, TaskDependenciesSerializer)
        added = task_dependencies_add(task=task, upstream_task_ids=data["upstream_task_ids"],
                                      is_dynamic=data["is_dynamic"])
        return Response({"added": added}, status=status.HTTP_201_CREATED)

    @extend_schema(parameters=[*NESTED, COMMIT], request=None,
                   responses=LifecycleResultSerializer)
    def skip(self, request: Request, build_id: str, task_id: str) -> Response:
        build = self.get_build()
        task = self.get_task()
        task_event_record(build=build, task=task, event_type="task_skipped")
        return Response({"task_id": task.task_id,
                         "status": task_build_status_get(build=build, task=task)})

    @extend_schema(parameters=[*NESTED, COMMIT], request=None,
                   responses=inline_serializer("RetryResult", {
                       "task_id": serializers.CharField(), "status": serializers.CharField(),
                       "retried": serializers.BooleanField()}))
    def retry(self, request: Request, build_id: str, task_id: str) -> Response:
        build = self.get_build()
        task = self.get_task()
        retried = task_retry(build=build, task=task)
        task.refresh_from_db(fields=["latest_status"])
        return Response({"task_id": task.task_id, "status": task.latest_status,
                         "retried": retried})

    @extend_schema(parameters=[BUILD_ID, COMMIT], request=None,
                   responses=inline_serializer("SkipBlockedResult", {
                       "skipped_task_ids": serializers.ListField(
                           child=serializers.CharField())}))
    def skip_blocked(self, request: Request, build_id: str) -> Response:
        return Response({"skipped_task_ids": task_skip_blocked(build=self.get_build())})

    @extend_schema(parameters=[BUILD_ID], responses=OpenApiTypes.OBJECT)
    def frontier(self, request: Request, build_id: str) -> Response:
        build = self.get_build()
        return Response(build_frontier(build=build, scope_key=build_scope_key(build)))
