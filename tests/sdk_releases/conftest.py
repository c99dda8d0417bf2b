"""Drive released SDKs (0.2.1, 0.10.2, 0.20.1, 0.26.0) against a live server.

Each release runs in its own virtual environment, created by ``venvs.release_venv`` from the
release's hash-pinned requirements file and cached between runs under ``.cache/``.

The SDK runs as a subprocess (``drivers/run_build.py`` and the ``stardag`` CLI of that venv)
against pytest-django's ``live_server``, with the same environment variables a user sets.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.db import connections

from tests.factories import Tenant, make_tenant

# Importing the 0.1.6 SDK tests' conftest applies its live-server choice (a serial server on
# in-memory SQLite, threaded otherwise) to these tests too.
from tests.sdk import conftest as _sdk_conftest  # noqa: F401
from tests.sdk_releases.venvs import HERE, RELEASES, release_venv

COMMIT_HASH = "feedc0de"
RUN_TIMEOUT = 180
# The ``stardag`` console script, run by the venv's python (its shebang names the build path).
LAUNCHER = "import sys; from stardag._cli import app; sys.argv[0] = 'stardag'; app()"


@dataclass
class ReleaseRun:
    """One release's venv pointed at a live server as one tenant."""

    version: str
    venv: Path
    url: str
    tenant: Tenant
    workdir: Path
    env: dict[str, str] = field(default_factory=dict)

    @property
    def python(self) -> str:
        return str(self.venv / "bin" / "python")

    def run(self, args: list[str], *, extra_env: dict[str, str] | None = None,
            check: bool = True) -> subprocess.CompletedProcess[str]:
        completed = subprocess.run(
            args, cwd=self.workdir, env={**self.env, **(extra_env or {})}, text=True,
            capture_output=True, timeout=RUN_TIMEOUT,
        )
        if check and completed.returncode != 0:
            raise AssertionError(f"{args} exited {completed.returncode}\n"
                                 f"stdout:\n{completed.stdout}\nstderr:\n{completed.stderr}")
        return completed

    def build(self, scenario: str, salt: str, *, resume: str | None = None,
              fail: bool = False, sequential: bool = False) -> dict[str, Any]:
        """Run ``drivers/run_build.py`` and return its RESULT line (plus its log as ``log``)."""
        args = [self.python, str(HERE / "drivers" / "run_build.py"), scenario, salt]
        if resume:
            args += ["--resume", resume]
        if sequential:
            args += ["--sequential"]
        completed = self.run(args, extra_env={"SDK_RELEASE_TEST_FAIL": "1"} if fail else {})
        lines = [line for line in completed.stdout.splitlines() if line.startswith("RESULT ")]
        assert lines, completed.stdout + completed.stderr
        result = json.loads(lines[-1][len("RESULT "):])
        result["log"] = completed.stderr
        return result

    def cli(self, *args: str) -> str:
        """``stardag <args>`` of this release; its stdout."""
        return self.run([self.python, "-c", LAUNCHER, *args]).stdout

    def get(self, path: str) -> Any:
        response = self.tenant.key_client().get(path)
        assert response.status_code == 200, (path, response.status_code, response.content)
        return response.json()


@pytest.fixture(params=RELEASES)
def release(request: pytest.FixtureRequest, live_server: Any, tmp_path: Path,
            transactional_db: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[ReleaseRun]:
    version = request.param
    venv = release_venv(version)
    tenant = make_tenant(f"rel{version.replace('.', '')}")
    home = tmp_path / "home"
    home.mkdir()
    targets = tmp_path / "targets"
    targets.mkdir()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "PYTHONPATH": str(HERE / "drivers"),
        "PYTHONUNBUFFERED": "1",
        "STARDAG_API_KEY": tenant.api_key,
        "COMMIT_HASH": COMMIT_HASH,
        "STARDAG_TARGET_ROOTS": json.dumps({"default": str(targets)}),
        "COLUMNS": "250",  # the CLI's rich tables must not truncate ids
        # 0.2.x only knows the old name; 0.10+ prefer the new one and warn on the old.
        ("STARDAG_REGISTRY_URL" if version.startswith("0.2.") else "STARDAG_API_URL"):
            live_server.url,
    }
    # Live-server threads must not keep connections past the test (PostgreSQL drops the db).
    monkeypatch.setitem(connections.settings["default"], "CONN_MAX_AGE", 0)
    yield ReleaseRun(version, venv, live_server.url, tenant, tmp_path, env)
