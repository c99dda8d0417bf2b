"""The README's "First build in five minutes", run as written on a fresh clone (stumble 1):
``bin/serve`` on a non-default ``PORT``, ``bin/manage bootstrap``, the exports it prints, the
SDK snippet in a folder that is not a git checkout, and the README's ``curl`` line.

The clone reuses this checkout's installed ``.venv`` (a symlink): installing from the lock files
is what ``bin/setup`` does at the start of every CI run already; this check is about the steps.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.servers import REPO, free_port, http

pytestmark = [pytest.mark.sdk,
              pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")]


def readme_blocks(language: str) -> list[str]:
    text = (REPO / "README.md").read_text()
    section = text[text.index("## First build in five minutes"):text.index("## Configuration")]
    return re.findall(rf"```{language}\n(.*?)```", section, re.DOTALL)


def clean_env(home: Path) -> dict[str, str]:
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(home), "LANG": "C.UTF-8"}
    return env


def test_readme_first_build_on_a_fresh_clone(tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(clone)], check=True)
    (clone / ".venv").symlink_to(REPO / ".venv")
    home = tmp_path / "home"
    home.mkdir()
    port = free_port()
    server_env = {**clean_env(home), "PORT": str(port), "WEB_CONCURRENCY": "2"}
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen(["bin/serve"], cwd=clone, env=server_env, stdout=log,
                              stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while not (clone / "data" / "server-url").exists():
            assert server.poll() is None, (tmp_path / "serve.log").read_text()
            assert time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
            time.sleep(0.3)

        [bootstrap_block, *_] = readme_blocks("bash")
        [bootstrap_line] = [line for line in bootstrap_block.splitlines() if "bootstrap" in line]
        result = subprocess.run(bootstrap_line, shell=True, cwd=clone, env=clean_env(home),
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stdout + result.stderr
        exports = dict(re.findall(r"^\s*export (\w+)=(\S+)$", result.stdout, re.MULTILINE))
        assert set(exports) == {"STARDAG_REGISTRY_URL", "STARDAG_API_KEY", "COMMIT_HASH"}
        assert exports["STARDAG_REGISTRY_URL"] == f"http://localhost:{port}"

        outside_git = tmp_path / "pipeline"
        outside_git.mkdir()
        sdk_env = {**clean_env(home), **exports}
        [snippet] = readme_blocks("python")
        build = subprocess.run([sys.executable, "-c", snippet], cwd=outside_git, env=sdk_env,
                               capture_output=True, text=True, timeout=180)
        assert build.returncode == 0, build.stdout + build.stderr

        [curl_line] = [line for line in readme_blocks("bash")[1].splitlines()
                       if line.startswith("curl ")]
        checked = subprocess.run(["bash", "-c", curl_line], env=sdk_env, capture_output=True,
                                 text=True, timeout=60)
        assert checked.returncode == 0, checked.stderr
        assert '"status":"completed"' in checked.stdout.replace(" ", "")
        assert '"commit_hash":"local"' in checked.stdout.replace(" ", "")
        status, _, _ = http("GET", f"http://localhost:{port}/")
        assert status == 200
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        log.close()
