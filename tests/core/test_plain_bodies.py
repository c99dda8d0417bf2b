"""The plain-dict bodies of hot and large responses equal the DRF serializers' output (issue 10:
lean serialization must not change the wire shape)."""

from __future__ import annotations

import datetime
import json

from builds.models import Build, Event
from builds.serializers import (
    BuildSerializer,
    EventSerializer,
    build_body,
    event_dicts,
    event_list_body,
    event_row,
    trigger_users,
)
from builds.services import build_create, build_event_record
from stardag_site.api.renderers import FastJSONRenderer
from tasks.models import Task, TaskDependency
from tasks.serializers import (
    GraphNodeSerializer,
    GraphSerializer,
    TaskSerializer,
    TaskWithStatusSerializer,
    graph_body,
    graph_node_dicts,
    graph_node_row,
    task_dict,
    task_status_dicts,
    task_status_list_body,
    task_status_row,
)
from tasks.services import task_event_record, task_graph_for_build, task_register
from tests import factories


def _wire(data):
    """What a client parses: the rendered JSON (list bodies embed stored JSON unparsed)."""
    return json.loads(FastJSONRenderer().render(data))


def _history(tenant):
    build = build_create(environment=tenant.environment, user=tenant.user, commit_hash="abc",
                         root_task_ids=["t1", "t1", "x"], description="desc")
    t1 = task_register(build=build, payload={
        "task_id": "t1", "task_name": "Train", "task_namespace": "ml",
        "task_data": {"lr": 0.01, "nested": {"a": [1, None]}}, "version": "2",
        "output_uri": "s3://b/t1"})
    t2 = task_register(build=build, payload={"task_id": "t2", "task_name": "Eval",
                                             "task_data": {}, "dependency_task_ids": ["t1"]})
    task_event_record(build=build, task=t1, event_type="task_started")
    task_event_record(build=build, task=t1, event_type="task_failed", error_message="boom",
                      metadata={"k": "v"})
    task_event_record(build=build, task=t2, event_type="task_waiting_for_lock")
    return build


def test_build_body_equals_the_serializer(tenant_a):
    trigger = factories.make_user(external_id="sub-trigger", display_name=None)
    build = _history(tenant_a)
    build_event_record(build=build, event_type="build_completed",
                       metadata={"triggered_by_user_id": trigger.external_id})
    plain = build_create(environment=tenant_a.environment)
    for item in (Build.objects.get(pk=build.pk), Build.objects.get(pk=plain.pk)):
        expected = BuildSerializer(item, context={"trigger_users": trigger_users([item])}).data
        assert build_body(item) == expected
    builds = list(Build.objects.filter(environment=tenant_a.environment))
    expected = BuildSerializer(builds, many=True,
                               context={"trigger_users": trigger_users(builds)}).data
    assert build_body(builds) == expected
    assert build_body(Build.objects.get(pk=build.pk))["status_triggered_by_user"] == {
        "id": "sub-trigger", "email": trigger.email, "display_name": None}


def test_task_event_and_graph_bodies_equal_the_serializers(tenant_a):
    build = _history(tenant_a)
    tasks = Task.objects.filter(environment=tenant_a.environment).order_by("created_at", "id")
    assert [task_dict(task) for task in tasks] == TaskSerializer(tasks, many=True).data
    assert (_wire(task_status_dicts(tasks.values_list(*task_status_row())))
            == _wire(TaskWithStatusSerializer(tasks, many=True).data))
    assert (graph_node_dicts(tasks.values_list(*graph_node_row()))
            == GraphNodeSerializer(tasks, many=True).data)
    events = Event.objects.filter(build=build).order_by("created_at", "id")
    assert (_wire(event_dicts(events.values_list(*event_row())))
            == _wire(EventSerializer(events, many=True).data))
    assert any(row["error_message"] == "boom" for row in event_dicts(
        events.values_list(*event_row())))


def test_list_bodies_built_by_the_database_equal_the_serializers(tenant_a):
    """The build's task, event and graph lists: on PostgreSQL one JSON aggregate each
    (``json_array_text``), elsewhere Python dicts; either way the parsed JSON is the
    serializers' output, in the same order, with stored JSON, floats, nulls and booleans
    intact."""
    build = _history(tenant_a)
    outside = task_register(build=build_create(environment=tenant_a.environment),
                            payload={"task_id": "o", "task_name": "Other", "task_data": {}})
    inside = Task.objects.get(environment=tenant_a.environment, task_id="t1")
    TaskDependency.objects.create(dependency=outside, dependent=inside)  # edge from outside

    tasks = Task.objects.filter(pk__in=Event.objects.filter(build=build).values("task_id"))
    ordered = tasks.order_by("created_at", "id")
    assert (_wire(task_status_list_body(ordered))
            == _wire(TaskWithStatusSerializer(ordered, many=True).data))
    events = Event.objects.filter(build=build)
    wire_events = _wire(event_list_body(events))
    assert wire_events == _wire(EventSerializer(events.order_by("created_at", "id"),
                                                many=True).data)
    assert [event["event_metadata"] for event in wire_events][-2:] == [{"k": "v"}, None]
    nodes, edges = task_graph_for_build(build=build, node_columns=graph_node_row())
    graph = _wire(graph_body(nodes, edges))
    edge = TaskDependency.objects.get(dependency__task_id="t1", dependent__task_id="t2")
    assert graph == _wire(GraphSerializer({
        "nodes": ordered,
        "edges": [{"source": str(edge.dependency_id), "target": str(edge.dependent_id),
                   "is_dynamic": edge.is_dynamic}]}).data)
    assert [node["task_id"] for node in graph["nodes"]] == ["t1", "t2"]
    assert _wire(event_list_body(Event.objects.none())) == []


def test_timestamps_are_utc_whatever_the_value_zone(tenant_a):
    from stardag_site.api.fields import UtcTimestampField, utc_timestamp

    value = datetime.datetime(2025, 3, 4, 5, 6, 7, 89, tzinfo=datetime.timezone(
        datetime.timedelta(hours=2)))
    assert utc_timestamp(value) == UtcTimestampField().to_representation(value)
    assert utc_timestamp(value) == "2025-03-04T03:06:07.000089Z"
    assert utc_timestamp(None) is None


def test_fetch_rows_gives_what_the_queryset_gives(tenant_a):
    """``fetch_rows`` reads the cursor directly only when no column needs a converter; the rows
    are ``list(queryset)``'s either way (text columns, parsed JSON, an empty filter)."""
    from stardag_site.db.rows import fetch_rows
    from stardag_site.db.text import UtcTimestampText, UuidText

    _history(tenant_a)
    tasks = Task.objects.filter(environment=tenant_a.environment).order_by("created_at", "id")
    for queryset in (tasks.values_list(UuidText("id"), "task_id", UtcTimestampText("created_at"),
                                       "asset_count", "waiting_for_lock"),
                     tasks.values_list("id", "task_data", "created_at"),
                     tasks.filter(pk__in=[]).values_list("id")):
        assert fetch_rows(queryset) == list(queryset)
    assert fetch_rows(tasks.values_list("id", "task_data"))[0][1] == {
        "lr": 0.01, "nested": {"a": [1, None]}}


def test_lock_dict_equals_the_serializer(tenant_a):
    from locks.serializers import LockSerializer, lock_dict
    from locks.services import lock_acquire

    lock = lock_acquire(environment=tenant_a.environment, name="t-lock", owner_id="me",
                        ttl_seconds=60, check_task_completion=False).lock
    assert lock is not None
    assert lock_dict(lock) == LockSerializer(lock).data
    assert lock_dict(lock)["expires_at"].endswith("Z")
