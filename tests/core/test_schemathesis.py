"""Contract fuzzing (issue 11, acceptance 2): schemathesis against the live ``/api/schema/``.

A real gunicorn serves the project; schemathesis reads the published schema and sends a bounded
number of generated requests to every operation, once with an API key and once with an internal
bearer token (workspace endpoints). It fails on any server error (5xx) and on any response the
schema does not describe: an undocumented status code, a body that violates the documented
schema, a wrong content type, a missing documented header.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.gunicorn_server import GunicornServer

SCHEMATHESIS = str(Path(sys.executable).with_name("schemathesis"))
MAX_EXAMPLES = 5  # per operation and phase; keeps both runs near a minute on 2 cores
CHECKS = ("not_a_server_error,status_code_conformance,content_type_conformance,"
          "response_schema_conformance,response_headers_conformance")
MINT = ("from accounts.models import User; from accounts.tokens import mint_access_token; "
        "u = User.objects.get(email='fuzz@example.com'); "
        "print(mint_access_token(user_id=u.id, workspace_id=u.memberships.first().workspace_id)"
        "[0])")


def run_schemathesis(server: GunicornServer, header: str, report: Path) -> tuple[int, str]:
    result = subprocess.run(
        [SCHEMATHESIS, "run", f"{server.url}/api/schema/", "-H", header,
         "--max-examples", str(MAX_EXAMPLES), "--checks", CHECKS, "--seed", "11",
         "--phases", "examples,coverage,fuzzing", "--workers", "2", "--no-color",
         "--generation-database", "none", "--request-timeout", "30",
         "--max-failures", "50"],
        capture_output=True, text=True, timeout=900, check=False, cwd=report.parent,
    )
    report.write_text(result.stdout + result.stderr)
    generated = re.search(r"(\d+) generated", result.stdout)
    assert generated, result.stdout[-3000:] + result.stderr[-3000:]
    return int(generated.group(1)), result.stdout


@pytest.mark.django_db(transaction=True)
def test_every_operation_answers_as_its_schema_says(tmp_path):
    with GunicornServer(tmp_path, workers=2, threads=4) as server:
        key = server.bootstrap_api_key("fuzz@example.com")
        token = server.manage("shell", "-c", MINT).strip().splitlines()[-1]
        cases = {}
        for label, header in (("api key", f"X-API-Key: {key}"),
                              ("bearer", f"Authorization: Bearer {token}")):
            report = tmp_path / f"schemathesis-{label.replace(' ', '-')}.txt"
            count, output = run_schemathesis(server, header, report)
            cases[label] = count
            summary = output[output.rfind("SUMMARY"):]
            assert "No issues found" in summary or " 0 failures" in summary or (
                "Failures:" not in summary), f"{label}:\n{output[-8000:]}"
        print(f"schemathesis cases: {cases} (total {sum(cases.values())})")
        assert all(count >= 500 for count in cases.values()), cases
