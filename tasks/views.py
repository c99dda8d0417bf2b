"""Task endpoints (contract §4.11 and the legacy ``POST /tasks`` of §9).

Tasks are looked up by the SDK ``task_id`` within the caller's environment; global status
fields come from the materialised columns (§5.3).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from builds.models import Event
from builds.serializers import EventSerializer
from stardag_site.api.bodies import validated_body
from stardag_site.api.errors import NotFound
from stardag_site.api.filtering import filter_parameters, filter_queryset_or_422
from stardag_site.api.mixins import SdkScopedMixin
from stardag_site.api.pagination import PAGE_PARAMS, page_body, paginate
from stardag_site.api.params import PageParams, query_json_object, query_text
from tasks.filters import TaskListFilterSet
from tasks.models import Task
from tasks.serializers import (
    ArtifactListSerializer,
    AssetListSerializer,
    AssetSerializer,
    TaskListItemSerializer,
    TaskListSerializer,
    TaskMetadataSerializer,
    TaskRegisterSerializer,
    TaskSerializer,
)
from tasks.services import task_create_outside_build

TASK_ID = OpenApiParameter("task_id", OpenApiTypes.STR, OpenApiParameter.PATH,
                           description="The SDK's task id.")
START_PARAMS = [
    OpenApiParameter("executor", OpenApiTypes.STR, OpenApiParameter.QUERY),
    OpenApiParameter("executor_ref", OpenApiTypes.STR, OpenApiParameter.QUERY),
    OpenApiParameter("executor_metadata", OpenApiTypes.STR, OpenApiParameter.QUERY,
                     description="JSON object."),
    OpenApiParameter("execution_id", OpenApiTypes.STR, OpenApiParameter.QUERY),
    OpenApiParameter("commit_hash", OpenApiTypes.STR, OpenApiParameter.QUERY),
]


def start_metadata(request: Request) -> dict[str, Any] | None:
    """The executor fields SDK ≥0.10 sends on ``…/start`` (C3), for the event's metadata and
    the task's ``latest_executor*`` columns; ``None`` when none was sent. Claim parameters
    (``claim``, ``claim_ttl_seconds``, ``limit_key``) are accepted and not arbitrated."""
    values = {
        "executor": query_text(request, "executor", 255),
        "executor_ref": query_text(request, "executor_ref", 1024),
        "executor_metadata": query_json_object(request, "executor_metadata"),
        "execution_id": query_text(request, "execution_id", 64),
    }
    return values if any(value is not None for value in values.values()) else None


class TaskScopedMixin(SdkScopedMixin):
    # Resolves ``{task_id}`` (the SDK's task id) for ``.../tasks/{task_id}...`` endpoints. No
    # docstring: drf-spectacular would show it as the description of TaskViewSet's operations.

    kwargs: dict[str, Any]

    def get_task(self) -> Task:
        """The task named by the SDK ``task_id`` of the path, in the caller's environment."""
        task = Task.objects.find_by_key(self.environment.pk, self.kwargs["task_id"])
        if task is None:
            raise NotFound("Task not found")
        return task


class TaskViewSet(TaskScopedMixin, viewsets.ViewSet):
    serializer_class = TaskSerializer

    @extend_schema(parameters=[*PAGE_PARAMS, *filter_parameters(TaskListFilterSet)],
                   responses=TaskListSerializer)
    def list(self, request: Request) -> Response:
        params = PageParams.from_request(request, default_page_size=20)
        queryset = filter_queryset_or_422(
            TaskListFilterSet, request,
            Task.objects.for_environment(self.environment).order_by("-created_at", "-id"),
        )
        tasks, total = paginate(queryset, params)
        return Response(page_body("tasks", tasks, total, params,
                                  lambda page: TaskListItemSerializer(page, many=True).data))

    @extend_schema(request=TaskRegisterSerializer, responses={201: TaskSerializer})
    def create(self, request: Request) -> Response:
        payload = validated_body(request, TaskRegisterSerializer)
        task = task_create_outside_build(environment_id=self.environment.pk,
                                         payload=dict(payload))
        return Response(TaskSerializer(task).data, status=status.HTTP_201_CREATED)

    @extend_schema(parameters=[TASK_ID], responses=TaskSerializer)
    def retrieve(self, request: Request, task_id: str) -> Response:
        return Response(TaskSerializer(self.get_task()).data)

    @extend_schema(parameters=[TASK_ID], responses=AssetListSerializer)
    def assets(self, request: Request, task_id: str) -> Response:
        task = self.get_task()
        assets = task.assets.order_by("created_at", "id")
        return Response({"assets": AssetSerializer(assets, many=True,
                                                   context={"task": task}).data})

    @extend_schema(parameters=[TASK_ID], responses=ArtifactListSerializer)
    def artifacts(self, request: Request, task_id: str) -> Response:
        """The same rows as ``…/assets``, under the name SDK ≥0.2 uses."""
        task = self.get_task()
        assets = task.assets.order_by("created_at", "id")
        return Response({"artifacts": AssetSerializer(assets, many=True,
                                                      context={"task": task}).data})

    @extend_schema(parameters=[TASK_ID], responses=EventSerializer(many=True))
    def events(self, request: Request, task_id: str) -> Response:
        task = self.get_task()
        events = Event.objects.filter(task=task).order_by("-created_at", "-id")
        return Response(EventSerializer(events, many=True).data)

    @extend_schema(parameters=[TASK_ID], responses=TaskMetadataSerializer)
    def metadata(self, request: Request, task_id: str) -> Response:
        return Response(TaskMetadataSerializer(self.get_task()).data)
