"""Driver: build one DAG with the release's default local ``sd.build`` and print the outcome.

    python run_build.py report|failing SALT [--resume BUILD_ID | --sequential]

Prints one JSON line on stdout: the build summary (status, build id, task counts), the DAG's
task ids and static edges, and the dynamic inputs' ids. Exits 0 even when the build failed or
``sd.build`` raised the task's error (the test decides what was expected).
"""

from __future__ import annotations

import json
import os
import sys
import uuid

import httpx
import stardag as sd
from dags import Number, describe, failing_dag, report_dag


def newest_build_id() -> str:
    """The build a raising ``sd.build`` created: the environment's newest one."""
    url = os.environ.get("STARDAG_API_URL") or os.environ["STARDAG_REGISTRY_URL"]
    response = httpx.get(f"{url}/api/v1/builds", params={"page_size": 1},
                         headers={"X-API-Key": os.environ["STARDAG_API_KEY"]})
    return response.json()["builds"][0]["id"]


def main() -> None:
    scenario, salt = sys.argv[1], sys.argv[2]
    resume = sys.argv[4] if len(sys.argv) > 4 and sys.argv[3] == "--resume" else None
    sequential = sys.argv[3:4] == ["--sequential"]
    root = report_dag(salt) if scenario == "report" else failing_dag(salt)
    kwargs = {"resume_build_id": uuid.UUID(resume)} if resume else {}
    try:
        summary = (sd.build_sequential(root) if sequential else sd.build(root, **kwargs))
    except Exception as exc:  # 0.10+ re-raise a failing task's error (fail-fast)
        outcome = {"status": "failure", "build_id": resume or newest_build_id(),
                   "error": repr(exc), "succeeded": None, "failed": None}
    else:
        counts = summary.task_count
        outcome = {
            "status": str(getattr(summary.status, "value", summary.status)),
            "build_id": str(summary.build_id) if summary.build_id else None,
            "error": repr(summary.error) if summary.error else None,
            "succeeded": counts.succeeded,
            "failed": counts.failed,
        }
    result = {
        **outcome,
        "raised": outcome["succeeded"] is None,
        "dynamic": [str(Number(salt=salt, value=v).id) for v in (100, 101)],
        **describe(root),
    }
    print("RESULT " + json.dumps(result))


if __name__ == "__main__":
    main()
