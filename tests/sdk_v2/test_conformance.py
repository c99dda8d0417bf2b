"""Acceptance 3 of issue 14: one scenario, driven through the 0.28 SDK's own API client against
``stardag.testing.InMemoryRegistry`` and against this server, gives equal results and refusal
codes (see ``conformance.py`` for the steps)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.sdk_v2.conftest import release_python

pytestmark = [pytest.mark.sdk, pytest.mark.sdk_releases]

SCENARIO = Path(__file__).resolve().parent / "conformance.py"
# Every refusal code of SDK-WIRE 4.6 that a local build can meet and the scenario provokes.
CODES = {
    "no_roots", "root_declared_upstreams", "root_mismatch", "unknown_deployment",
    "reserved_settings_key", "root_instance_conflict", "plan_id_conflict",
    "plan_incomplete_registration", "unknown_upstream", "clock_skew", "instance_body_conflict",
    "task_identity_conflict", "instance_conflict", "upstream_incomplete",
    "task_already_running", "claim_not_held", "execution_already_ended",
    "task_already_completed", "deployment_mismatch", "yielded_not_in_items",
    "execution_not_current", "unknown_execution", "not_a_member", "build_terminal",
    "plan_incomplete", "task_not_skippable", "build_not_running", "unknown_build",
    "unknown_plan", "unknown_member", "unknown_settings",
}


def transcript(*args: str, home: Path) -> list[list[object]]:
    done = subprocess.run([str(release_python("0.28.0")), str(SCENARIO), *args],
                          env={"PATH": os.environ.get("PATH", ""), "HOME": str(home),
                               "STARDAG_NO_REGISTRY": "0"},
                          cwd=home, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_server_answers_like_the_reference_registry(release_server) -> None:
    url, tenant, home = release_server
    reference = transcript("memory", "run1", home=home)
    ours = transcript("server", url, tenant.api_key, "run1", home=home)
    assert [line[0] for line in ours] == [line[0] for line in reference]
    assert [(a, b) for a, b in zip(ours, reference, strict=True) if a != b] == []
    refused = {line[2] for line in reference if line[1] == "refused"}
    assert refused == CODES
