"""Issue 8 item 4: the zero-configuration server (``bin/serve``: development mode, ``DEBUG=1``)
listens on the loopback interface only, so its debug pages never reach the network, unless the
operator opens it up with ``BIND_HOST``; a request for a disallowed host gets a short JSON 400.

These start gunicorn with ``stardag_site/gunicorn.conf.py`` and the environment ``bin/serve``
gives it (only ``DEBUG=1``; no bind address), as a subprocess, because the configuration is read
once per process.
"""

from __future__ import annotations

import json
import os
import socket
from contextlib import AbstractContextManager
from pathlib import Path

import pytest

from tests.servers import free_port, gunicorn_as_configured, http_get


def _outward_address() -> str | None:
    """This machine's address on its network interface (no packet is sent), if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.connect(("10.255.255.255", 1))
        except OSError:
            return None
        address = sock.getsockname()[0]
    return None if address.startswith("127.") else address


def dev_env(tmp_path: Path, port: int, **extra: str) -> dict[str, str]:
    """What ``bin/serve`` exports with no configuration at all, plus a private data directory."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "DEBUG": "1",
        "PORT": str(port),
        "DATA_DIR": str(tmp_path / "data"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "STATIC_ROOT": str(tmp_path / "static"),
        "WEB_CONCURRENCY": "1",
        "GUNICORN_THREADS": "1",
        "GUNICORN_ACCESS_LOG": "",
    }
    env.update(extra)
    return env


def serve(tmp_path: Path, port: int, **extra: str) -> AbstractContextManager[str]:
    return gunicorn_as_configured(dev_env(tmp_path, port, **extra), tmp_path / "gunicorn.log")


def test_zero_config_server_listens_on_loopback_only(tmp_path: Path) -> None:
    port = free_port()
    with serve(tmp_path, port) as log:
        assert f"Listening at: http://127.0.0.1:{port}" in log
        status, _, body = http_get("127.0.0.1", port, "/health", host="localhost")
        assert status == 200 and json.loads(body)["status"] == "healthy"
        outward = _outward_address()
        if outward is not None:
            with pytest.raises(ConnectionRefusedError):
                http_get(outward, port, "/health", host="localhost")


def test_bind_host_opens_the_development_server_to_the_network(tmp_path: Path) -> None:
    port = free_port()
    with serve(tmp_path, port, BIND_HOST="0.0.0.0") as log:
        assert f"Listening at: http://0.0.0.0:{port}" in log
        outward = _outward_address() or "127.0.0.1"
        status, _, _ = http_get(outward, port, "/health", host="localhost")
        assert status == 200


def test_development_server_answers_a_foreign_host_with_json_not_the_debug_page(
    tmp_path: Path,
) -> None:
    port = free_port()
    secret_url = f"sqlite:///{tmp_path / 'secret-pass-db.sqlite3'}"
    with serve(tmp_path, port, DATABASE_URL=secret_url):
        for path in ("/admin/", "/api/v1/builds", "/missing"):
            status, headers, body = http_get("127.0.0.1", port, path, host="teammate-laptop:8000")
            assert status == 400
            assert headers["content-type"] == "application/json"
            assert "ALLOWED_HOSTS" in json.loads(body)["detail"]
            assert b"secret-pass" not in body and b"Traceback" not in body
