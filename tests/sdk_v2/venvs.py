"""Virtual environments of the v2 SDK releases (0.27.0, 0.28.0), one per release.

Built from the hash-pinned ``requirements-<version>.txt`` beside this file (``uv pip compile
--generate-hashes`` of the ``.in`` file) and cached under ``.cache/sdk-v2/<version>-<hash>/`` in
the repository (gitignored): the hash covers the pins and the Python version, so an unchanged
pin is reused across runs. Concurrent test workers serialise on a file lock, and a venv is
built under a temporary name and renamed into place, so a half-built one is never used.
``python -m tests.sdk_v2.venvs`` builds them ahead of a run. Nothing here imports Django.
"""

from __future__ import annotations

import fcntl
import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

RELEASES = ("0.27.0", "0.28.0")
HERE = Path(__file__).resolve().parent
CACHE = HERE.parents[1] / ".cache" / "sdk-v2"


def _key(version: str) -> str:
    digest = hashlib.sha256((HERE / f"requirements-{version}.txt").read_bytes())
    digest.update(f"{sys.version_info.major}.{sys.version_info.minor}".encode())
    return f"{version}-{digest.hexdigest()[:12]}"


def _install(venv: Path, requirements: Path) -> None:
    uv = shutil.which("uv")
    if uv:
        subprocess.run([uv, "venv", "--quiet", "--python", sys.executable, str(venv)],
                       check=True)
        subprocess.run([uv, "pip", "install", "--quiet", "--require-hashes", "--python",
                        str(venv / "bin" / "python"), "-r", str(requirements)], check=True)
        return
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet",
                    "--disable-pip-version-check", "--require-hashes", "-r",
                    str(requirements)], check=True)


def release_python(version: str) -> Path:
    """The interpreter of ``version``'s cached virtual environment, created on first use."""
    CACHE.mkdir(parents=True, exist_ok=True)
    venv = CACHE / _key(version)
    with open(CACHE / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (venv / ".complete").exists():
            building = venv.with_name(venv.name + ".building")
            shutil.rmtree(building, ignore_errors=True)
            shutil.rmtree(venv, ignore_errors=True)
            _install(building, HERE / f"requirements-{version}.txt")
            building.rename(venv)
            (venv / ".complete").touch()
    return venv / "bin" / "python"


if __name__ == "__main__":
    for release in RELEASES:
        print(release_python(release))
