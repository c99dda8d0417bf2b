"""Released SDKs 0.2.1, 0.10.2, 0.20.1 and 0.26.0 record complete builds (issue 12).

Each release builds, in its own venv and as a subprocess, against the live server:

* a DAG with static dependencies, a dynamic dependency, a 3 KB parameter (gzip bodies from
  0.10 on) and markdown + JSON artifacts; then the same DAG again (nothing may run twice);
* a DAG whose task raises, with downstream tasks; then that build resumed with the failure
  fixed.

After each build the test reads the server's own API: build status, every task's status, every
edge (dynamic ones flagged), every artifact's content, the failure message, the events.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pytest

from tests.sdk_releases.conftest import ReleaseRun

pytestmark = [pytest.mark.sdk, pytest.mark.sdk_releases]

REPORT_TOTAL = 1 * 2 + 2 * 3 + 100 + 101


def reports_dynamic_edges(version: str) -> bool:
    """``POST …/dependencies`` and ``…/skip`` are first sent by 0.10."""
    return version != "0.2.1"


def assert_no_fallback(result: dict[str, Any]) -> None:
    """The SDK logged no missing-route fallback ("does not support POST /tasks/bulk", …) and
    no failed registry call: every call it made found its route."""
    log = result["log"]
    assert "does not support" not in log and "Failed to notify registry" not in log, log


def build_tasks(run: ReleaseRun, build_id: str) -> dict[str, dict[str, Any]]:
    return {row["task_id"]: row for row in run.get(f"/api/v1/builds/{build_id}/tasks")}


def build_events(run: ReleaseRun, build_id: str) -> dict[str, list[str]]:
    """Event types per SDK task id in the build (build-level ones under ``"<build>"``)."""
    sdk_id = {row["id"]: task_id for task_id, row in build_tasks(run, build_id).items()}
    grouped: dict[str, list[str]] = defaultdict(list)
    for event in run.get(f"/api/v1/builds/{build_id}/events"):
        grouped[sdk_id[event["task_id"]] if event["task_id"] else "<build>"].append(
            event["event_type"])
    return dict(grouped)


def graph_edges(run: ReleaseRun, build_id: str) -> dict[tuple[str, str], bool]:
    """(upstream SDK id, downstream SDK id) -> is_dynamic."""
    graph = run.get(f"/api/v1/builds/{build_id}/graph")
    sdk_id = {node["id"]: node["task_id"] for node in graph["nodes"]}
    return {(sdk_id[edge["source"]], sdk_id[edge["target"]]): edge.get("is_dynamic", False)
            for edge in graph["edges"]}


def assert_report_artifacts(run: ReleaseRun, result: dict[str, Any], salt: str) -> None:
    body = run.get(f"/api/v1/tasks/{result['root']}/artifacts")
    artifacts = {(item["asset_type"], item["name"]): item["body"] for item in body["artifacts"]}
    assert artifacts == {
        ("markdown", "summary"): {"content": f"# Report {salt}\n\nTotal: **{REPORT_TOTAL}**"},
        ("json", "metrics"): {"total": REPORT_TOTAL, "title": f"Report {salt}"},
    }
    # The 0.1.x spelling reads the same rows.
    assert run.get(f"/api/v1/tasks/{result['root']}/assets")["assets"] == body["artifacts"]


def test_dag_with_static_and_dynamic_deps_and_artifacts_then_rerun(release: ReleaseRun):
    salt = f"ok-{release.version}"
    first = release.build("report", salt)

    assert first["status"] == "success", first["error"] or first["log"]
    assert_no_fallback(first)
    build = release.get(f"/api/v1/builds/{first['build_id']}")
    assert build["status"] == "completed"
    assert build["root_task_ids"] == [first["root"]]
    assert build["commit_hash"] == "feedc0de"
    expected_ids = {*first["tasks"].values(), *first["dynamic"]}
    tasks = build_tasks(release, first["build_id"])
    assert {task_id: row["status"] for task_id, row in tasks.items()} == dict.fromkeys(
        expected_ids, "completed")
    assert first["succeeded"] == len(expected_ids) == 9
    edges = graph_edges(release, first["build_id"])
    static = {tuple(edge): False for edge in first["edges"]}
    discover = first["tasks"]["Discover"]
    dynamic = {(child, discover): True for child in first["dynamic"]}
    assert edges == ({**static, **dynamic} if reports_dynamic_edges(release.version)
                     else static)
    assert_report_artifacts(release, first, salt)
    events = build_events(release, first["build_id"])
    assert events["<build>"] == ["build_started", "build_completed"]
    assert all(types.count("task_started") == 1 and types[-1] == "task_completed"
               for task_id, types in events.items() if task_id != "<build>"), events

    second = release.build("report", salt)

    assert second["status"] == "success", second["error"] or second["log"]
    assert_no_fallback(second)
    assert second["build_id"] != first["build_id"] and second["succeeded"] == 0
    assert release.get(f"/api/v1/builds/{second['build_id']}")["status"] == "completed"
    events = build_events(release, second["build_id"])
    assert events.pop("<build>") == ["build_started", "build_completed"]
    assert events and not any("task_started" in types for types in events.values()), events
    assert all(row["status"] == "completed"
               for row in build_tasks(release, second["build_id"]).values())


def test_failing_task_blocks_downstream_then_resume_completes(release: ReleaseRun):
    salt = f"fail-{release.version}"
    failed = release.build("failing", salt, fail=True)

    assert failed["status"] == "failure"
    assert_no_fallback(failed)
    build_id = failed["build_id"]
    build = release.get(f"/api/v1/builds/{build_id}")
    assert build["status"] == "failed"
    ids = failed["tasks"]
    rows = build_tasks(release, build_id)
    statuses = {task_id: row["latest_status"] for task_id, row in rows.items()}
    expected = {ids["Number(7)"]: "completed", ids["Number(1)"]: "completed",
                ids["Explode"]: "failed"}
    if reports_dynamic_edges(release.version):
        # Registered up front (bulk) and skipped once Explode failed.
        expected |= {ids["Total"]: "skipped", ids["Report"]: "skipped"}
    # 0.2.x registers a task only when it becomes ready, so the blocked ones never appear.
    assert statuses == expected
    # The contract's global status (§5.3) is unchanged: a skip does not move it.
    assert {row["status"] for row in rows.values()} == {"completed", "failed", "pending"} - (
        set() if reports_dynamic_edges(release.version) else {"pending"})
    explode = release.get(f"/api/v1/tasks/{ids['Explode']}/metadata")
    assert "boom at 7" in explode["error_message"]
    build_failed = [event for event in release.get(f"/api/v1/builds/{build_id}/events")
                    if event["event_type"] == "build_failed"]
    assert len(build_failed) == 1 and "boom at 7" in build_failed[0]["error_message"]
    assert graph_edges(release, build_id) == {
        tuple(edge): False for edge in failed["edges"] if set(edge) <= set(statuses)}

    resumed = release.build("failing", salt, resume=build_id)

    assert resumed["status"] == "success", resumed["error"] or resumed["log"]
    assert_no_fallback(resumed)
    assert resumed["build_id"] == build_id
    build = release.get(f"/api/v1/builds/{build_id}")
    assert build["status"] == "completed"
    statuses = {task_id: row["status"] for task_id, row in build_tasks(release, build_id).items()}
    assert statuses == dict.fromkeys(ids.values(), "completed")
    build_level = build_events(release, build_id)["<build>"]
    if release.version == "0.2.1":
        # 0.2.x resumes by recording into the old build; it has no resume call.
        assert build_level == ["build_started", "build_failed", "build_completed"]
    else:
        assert build_level == ["build_started", "build_failed", "build_resumed",
                               "build_completed"]
        assert build["is_resumed"] is True


def test_sequential_engine_records_the_dag_with_its_artifacts(release: ReleaseRun):
    """``sd.build_sequential``: 0.2.x uploads artifacts there without error handling, so a
    missing ``/artifacts`` route used to fail the whole build."""
    salt = f"seq-{release.version}"
    result = release.build("report", salt, sequential=True)

    assert result["status"] == "success", result["error"] or result["log"]
    assert_no_fallback(result)
    assert release.get(f"/api/v1/builds/{result['build_id']}")["status"] == "completed"
    rows = build_tasks(release, result["build_id"])
    assert {task_id: row["status"] for task_id, row in rows.items()} == dict.fromkeys(
        [*result["tasks"].values(), *result["dynamic"]], "completed")
    static = {tuple(edge): False for edge in result["edges"]}
    dynamic = {(child, result["tasks"]["Discover"]): True for child in result["dynamic"]}
    assert graph_edges(release, result["build_id"]) == (
        {**static, **dynamic} if reports_dynamic_edges(release.version) else static)
    assert_report_artifacts(release, result, salt)
