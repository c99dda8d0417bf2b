"""Assertions about a finished SDK build, made through the REST API only."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from stardag.build import BuildExitStatus

from tests.sdk.build_dags import static_edges
from tests.sdk.env import COMMIT_HASH, SdkEnv

FRESH_RUN = ["task_pending", "task_started", "task_completed"]


def build_record(env: SdkEnv, build_id: Any) -> dict[str, Any]:
    return env.get(f"/api/v1/builds/{build_id}")


def task_events(env: SdkEnv, build_id: Any) -> dict[str, list[str]]:
    """Event types per SDK task id in one build, oldest first (and the build-level ones
    under ``"<build>"``).
    """
    tasks = env.get(f"/api/v1/builds/{build_id}/tasks")
    sdk_id = {task["id"]: task["task_id"] for task in tasks}
    events = env.get(f"/api/v1/builds/{build_id}/events")
    stamps = [event["created_at"] for event in events]
    assert stamps == sorted(stamps), "events must be listed oldest first"
    grouped: dict[str, list[str]] = defaultdict(list)
    for event in events:
        key = sdk_id[event["task_id"]] if event["task_id"] else "<build>"
        grouped[key].append(event["event_type"])
    return dict(grouped)


def assert_build(env: SdkEnv, build_id: Any, *, status: str, root: Any) -> dict[str, Any]:
    build = build_record(env, build_id)
    assert build["status"] == status
    assert build["commit_hash"] == COMMIT_HASH
    assert build["root_task_ids"] == [str(root.id)]
    assert build["environment_id"] == str(env.tenant.environment.pk)
    assert build["started_at"] and build["completed_at"]
    return build


def task_statuses(env: SdkEnv, build_id: Any) -> dict[str, str]:
    return {task["task_id"]: task["status"]
            for task in env.get(f"/api/v1/builds/{build_id}/tasks")}


def assert_graph(env: SdkEnv, build_id: Any, root: Any, expected_ids: set[str]) -> None:
    graph = env.get(f"/api/v1/builds/{build_id}/graph")
    sdk_id = {node["id"]: node["task_id"] for node in graph["nodes"]}
    assert set(sdk_id.values()) == expected_ids
    edges = {(sdk_id[edge["source"]], sdk_id[edge["target"]]) for edge in graph["edges"]}
    assert edges == {(a, b) for a, b in static_edges(root) if {a, b} <= expected_ids}


def assert_metadata(env: SdkEnv, task: Any, *, status: str) -> None:
    """Through the SDK's own strict client call (``AliasTask`` uses it)."""
    metadata = env.registry().task_get_metadata(task.id)
    assert metadata.id == task.id
    assert metadata.status == status
    assert metadata.name == task.get_name() and metadata.namespace == task.get_namespace()
    assert metadata.version == (task.version or "")
    assert metadata.body == task.model_dump(mode="json")
    assert metadata.output_uri == task.output().uri
    assert metadata.registered_at is not None


def assert_fresh_build(env: SdkEnv, summary: Any, root: Any, tasks: dict[str, Any]) -> None:
    """A first, successful build of ``root``: each of ``tasks`` (by SDK id) ran once and
    completed, and the build, its graph and every task's metadata say so."""
    assert summary.status == BuildExitStatus.SUCCESS, summary.error
    assert_build(env, summary.build_id, status="completed", root=root)
    assert task_statuses(env, summary.build_id) == dict.fromkeys(tasks, "completed")
    events = task_events(env, summary.build_id)
    assert events.pop("<build>") == ["build_started", "build_completed"]
    assert events == dict.fromkeys(tasks, FRESH_RUN)
    assert_graph(env, summary.build_id, root, set(tasks))
    for task in tasks.values():
        assert_metadata(env, task, status="completed")
