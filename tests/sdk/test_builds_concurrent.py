"""Real builds with the SDK's concurrent builder (``sd.build``) against the live server:
concurrent registrations and events, dynamic dependencies, re-builds (acceptance 1).
"""

from __future__ import annotations

import pytest
import stardag as sd
from stardag.build import BuildExitStatus, FailMode

from tests.sdk.build_checks import (
    FRESH_RUN,
    assert_build,
    assert_fresh_build,
    assert_metadata,
    task_events,
    task_statuses,
)
from tests.sdk.build_dags import Discover, Number, all_tasks, failing_dag, report_dag

pytestmark = pytest.mark.sdk


def test_concurrent_build_of_a_dag_with_assets(sdk_env):
    root = report_dag("conc")
    tasks = all_tasks(root)

    summary = sd.build(root)

    assert_fresh_build(sdk_env, summary, root, tasks)
    assert summary.task_count.succeeded == 11
    metrics = sdk_env.get(f"/api/v1/tasks/{root.id}/assets")["assets"][1]
    assert metrics["body"] == {"total": 12, "title": "Report conc"}


def test_concurrent_rebuild_references_and_self_heals_completed_tasks(sdk_env):
    root = report_dag("conc-again")
    first = sd.build(root)
    assert first.status == BuildExitStatus.SUCCESS

    second = sd.build(root)

    assert second.status == BuildExitStatus.SUCCESS and second.task_count.succeeded == 0
    assert_build(sdk_env, second.build_id, status="completed", root=root)
    assert task_events(sdk_env, second.build_id) == {
        "<build>": ["build_started", "build_completed"],
        str(root.id): ["task_referenced", "task_completed"],
    }
    rows = sdk_env.get(f"/api/v1/builds/{second.build_id}/tasks")
    # The latest completing build now decides the global status.
    assert [(r["status"], r["status_build_id"]) for r in rows] == [
        ("completed", str(second.build_id))]
    assert sdk_env.get("/api/v1/tasks?page_size=100")["total"] == 11


def test_dynamic_dependencies_suspend_and_resume(sdk_env):
    root = Discover(salt="dyn", count=3)
    inputs = [Number(salt="dyn", value=100 + i) for i in range(3)]

    summary = sd.build(root)

    assert summary.status == BuildExitStatus.SUCCESS, summary.error
    assert root.output().load() == 303
    assert_build(sdk_env, summary.build_id, status="completed", root=root)
    events = task_events(sdk_env, summary.build_id)
    assert events.pop("<build>") == ["build_started", "build_completed"]
    assert events.pop(str(root.id)) == ["task_pending", "task_started", "task_suspended",
                                        "task_resumed", "task_completed"]
    assert events == {str(task.id): FRESH_RUN for task in inputs}
    statuses = task_statuses(sdk_env, summary.build_id)
    assert set(statuses.values()) == {"completed"} and len(statuses) == 4
    graph = sdk_env.get(f"/api/v1/builds/{summary.build_id}/graph")
    assert len(graph["nodes"]) == 4 and graph["edges"] == []  # dynamic deps are not edges
    assert_metadata(sdk_env, root, status="completed")


def test_concurrent_failure_fails_fast_and_continue_completes(sdk_env):
    fast_root = failing_dag("conc-fast")
    fast = sd.build(fast_root)
    assert fast.status == BuildExitStatus.FAILURE
    assert_build(sdk_env, fast.build_id, status="failed", root=fast_root)
    explode = next(t for t in all_tasks(fast_root).values() if t.get_name() == "Explode")
    assert task_statuses(sdk_env, fast.build_id)[str(explode.id)] == "failed"
    fail_events = [e for e in sdk_env.get(f"/api/v1/builds/{fast.build_id}/events")
                   if e["event_type"] == "build_failed"]
    assert fail_events and "cannot handle 7" in fail_events[0]["error_message"]

    root = failing_dag("conc-continue")
    summary = sd.build(root, fail_mode=FailMode.CONTINUE)
    assert summary.status == BuildExitStatus.FAILURE
    assert_build(sdk_env, summary.build_id, status="completed", root=root)
    statuses = task_statuses(sdk_env, summary.build_id)
    assert sorted(statuses.values()) == ["completed", "completed", "failed"]
    assert_metadata(sdk_env, next(t for t in all_tasks(root).values()
                                  if t.get_name() == "Explode"), status="failed")
