"""Wire shapes of tasks, assets and the graph (contract §4.10-4.11), and task request bodies."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import QuerySet
from rest_framework import serializers

from stardag_site.api.fields import StrictCharField, UtcTimestampField, utc_timestamp
from stardag_site.db.rows import fetch_rows
from stardag_site.db.text import (
    JsonText,
    UtcTimestampText,
    UuidText,
    json_fragment,
    timestamp_text,
    uuid_text,
)
from tasks.models import Task, TaskAsset


class TaskRegisterSerializer(serializers.Serializer):
    """Body of ``POST /builds/{id}/tasks`` and of the legacy ``POST /tasks`` (§4.10.1)."""

    task_id = StrictCharField(min_length=1, max_length=64, trim_whitespace=False)
    task_name = StrictCharField(min_length=1, max_length=255, trim_whitespace=False)
    task_namespace = StrictCharField(max_length=255, allow_blank=True, required=False,
                                     default="", trim_whitespace=False)
    task_data = serializers.DictField()
    version = StrictCharField(max_length=64, allow_null=True, allow_blank=True, required=False,
                              default=None, trim_whitespace=False)
    output_uri = StrictCharField(max_length=2048, allow_null=True, allow_blank=True,
                                 required=False, default=None, trim_whitespace=False)
    dependency_task_ids = serializers.ListField(
        child=StrictCharField(allow_blank=True, trim_whitespace=False), required=False,
        default=list,
    )


class TaskBulkItemSerializer(TaskRegisterSerializer):
    """One item of ``POST /builds/{id}/tasks/bulk`` (SDK-WIRE N2): a registration body, plus
    ``limit_keys`` (accepted, not stored: limits are enforced only by the v2 claims)."""

    limit_keys = serializers.ListField(child=serializers.CharField(), required=False,
                                       default=list)


MAX_BULK_TASKS = 1000


class TaskBulkRegisterSerializer(serializers.Serializer):
    """``POST /builds/{id}/tasks/bulk``: at most 1,000 items, dependencies first."""

    tasks = TaskBulkItemSerializer(many=True, allow_empty=True)
    scope_key = serializers.CharField(required=False, allow_null=True, default=None)


class TaskDependenciesSerializer(serializers.Serializer):
    """``POST /builds/{id}/tasks/{task_id}/dependencies`` (N3)."""

    upstream_task_ids = serializers.ListField(
        child=serializers.CharField(min_length=1, max_length=64, trim_whitespace=False),
        max_length=MAX_BULK_TASKS,
    )
    is_dynamic = serializers.BooleanField(required=False, default=True)
    scope_key = serializers.CharField(required=False, allow_null=True, default=None)


class AssetItemSerializer(serializers.Serializer):
    """One item of the asset upload array (§4.10.3)."""

    type = StrictCharField(min_length=1, max_length=50, trim_whitespace=False)
    name = StrictCharField(min_length=1, max_length=255, trim_whitespace=False)
    body = serializers.DictField()


class TaskSerializer(serializers.ModelSerializer):
    """Task (§4.11)."""

    environment_id = serializers.UUIDField(read_only=True)
    task_data = serializers.JSONField(read_only=True)
    created_at = UtcTimestampField()

    class Meta:
        model = Task
        fields = ["id", "task_id", "environment_id", "task_namespace", "task_name", "task_data",
                  "version", "output_uri", "created_at"]
        read_only_fields = fields


LATEST_FIELDS = ["latest_status", "latest_status_at", "latest_status_build_id",
                 "latest_executor", "latest_executor_ref", "latest_executor_metadata",
                 "latest_execution_id"]


class TaskLatestMixin(serializers.Serializer):
    """The ``latest_*`` fields SDK ≥0.10 reads (SDK-WIRE §3.5 E-state); additive."""

    latest_status_at = UtcTimestampField(allow_null=True)
    latest_status_build_id = serializers.UUIDField(read_only=True, allow_null=True)
    latest_executor_metadata = serializers.JSONField(read_only=True, allow_null=True)


class TaskWithStatusSerializer(TaskLatestMixin, TaskSerializer):
    """Task plus its GLOBAL status (§5.3), read from the materialised columns (§4.10.4), and
    the ``latest_*`` state."""

    started_at = UtcTimestampField(allow_null=True)
    completed_at = UtcTimestampField(allow_null=True)
    status_build_id = serializers.UUIDField(read_only=True, allow_null=True)

    class Meta(TaskSerializer.Meta):
        fields = [*TaskSerializer.Meta.fields, "status", "started_at", "completed_at",
                  "error_message", "asset_count", "waiting_for_lock", "status_build_id",
                  *LATEST_FIELDS]
        read_only_fields = fields


class TaskListItemSerializer(TaskLatestMixin, TaskSerializer):
    """A row of ``GET /tasks``: the task and its ``latest_*`` state (C9)."""

    class Meta(TaskSerializer.Meta):
        fields = [*TaskSerializer.Meta.fields, *LATEST_FIELDS]
        read_only_fields = fields


class TaskListSerializer(serializers.Serializer):
    tasks = TaskListItemSerializer(many=True)
    total = serializers.IntegerField()
    page = serializers.IntegerField()
    page_size = serializers.IntegerField()


class AssetSerializer(serializers.ModelSerializer):
    """Asset (§4.10.3); ``task_id`` is the SDK task id. Pass ``context={"task": task}`` to
    avoid a query per asset.
    """

    task_id = serializers.SerializerMethodField()
    body = serializers.JSONField(read_only=True)
    created_at = UtcTimestampField()

    class Meta:
        model = TaskAsset
        fields = ["id", "task_id", "asset_type", "name", "body", "created_at"]
        read_only_fields = fields

    def get_task_id(self, asset: TaskAsset) -> str:
        task = self.context.get("task")
        return task.task_id if task is not None else asset.task.task_id


class AssetListSerializer(serializers.Serializer):
    assets = AssetSerializer(many=True)


class ArtifactListSerializer(serializers.Serializer):
    artifacts = AssetSerializer(many=True)


class LifecycleResultSerializer(serializers.Serializer):
    """Answer of a task lifecycle call: the PER-BUILD status after the event (§5.2)."""

    task_id = serializers.CharField()
    status = serializers.CharField()


class GraphNodeSerializer(serializers.ModelSerializer):
    class Meta:
        model = Task
        fields = ["id", "task_id", "task_name", "task_namespace", "status", "asset_count"]
        read_only_fields = fields


class GraphEdgeSerializer(serializers.Serializer):
    # A field named like DRF's ``Field.source`` attribute; the serializer metaclass moves
    # declared fields out of the class namespace, so nothing is shadowed at run time.
    source = serializers.UUIDField()  # type: ignore[assignment]
    target = serializers.UUIDField()
    is_dynamic = serializers.BooleanField()


class GraphSerializer(serializers.Serializer):
    nodes = GraphNodeSerializer(many=True)
    edges = GraphEdgeSerializer(many=True)


class TaskMetadataSerializer(serializers.Serializer):
    """``GET /tasks/{task_id}/metadata`` [SDK]: validated strictly by ``AliasTask``; ``version``
    is always a string (``""`` for none).
    """

    id = serializers.CharField(source="task_id")
    body = serializers.JSONField(source="task_data")
    name = serializers.CharField(source="task_name")
    namespace = serializers.CharField(source="task_namespace")
    version = serializers.SerializerMethodField()
    output_uri = serializers.CharField(allow_null=True)
    status = serializers.CharField()
    registered_at = UtcTimestampField(source="created_at")
    started_at = UtcTimestampField(allow_null=True)
    completed_at = UtcTimestampField(allow_null=True)
    error_message = serializers.CharField(allow_null=True)

    def get_version(self, task: Task) -> str:
        return task.version or ""


def edges_body(edges: Iterable[tuple[Any, Any, bool]]) -> list[dict[str, Any]]:
    """Graph edges from (dependency id, dependent id, is_dynamic) triples."""
    return [{"source": uuid_text(source), "target": uuid_text(target), "is_dynamic": is_dynamic}
            for source, target, is_dynamic in edges]


def graph_body(nodes: Iterable[tuple[Any, ...]],
               edges: Iterable[tuple[Any, Any, bool]]) -> dict[str, Any]:
    """``GraphSerializer``'s output from ``tasks.services.task_graph_for_build``'s rows (nodes
    of ``graph_node_row()``)."""
    return {"nodes": graph_node_dicts(nodes), "edges": edges_body(edges)}


TASK_COLUMNS = ("id", "task_id", "environment_id", "task_namespace", "task_name", "task_data",
                "version", "output_uri", "created_at")


def graph_node_row() -> tuple[Any, ...]:
    """``values_list`` arguments for ``graph_node_dicts`` (the id as text on PostgreSQL)."""
    return (UuidText("id"), "task_id", "task_name", "task_namespace", "status", "asset_count")


def _uuid_or_none(value: Any) -> str | None:
    return str(value) if value is not None else None


def task_dict(task: Task) -> dict[str, Any]:
    """``TaskSerializer(task).data`` as a plain dict (a test pins the equality)."""
    return {"id": str(task.id), "task_id": task.task_id,
            "environment_id": str(task.environment_id), "task_namespace": task.task_namespace,
            "task_name": task.task_name, "task_data": task.task_data, "version": task.version,
            "output_uri": task.output_uri, "created_at": utc_timestamp(task.created_at)}


def task_status_row() -> tuple[Any, ...]:
    """``values_list`` arguments for ``task_status_dicts``: on PostgreSQL the UUIDs, timestamps
    and ``task_data`` come back as the response's text (``stardag_site.db.text``)."""
    return (UuidText("id"), "task_id", UuidText("environment_id"), "task_namespace",
            "task_name", JsonText("task_data"), "version", "output_uri",
            UtcTimestampText("created_at"), "status", UtcTimestampText("started_at"),
            UtcTimestampText("completed_at"), "error_message", "asset_count",
            "waiting_for_lock", UuidText("status_build_id"), "latest_status",
            UtcTimestampText("latest_status_at"), UuidText("latest_status_build_id"),
            "latest_executor", "latest_executor_ref", JsonText("latest_executor_metadata"),
            "latest_execution_id")


