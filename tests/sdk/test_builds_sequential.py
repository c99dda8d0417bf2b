"""Real builds with the SDK's sequential builder against the live server (acceptance 1)."""

from __future__ import annotations

import pytest
from stardag.build import BuildExitStatus, FailMode, build_sequential

from tests.sdk.build_checks import (
    assert_build,
    assert_fresh_build,
    assert_metadata,
    task_events,
    task_statuses,
)
from tests.sdk.build_dags import all_tasks, failing_dag, report_dag

pytestmark = pytest.mark.sdk


def test_sequential_build_of_a_dag_with_assets(sdk_env):
    root = report_dag("seq")
    tasks = all_tasks(root)
    assert len(tasks) == 11

    summary = build_sequential(root)

    assert_fresh_build(sdk_env, summary, root, tasks)
    assets = sdk_env.get(f"/api/v1/tasks/{root.id}/assets")["assets"]
    assert [(a["asset_type"], a["name"], a["body"]) for a in assets] == [
        ("markdown", "summary", {"content": "# Report seq\n\nTotal: **12**"}),
        ("json", "metrics", {"total": 12, "title": "Report seq"}),
    ]
    nodes = {n["task_id"]: n for n in sdk_env.get(f"/api/v1/builds/{summary.build_id}/graph")
             ["nodes"]}
    assert nodes[str(root.id)]["asset_count"] == 2
    assert root.output().load() == 12


def test_same_dag_built_again_is_referenced_not_rerun(sdk_env):
    root = report_dag("again")
    first = build_sequential(root)
    assert first.status == BuildExitStatus.SUCCESS

    second = build_sequential(root)

    assert second.status == BuildExitStatus.SUCCESS
    assert second.task_count.previously_completed == 1 and second.task_count.succeeded == 0
    assert_build(sdk_env, second.build_id, status="completed", root=root)
    events = task_events(sdk_env, second.build_id)
    assert events == {"<build>": ["build_started", "build_completed"],
                      str(root.id): ["task_referenced"]}
    rows = sdk_env.get(f"/api/v1/builds/{second.build_id}/tasks")
    # Completed in the first build: the second one shows the work done there.
    assert [(r["task_id"], r["status"], r["status_build_id"]) for r in rows] == [
        (str(root.id), "completed", str(first.build_id))]
    assert len(sdk_env.get(f"/api/v1/tasks/{root.id}/events")) == 4
    assert sdk_env.get("/api/v1/tasks?page_size=100")["total"] == 11


def test_failing_task_fails_the_build_fast(sdk_env):
    root = failing_dag("fast")
    tasks = all_tasks(root)

    summary = build_sequential(root)

    assert summary.status == BuildExitStatus.FAILURE
    assert_build(sdk_env, summary.build_id, status="failed", root=root)
    statuses = task_statuses(sdk_env, summary.build_id)
    explode = next(t for t in tasks.values() if t.get_name() == "Explode")
    number = explode.source
    assert statuses[str(explode.id)] == "failed" and statuses[str(number.id)] == "completed"
    assert str(root.id) not in statuses  # never reached
    events = sdk_env.get(f"/api/v1/builds/{summary.build_id}/events")
    failed = [e for e in events if e["event_type"] in ("task_failed", "build_failed")]
    assert [(e["event_type"], e["error_message"]) for e in failed] == [
        ("task_failed", "cannot handle 7"), ("build_failed", "cannot handle 7")]
    assert events[-1]["event_type"] == "build_failed"
    assert_metadata(sdk_env, explode, status="failed")
    meta = sdk_env.get(f"/api/v1/tasks/{explode.id}/metadata")
    assert meta["error_message"] == "cannot handle 7" and meta["completed_at"]


def test_continue_mode_completes_the_build_despite_a_failed_task(sdk_env):
    root = failing_dag("continue")

    summary = build_sequential(root, fail_mode=FailMode.CONTINUE)

    assert summary.status == BuildExitStatus.FAILURE
    assert_build(sdk_env, summary.build_id, status="completed", root=root)
    statuses = task_statuses(sdk_env, summary.build_id)
    assert sorted(statuses.values()) == ["completed", "completed", "failed"]
    assert str(root.id) not in statuses
