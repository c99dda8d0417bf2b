"""Driver: build one DAG with the release's default local ``sd.build`` and print the outcome.

    python run_build.py report|failing SALT [--resume BUILD_ID]

Prints one JSON line on stdout: the build summary (status, build id, task counts), the DAG's
task ids and static edges, and the dynamic inputs' ids. Exits 0 even when the build failed (the
test decides what was expected).
"""

from __future__ import annotations

import json
import sys
import uuid

import stardag as sd
from dags import Number, describe, failing_dag, report_dag


def main() -> None:
    scenario, salt = sys.argv[1], sys.argv[2]
    resume = sys.argv[4] if len(sys.argv) > 4 and sys.argv[3] == "--resume" else None
    root = report_dag(salt) if scenario == "report" else failing_dag(salt)
    kwargs = {"resume_build_id": uuid.UUID(resume)} if resume else {}
    summary = sd.build(root, **kwargs)
    counts = summary.task_count
    result = {
        "status": str(getattr(summary.status, "value", summary.status)),
        "build_id": str(summary.build_id) if summary.build_id else None,
        "error": repr(summary.error) if summary.error else None,
        "succeeded": counts.succeeded,
        "failed": counts.failed,
        "dynamic": [str(Number(salt=salt, value=v).id) for v in (100, 101)],
        **describe(root),
    }
    print("RESULT " + json.dumps(result))


if __name__ == "__main__":
    main()
