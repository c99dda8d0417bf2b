"""The server's own version, shown on ``/health``, on the landing page and in the API docs.

Read from ``pyproject.toml`` (the one place it is written) when the server runs from a checkout,
which is how ``bin/serve`` and the deployment guide run it; from the installed distribution's
metadata otherwise.
"""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import metadata
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


@cache
def server_version() -> str:
    """``project.version`` of stardag-site, or ``"unknown"`` when neither source exists."""
    try:
        return str(tomllib.loads(PYPROJECT.read_text())["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        pass
    try:
        return metadata.version("stardag-site")
    except metadata.PackageNotFoundError:
        return "unknown"
