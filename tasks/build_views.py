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
from builds.serializers import EventSerializer, event_list_body
from builds.views import BUILD_ID, BuildScopedMixin
from stardag_site.api.bodies import validated_body
from stardag_site.api.errors import Forbidden, NotFound
from stardag_site.api.params import parse_uuid
from tasks.serializers import (
    AssetItemSerializer,
    AssetListSerializer,
    AssetSerializer,
    GraphSerializer,
    LifecycleResultSerializer,
    TaskRegisterSerializer,
    TaskSerializer,
    TaskWithStatusSerializer,
    graph_body,
    graph_node_row,
    task_dict,
    task_status_list_body,
)
from tasks.services import (
    BuildNotFound,
    BuildOutsideEnvironment,
    TaskNotFound,
    task_assets_upsert,
    task_graph_for_build,
    task_lifecycle_record,
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
        return Response(task_dict(task), status=status.HTTP_201_CREATED)

    @extend_schema(parameters=[BUILD_ID], responses=TaskWithStatusSerializer(many=True))
    def tasks(self, request: Request, build_id: str) -> Response:
        return Response(task_status_list_body(task_list_for_build(build=self.get_build())))

    @extend_schema(parameters=[BUILD_ID], responses=EventSerializer(many=True))
    def events(self, request: Request, build_id: str) -> Response:
        return Response(event_list_body(Event.objects.filter(build=self.get_build())))

    @extend_schema(parameters=[BUILD_ID], responses=GraphSerializer)
    def graph(self, request: Request, build_id: str) -> Response:
        return Response(graph_body(*task_graph_for_build(build=self.get_build(),
                                                         node_columns=graph_node_row())))

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
        """Build, task, lock, event and status in three statements (``task_lifecycle_record``);
        the answers for a missing or foreign build and a missing task are the contract's."""
        task_id = self.kwargs["task_id"]
        try:
            status = task_lifecycle_record(
                environment_id=self.environment.pk,
                build_id=parse_uuid(self.kwargs["build_id"], "build_id"),
                task_id=task_id, event_type=event_type, error_message=error_message,
                metadata=metadata)
        except BuildNotFound as exc:
            raise NotFound("Build not found") from exc
        except BuildOutsideEnvironment as exc:
            raise Forbidden("Build does not belong to this environment") from exc
        except TaskNotFound as exc:
            raise NotFound("Task not found") from exc
        return Response({"task_id": task_id, "status": status})

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
