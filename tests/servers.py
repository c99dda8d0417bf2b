"""Real gunicorn servers for tests that need separate processes (several instances, several
workers): started with ``stardag_site/gunicorn.conf.py`` exactly as an operator would."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.client import HTTPConnection
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
PYTHON = sys.executable


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http(method: str, url: str, *, body: Any = None,
         headers: dict[str, str] | None = None) -> tuple[int, Any, dict[str, str]]:
    """One request; the body decoded from JSON when it is JSON."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json",
                                              **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, raw, response_headers = response.status, response.read(), response.headers
    except urllib.error.HTTPError as exc:
        status, raw, response_headers = exc.code, exc.read(), exc.headers
    try:
        decoded: Any = json.loads(raw)
    except ValueError:
        decoded = raw.decode(errors="replace")
    return status, decoded, dict(response_headers)


@dataclass
class Server:
    url: str
    process: subprocess.Popen[str]
    log: Path

    def output(self) -> str:
        return self.log.read_text() if self.log.exists() else ""


def base_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    """A clean development-mode environment (no variables of the test run leak in)."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "DEBUG": "1",
        "DATA_DIR": str(tmp_path / "data"),
        "DJANGO_SETTINGS_MODULE": "stardag_site.settings",
        "WEB_CONCURRENCY": "1",
        "GUNICORN_THREADS": "2",
    }
    env.update(overrides)
    return env


@contextmanager
def gunicorn(env: dict[str, str], log: Path, *, timeout: float = 40) -> Iterator[Server]:
    """Start gunicorn on a free port, wait for ``/health``, stop it (SIGTERM) at the end."""
    port = free_port()
    env = {**env, "GUNICORN_BIND": f"127.0.0.1:{port}"}
    with log.open("w") as sink:
        process = subprocess.Popen(
            [PYTHON, "-m", "gunicorn", "-c", "stardag_site/gunicorn.conf.py"],
            cwd=REPO, env=env, stdout=sink, stderr=subprocess.STDOUT, text=True,
        )
    server = Server(f"http://127.0.0.1:{port}", process, log)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if http("GET", f"{server.url}/health")[0] == 200:
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            assert process.poll() is None, server.output()
            assert time.monotonic() < deadline, "gunicorn did not start:\n" + server.output()
            time.sleep(0.2)
        yield server
    finally:
        stop(server)


def stop(server: Server) -> None:
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGTERM)
        try:
            server.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait(timeout=10)


@contextmanager
def gunicorn_as_configured(env: dict[str, str], log: Path) -> Iterator[str]:
    """Start gunicorn with the listen address ``gunicorn.conf.py`` derives from ``env`` (no
    ``GUNICORN_BIND`` is added); yields the start-up log once the worker boots."""
    with log.open("w") as sink:
        process = subprocess.Popen(
            [PYTHON, "-m", "gunicorn", "-c", "stardag_site/gunicorn.conf.py"],
            cwd=REPO, env=env, stdout=sink, stderr=subprocess.STDOUT, text=True,
        )
    server = Server("", process, log)
    try:
        deadline = time.monotonic() + 40
        while "Booting worker" not in server.output():
            assert process.poll() is None, server.output()
            assert time.monotonic() < deadline, "gunicorn did not start:\n" + server.output()
            time.sleep(0.2)
        yield server.output()
    finally:
        stop(server)


def http_get(address: str, port: int, path: str, *, host: str | None = None,
             headers: dict[str, str] | None = None,
             timeout: float = 30) -> tuple[int, dict[str, str], bytes]:
    """One GET to ``address`` with any ``Host`` header; status, headers (lower-case), body."""
    connection = HTTPConnection(address, port, timeout=timeout)
    try:
        connection.request("GET", path, headers={"Host": host or f"{address}:{port}",
                                                 **(headers or {})})
        response = connection.getresponse()
        return (response.status, {k.lower(): v for k, v in response.getheaders()},
                response.read())
    finally:
        connection.close()
