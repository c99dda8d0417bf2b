"""Acceptance 2 of issue 14: two concurrent 0.28 builds of overlapping DAGs on PostgreSQL. The
shared slow task's body runs exactly once, both builds complete, and its claim (TTL 2 s) outlives
its 4 s body only because the SDK renews it."""

from __future__ import annotations

import pytest

from tests.sdk_v2.conftest import Release

pytestmark = [pytest.mark.sdk, pytest.mark.sdk_releases, pytest.mark.postgres]


def test_shared_tasks_run_exactly_once_across_concurrent_builds(release_server,
                                                                tmp_path) -> None:
    release = Release("0.28.0", *release_server)
    markers = tmp_path / "markers"
    markers.mkdir()
    first = release.start("overlap", "a", MARKER_DIR=str(markers))
    second = release.start("overlap", "b", MARKER_DIR=str(markers))
    a, b = release.report(first), release.report(second)
    assert a["ok"] and b["ok"], (a, b)
    assert a["ids"]["slow2"] == b["ids"]["slow2"]
    slow = {a["ids"]["slow1"], a["ids"]["slow2"], b["ids"]["slow3"]}
    assert {p.name: len(p.read_text().splitlines()) for p in markers.iterdir()} == dict.fromkeys(
        slow, 1)
    builds = release.api.ok("GET", "/builds")["builds"]
    assert sorted(x["status"] for x in builds) == ["completed", "completed"]
    for task_id in slow:
        executions = release.api.ok("GET", f"/tasks/{task_id}/executions")["executions"]
        assert [(e["outcome"], e["claim_outcome"]) for e in executions] == [
            ("completed", "completed")], task_id
        task = release.api.ok("GET", f"/tasks/{task_id}")
        assert task["status"] == "completed"
