"""Acceptance 4 of issue 14: the 0.28 CLI's reads print the recorded rows (builds, tasks, plans,
executions, deployments), as JSON and as the human tables."""

from __future__ import annotations

import json
import os
import subprocess
from typing import Any

import pytest

from tests.sdk_v2.conftest import Release, release_python

pytestmark = [pytest.mark.sdk, pytest.mark.sdk_releases]


def cli(release: Release, *args: str) -> str:
    stardag = release_python("0.28.0").parent / "stardag"
    done = subprocess.run(
        [str(release_python("0.28.0")), str(stardag), *args],
        env={"PATH": os.environ.get("PATH", ""), "HOME": str(release.home), "COLUMNS": "250",
             "STARDAG_API_URL": release.url, "STARDAG_API_KEY": release.tenant.api_key},
        cwd=release.home, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, (args, done.stdout[-2000:], done.stderr[-2000:])
    return done.stdout


def cli_json(release: Release, *args: str) -> Any:
    return json.loads(cli(release, *args, "--json"))


def test_cli_reads_print_the_recorded_rows(release_server) -> None:
    release = Release("0.28.0", *release_server)
    report = release.run("dag")
    assert report["ok"], report
    ids = report["ids"]
    build = release.api.ok("GET", "/builds")["builds"][0]

    listed = cli_json(release, "builds", "list")
    assert [b["id"] for b in listed["builds"]] == [build["id"]]
    assert build["id"][:8] in cli(release, "builds", "list")
    shown = cli_json(release, "builds", "show", build["id"])
    assert shown["status"] == "completed" and shown["root_task_ids"] == [ids["root"]]
    frontier = cli_json(release, "builds", "frontier", build["id"])
    assert frontier["plan_complete"] is True and frontier["runnable"] == []

    tasks = cli_json(release, "tasks", "list")
    assert {t["task_id"]: t["status"] for t in tasks["tasks"]} == dict.fromkeys(
        ids.values(), "completed")
    task = cli_json(release, "tasks", "show", ids["root"])
    assert task["task_name"] == "Root" and task["instances"][0]["body"]["leaf"]
    assert "Root" in cli(release, "tasks", "show", ids["root"])

    plans = cli_json(release, "plans", "list", "--build", build["id"])
    plan = plans["plans"][0] if isinstance(plans, dict) else plans[0]
    assert plan["member_count"] == 4 and plan["member_counts"] == {"completed": 4}
    shown_plan = cli_json(release, "plans", "show", plan["id"])
    assert shown_plan["is_active"] is True and shown_plan["root_count"] == 1

    executions = cli_json(release, "executions", "list", "--build", build["id"],
                          "--include-ended")
    rows = executions["executions"] if isinstance(executions, dict) else executions
    assert sorted(e["task_id"] for e in rows) == sorted(ids.values())
    assert ids["root"][:8] in cli(release, "executions", "list", "--build", build["id"],
                                  "--include-ended")

    deployments = cli_json(release, "deployments", "list")
    rows = deployments["deployments"] if isinstance(deployments, dict) else deployments
    assert [(d["kind"], d["code_id"]) for d in rows] == [("local", "release-test")]
    shown_deployment = cli_json(release, "deployments", "show", rows[0]["id"])
    assert shown_deployment["app_name"] == "local" and shown_deployment["is_current"] is False


def test_cli_concurrency_limits(release_server) -> None:
    release = Release("0.28.0", *release_server)
    assert "max_concurrent=2" in cli(release, "concurrency-limits", "set", "gpu", "2")
    assert "gpu" in cli(release, "concurrency-limits", "list")
    limits = cli_json(release, "concurrency-limits", "list")
    rows = limits["limits"] if isinstance(limits, dict) else limits
    assert [(x["key"], x["max_concurrent"], x["in_use"]) for x in rows] == [("gpu", 2, 0)]
    assert "No current holders" in cli(release, "concurrency-limits", "holders", "gpu")
    assert "Deleted" in cli(release, "concurrency-limits", "delete", "gpu", "--yes")
    assert release.api.ok("GET", "/concurrency-limits")["limits"] == []
