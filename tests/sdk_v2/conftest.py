"""Run the released v2 SDKs (0.27.0, 0.28.0) in their own virtualenvs against a live server.

The SDK runs in a subprocess (``driver.py``), never in the server's interpreter (which pins
0.1.6 for the v1 tests); assertions read the server through ``/api/v2`` in-process.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.db import connections

import tests.sdk.conftest  # noqa: F401 -- serial live server on in-memory SQLite
from tests.factories import Tenant, make_tenant
from tests.sdk_releases.venvs import release_venv
from tests.v2.helpers import Driver


def release_python(version: str) -> Path:
    return release_venv(version) / "bin" / "python"


DRIVER = Path(__file__).resolve().parent / "driver.py"


@dataclass
class Release:
    version: str
    url: str
    tenant: Tenant
    home: Path
    bearer: bool = False

    @property
    def api(self) -> Driver:
        return Driver(self.tenant.key_client())

    def environ(self, tag: int, **env: str) -> dict[str, str]:
        environ = {
            "PATH": os.environ.get("PATH", ""), "HOME": str(self.home),
            "STARDAG_TARGET_ROOTS": json.dumps({"default": str(self.home / "targets")}),
            "STARDAG_CODE_ID": "release-test", "DAG_TAG": str(tag), **env,
        }
        if self.bearer:
            environ["BEARER_SETUP"] = json.dumps({
                "url": self.url, "token": self.tenant.token(), "user": self.tenant.user.email,
                "workspace_id": str(self.tenant.workspace.pk),
                "environment_id": str(self.tenant.environment.pk)})
        else:
            environ.update(STARDAG_API_URL=self.url, STARDAG_API_KEY=self.tenant.api_key)
        return environ

    def start(self, scenario: str, *args: str, tag: int = 1,
              **env: str) -> subprocess.Popen[str]:
        """One ``sd.build()`` in the release's interpreter, running in the background."""
        return subprocess.Popen([str(release_python(self.version)), str(DRIVER), scenario, *args],
                                env=self.environ(tag, **env), cwd=self.home, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    @staticmethod
    def report(process: subprocess.Popen[str]) -> dict[str, Any]:
        stdout, stderr = process.communicate(timeout=240)
        assert process.returncode == 0, stderr[-3000:]
        return json.loads(stdout.strip().splitlines()[-1])

    def run(self, scenario: str, *args: str, tag: int = 1, **env: str) -> dict[str, Any]:
        """One ``sd.build()`` in the release's interpreter; its JSON report."""
        return self.report(self.start(scenario, *args, tag=tag, **env))


@pytest.fixture
def release_server(live_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                   transactional_db: None) -> Iterator[tuple[str, Tenant, Path]]:
    tenant = make_tenant("release")
    home = tmp_path / "home"
    home.mkdir()
    # Request threads must not keep connections past the test (PostgreSQL drops the test DB).
    monkeypatch.setitem(connections.settings["default"], "CONN_MAX_AGE", 0)
    yield live_server.url, tenant, home
