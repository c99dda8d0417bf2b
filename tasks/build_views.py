"""Task endpoints nested under a build (contract §4.10.1-4.10.6).

Reads are bounded: the task set and graph of a build come from ``tasks.services``
(``task_list_for_build``, ``task_graph_for_build``), statuses from the materialised columns, so
the number of queries does not grow with the build.
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
from builds.views import BUILD_ID, BuildScopedMixin
from stardag_site.api.bodies import validated_body
from tasks.serializers import (
    AssetItemSerializer,
    AssetListSerializer,
    AssetSerializer,
    GraphNodeSerializer,
    GraphSerializer,
    LifecycleResultSerializer,
    TaskRegisterSerializer,
    TaskSerializer,
    TaskWithStatusSerializer,
    edges_body,
)
from tasks.services import (
    task_assets_upsert,
    task_build_status_get,
    task_event_record,
    task_graph_for_build,
    task_list_for_build,
    task_register,
)
from tasks.views import START_PARAMS, TASK_ID, TaskScopedMixin, start_metadata

LIFECYCLE = [BUILD_ID, TASK_ID]


class BuildTaskViewSet(BuildScopedMixin, TaskScopedMixin, viewsets.ViewSet):
    serializer_class = TaskWithStatusSerializer

    @extend_schema(parameters=[BUILD_ID], request=TaskRegisterSerializer,
                   responses={201: TaskSerializer})
    def register(self, request: Request, build_id: str) -> Response:
        build = self.get_build()
        payload = validated_body(request, TaskRegisterSerializer)
        task = task_register(build=build, payload=dict(payload))
        return Response(TaskSerializer(task).data, status=status.HTTP_201_CREATED)

    @extend_schema(parameters=[BUILD_ID], responses=TaskWithStatusSerializer(many=True))
    def tasks(self, request: Request, build_id: str) -> Response:
        tasks = task_list_for_build(build=self.get_build())
        return Response(TaskWithStatusSerializer(tasks, many=True).data)

    @extend_schema(parameters=[BUILD_ID], responses=EventSerializer(many=True))
    def events(self, request: Request, build_id: str) -> Response:
        events = Event.objects.filter(build=self.get_build()).order_by("created_at", "id")
        return Response(EventSerializer(events, many=True).data)

    @extend_schema(parameters=[BUILD_ID], responses=GraphSerializer)
    def graph(self, request: Request, build_id: str) -> Response:
        nodes, pairs = task_graph_for_build(build=self.get_build())
        return Response({"nodes": GraphNodeSerializer(nodes, many=True).data,
                         "edges": edges_body(pairs)})

    @extend_schema(parameters=LIFECYCLE, request=AssetItemSerializer(many=True),
                   responses={201: AssetListSerializer})
    def assets(self, request: Request, build_id: str, task_id: str) -> Response:
        self.get_build()
        task = self.get_task()
        items = validated_body(request, AssetItemSerializer, many=True)
        assets = task_assets_upsert(task=task, items=items)
        body = AssetSerializer(assets, many=True, context={"task": task}).data
        return Response({"assets": body}, status=status.HTTP_201_CREATED)

    # --- lifecycle: no body, any state, one event per call; answer the PER-BUILD status ------

    def _lifecycle(self, event_type: str, *, error_message: str | None = None,
                   metadata: dict[str, Any] | None = None) -> Response:
        build = self.get_build()
        task = self.get_task()
        task_event_record(build=build, task=task, event_type=event_type,
                          error_message=error_message, metadata=metadata)
        return Response({"task_id": task.task_id,
                         "status": task_build_status_get(build=build, task=task)})

    @extend_schema(parameters=[*LIFECYCLE, *START_PARAMS], request=None,
                   responses=LifecycleResultSerializer)
    def start(self, request: Request, build_id: str, task_id: str) -> Response:
        metadata = start_metadata(request)
        response = self._lifecycle("task_started", metadata=metadata)
        if metadata and metadata.get("execution_id"):
            response.data["execution_id"] = metadata["execution_id"]
        return response

    @extend_schema(parameters=LIFECYCLE, request=None, responses=LifecycleResultSerializer)
    def complete(self, request: Request, build_id: str, task_id: str) -> Response:
        return self._lifecycle("task_completed")

    @extend_schema(
        parameters=[*LIFECYCLE, OpenApiParameter("error_message", OpenApiTypes.STR,
                                                 OpenApiParameter.QUERY)],
        request=None, responses=LifecycleResultSerializer,
    )
    def fail(self, request: Request, build_id: str, task_id: str) -> Response:
        return self._lifecycle("task_failed",
                               error_message=request.query_params.get("error_message"))

    @extend_schema(parameters=LIFECYCLE, request=None, responses=LifecycleResultSerializer)
    def suspend(self, request: Request, build_id: str, task_id: str) -> Response:
        return self._lifecycle("task_suspended")

    @extend_schema(parameters=LIFECYCLE, request=None, responses=LifecycleResultSerializer)
    def resume(self, request: Request, build_id: str, task_id: str) -> Response:
        return self._lifecycle("task_resumed")

    @extend_schema(parameters=LIFECYCLE, request=None, responses=LifecycleResultSerializer)
    def cancel(self, request: Request, build_id: str, task_id: str) -> Response:
        return self._lifecycle("task_cancelled")

    @extend_schema(
        parameters=[*LIFECYCLE, OpenApiParameter("lock_owner", OpenApiTypes.STR,
                                                 OpenApiParameter.QUERY)],
        request=None, responses=LifecycleResultSerializer,
    )
    def waiting_for_lock(self, request: Request, build_id: str, task_id: str) -> Response:
        owner = request.query_params.get("lock_owner")
        return self._lifecycle("task_waiting_for_lock",
                               metadata={"lock_owner": owner} if owner is not None else None)
