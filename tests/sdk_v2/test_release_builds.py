"""Acceptance 1 of issue 14: ``pip install stardag`` (0.28.0) and 0.27.0, default local
``sd.build()`` against a live server, with an API key and with a bearer token; every outcome is
read back through ``/api/v2``."""

from __future__ import annotations

from typing import Any

import pytest

from tests.sdk_v2.conftest import Release

pytestmark = [pytest.mark.sdk, pytest.mark.sdk_releases]


def graph_of(release: Release, build_id: str) -> dict[str, Any]:
    plans = release.api.ok("GET", f"/builds/{build_id}/plans")["plans"]
    assert len(plans) == 1
    return release.api.ok("GET", f"/plans/{plans[0]['id']}/graph")


def check_dag(release: Release, report: dict[str, Any]) -> str:
    """The DAG's build completed with every task, edge (the yield's marked dynamic), artifact
    and execution recorded. Returns the build id."""
    assert report["ok"], report
    ids = report["ids"]
    builds = release.api.ok("GET", "/builds")["builds"]
    build = builds[0]
    assert build["status"] == "completed" and build["root_task_ids"] == [ids["root"]]
    graph = graph_of(release, build["id"])
    by_task = {m["task_id"]: m for m in graph["members"]}
    assert {t: by_task[ids[t]]["status"] for t in ids} == dict.fromkeys(ids, "completed")
    assert by_task[ids["child"]]["admitted_by"] == "dynamic"
    task_of = {m["instance_id"]: m["task_id"] for m in graph["members"]}
    edges = {(task_of[e["upstream_instance_id"]], task_of[e["downstream_instance_id"]],
              e["is_dynamic"]) for e in graph["edges"]}
    assert edges == {(ids["leaf"], ids["root"], False), (ids["dyn"], ids["root"], False),
                     (ids["child"], ids["dyn"], True)}
    leaf_artifacts = release.api.ok("GET", f"/tasks/{ids['leaf']}/artifacts")["artifacts"]
    assert [(a["artifact_type"], a["name"]) for a in leaf_artifacts] == [("markdown", "report")]
    assert "# leaf" in str(leaf_artifacts[0]["body"])
    root_artifacts = release.api.ok("GET", f"/tasks/{ids['root']}/artifacts")["artifacts"]
    assert [(a["artifact_type"], a["name"]) for a in root_artifacts] == [("json", "summary")]
    assert root_artifacts[0]["body"] == {"total": 1 + 101}
    executions = release.api.ok("GET", f"/builds/{build['id']}/executions?include_ended=true")
    assert sorted((e["task_id"], e["outcome"]) for e in executions["executions"]) == sorted(
        (ids[t], "completed") for t in ids)
    return build["id"]


def check_second_run_executes_nothing(release: Release) -> None:
    before = release.api.ok("GET", "/builds")["builds"][0]["id"]
    report = release.run("dag")
    assert report["ok"], report
    build = release.api.ok("GET", "/builds")["builds"][0]
    assert build["id"] != before and build["status"] == "completed"
    executions = release.api.ok("GET", f"/builds/{build['id']}/executions?include_ended=true")
    assert executions["executions"] == []
    graph = graph_of(release, build["id"])
    # The root is observed complete; the seal's closure admits the recorded upstreams.
    assert {m["task_id"]: m["status"] for m in graph["members"]} == dict.fromkeys(
        report["ids"].values(), "completed")
    assert {m["admitted_by"] for m in graph["members"]} == {"root", "closure"}


def check_failure_and_resume(release: Release) -> None:
    failed = release.run("failing", tag=7)
    assert failed["ok"] is False and "boom" in failed["error"]
    ids = failed["ids"]
    build = next(b for b in release.api.ok("GET", "/builds")["builds"]
                 if b["root_task_ids"] == [ids["root"]])
    assert build["status"] == "failed"
    assert "boom" in build["error_message"] and "blocked" in build["error_message"]
    graph = graph_of(release, build["id"])
    statuses = {m["task_id"]: m["status"] for m in graph["members"]}
    assert statuses == {ids["boom"]: "failed", ids["root"]: "skipped"}
    resumed = release.run("retry", build["id"], tag=7, BOOM_OK="1")
    assert resumed["ok"], resumed
    after = release.api.ok("GET", f"/builds/{build['id']}")
    assert after["status"] == "completed" and after["is_resumed"] is True
    graph = graph_of(release, build["id"])
    assert {m["status"] for m in graph["members"]} == {"completed"}
    boom_runs = release.api.ok("GET", f"/tasks/{ids['boom']}/executions")["executions"]
    assert sorted(e["outcome"] for e in boom_runs) == ["completed", "failed"]


@pytest.mark.parametrize("version", ["0.28.0", "0.27.0"])
def test_release_builds_with_an_api_key(release_server, version: str) -> None:
    release = Release(version, *release_server)
    report = release.run("dag")
    assert report["sdk"] == version
    check_dag(release, report)
    check_second_run_executes_nothing(release)
    check_failure_and_resume(release)


def test_release_028_builds_with_a_bearer_token(release_server) -> None:
    url, tenant, home = release_server
    release = Release("0.28.0", url, tenant, home, bearer=True)
    check_dag(release, release.run("dag"))
    check_second_run_executes_nothing(release)
    check_failure_and_resume(release)