def task_status_list_body(tasks: QuerySet[Task]) -> list[dict[str, Any]]:
    """The JSON list of ``tasks`` in the queryset's order, as
    ``TaskWithStatusSerializer(many=True)`` writes it."""
    return task_status_dicts(fetch_rows(tasks.values_list(*task_status_row())))


def task_status_dicts(rows: Iterable[tuple[Any, ...]]) -> list[dict[str, Any]]:
    """``TaskWithStatusSerializer(many=True)``'s JSON from ``values_list(*task_status_row())``
    rows: no model instance or serializer per task (a 1,000-task build is one list), and the
    stored ``task_data`` embedded without parsing it."""
    return [
        {"id": uuid_text(pk), "task_id": task_id, "environment_id": uuid_text(environment_id),
         "task_namespace": namespace, "task_name": name, "task_data": json_fragment(data),
         "version": version, "output_uri": output_uri, "created_at": timestamp_text(created_at),
         "status": status, "started_at": timestamp_text(started_at),
         "completed_at": timestamp_text(completed_at), "error_message": error_message,
         "asset_count": asset_count, "waiting_for_lock": waiting_for_lock,
         "status_build_id": uuid_text(status_build_id), "latest_status": latest_status,
         "latest_status_at": timestamp_text(latest_status_at),
         "latest_status_build_id": uuid_text(latest_build_id),
         "latest_executor": executor, "latest_executor_ref": executor_ref,
         "latest_executor_metadata": json_fragment(executor_metadata),
         "latest_execution_id": execution_id}
        for (pk, task_id, environment_id, namespace, name, data, version, output_uri, created_at,
             status, started_at, completed_at, error_message, asset_count, waiting_for_lock,
             status_build_id, latest_status, latest_status_at, latest_build_id, executor,
             executor_ref, executor_metadata, execution_id) in rows
    ]


def graph_node_dicts(rows: Iterable[tuple[Any, ...]]) -> list[dict[str, Any]]:
    """``GraphNodeSerializer(many=True)``'s output from ``values_list(*graph_node_row())``."""
    return [{"id": uuid_text(pk), "task_id": task_id, "task_name": name,
             "task_namespace": namespace, "status": status, "asset_count": asset_count}
            for pk, task_id, name, namespace, status, asset_count in rows]
