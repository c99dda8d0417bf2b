"""Virtual environments of the released SDKs the tests drive, one per release.

Each is created from the hash-pinned ``requirements-<version>.txt`` beside this file
(``uv pip compile --generate-hashes`` of ``requirements-<version>.in``) and cached under
``.cache/sdk-releases/<version>-<hash>/`` in the repository (gitignored). The hash covers the
requirements file and the Python version, so editing a pin builds a fresh environment and an
unchanged one is reused across runs. Concurrent test workers serialise on a file lock, and an
environment is built under a temporary name and renamed into place, so a half-built one is
never used. ``uv`` is used when installed (seconds), ``pip`` otherwise.

``python -m tests.sdk_releases.venvs`` builds them all ahead of a test run (``.ci/run`` does).
Nothing here imports Django.
"""

from __future__ import annotations

import fcntl
import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

RELEASES = ("0.2.1", "0.10.2", "0.20.1", "0.26.0")
# The /api/v2 releases, driven by tests/sdk_v2 (their own drivers; not the v1 release tests).
V2_RELEASES = ("0.27.0", "0.28.0")
HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
CACHE = REPO / ".cache" / "sdk-releases"


def release_key(version: str) -> str:
    requirements = (HERE / f"requirements-{version}.txt").read_bytes()
    digest = hashlib.sha256(requirements)
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


def release_venv(version: str) -> Path:
    """The cached virtual environment of ``version``, created on first use."""
    CACHE.mkdir(parents=True, exist_ok=True)
    venv = CACHE / release_key(version)
    with open(CACHE / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (venv / ".complete").exists():
            building = venv.with_name(venv.name + ".building")
            shutil.rmtree(building, ignore_errors=True)
            shutil.rmtree(venv, ignore_errors=True)
            _install(building, HERE / f"requirements-{version}.txt")
            # Console scripts embed the build path; the tests call ``python`` only.
            building.rename(venv)
            (venv / ".complete").touch()
    return venv



if __name__ == "__main__":
    for release in RELEASES + V2_RELEASES:
        print(release_venv(release))
