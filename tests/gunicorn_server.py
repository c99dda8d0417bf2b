"""A real gunicorn (``stardag_site/gunicorn.conf.py``) in a subprocess, for tests about what
only a multi-process server shows: limits shared across workers, errors gunicorn answers itself,
workers killed mid-request, database outages.

On PostgreSQL the server uses the test database itself (tests then need ``transactional_db`` so
their rows are committed and flushed afterwards); on SQLite, whose test database lives in
memory, it gets a migrated database file of its own. Rows the server should see are created
through ``manage.py`` subprocesses with the same environment (``bootstrap`` prints an API key).
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def database_url_for_server(tmp_path: Path) -> tuple[str, bool]:
    """``(DATABASE_URL, needs_migrate)`` of the database the subprocess should use."""
    database = settings.DATABASES["default"]
    if database["ENGINE"].endswith("postgresql"):
        user, host = database.get("USER") or "postgres", database.get("HOST") or "127.0.0.1"
        password = f":{database['PASSWORD']}" if database.get("PASSWORD") else ""
        port = database.get("PORT") or 5432
        return f"postgres://{user}{password}@{host}:{port}/{database['NAME']}", False
    return f"sqlite:///{tmp_path / 'server.sqlite3'}", True


class GunicornServer:
    """``with GunicornServer(tmp_path, workers=2, env={...}) as server: server.url``."""

    def __init__(self, tmp_path: Path, *, workers: int = 2, threads: int = 4,
                 env: dict[str, str] | None = None, migrate: bool = True,
                 args: tuple[str, ...] = ()) -> None:
        self.args = args
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        database_url, needs_migrate = database_url_for_server(tmp_path)
        self.needs_migrate = needs_migrate and migrate
        # The PostgreSQL test database has every table (pytest-django creates them without
        # migrations); recording the migrations as applied lets ``bootstrap`` run against it.
        self.needs_fake_migrate = not needs_migrate and migrate
        self.log_path = tmp_path / f"gunicorn-{self.port}.log"
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "stardag_site.settings",
            "DEBUG": "0",
            "DATABASE_URL": database_url,
            "DB_CONN_MAX_AGE": "0",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "0",
            "GUNICORN_BIND": f"127.0.0.1:{self.port}",
            "WEB_CONCURRENCY": str(workers),
            "GUNICORN_THREADS": str(threads),
            "GUNICORN_TIMEOUT": "30",
            "GUNICORN_ACCESS_LOG": "",
            "DATA_DIR": str(tmp_path),
            **(env or {}),
        }
        self.process: subprocess.Popen[bytes] | None = None

    def manage(self, *args: str) -> str:
        result = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=self.env,
                                capture_output=True, text=True, timeout=120, check=False)
        assert result.returncode == 0, result.stderr[-3000:]
        return result.stdout

    def bootstrap_api_key(self, email: str) -> str:
        """A new user, workspace, environment and API key (``manage.py bootstrap``)."""
        output = self.manage("bootstrap", "--email", email)
        match = re.search(r"STARDAG_API_KEY=(\S+)", output)
        assert match, output
        return match.group(1)

    def __enter__(self) -> GunicornServer:
        if self.needs_migrate:
            self.manage("migrate", "--noinput")
            self.needs_migrate = False
        if self.needs_fake_migrate:
            self.manage("migrate", "--fake", "--noinput")
            self.needs_fake_migrate = False
        self.start()
        return self

    def start(self) -> None:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "stardag_site/gunicorn.conf.py", *self.args],
            cwd=ROOT, env=self.env, stdout=log, stderr=log, start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log()
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=2):
                    return
            except (OSError, urllib.error.URLError):
                time.sleep(0.2)
        raise AssertionError(f"gunicorn did not start:\n{self.log()}")

    def worker_pids(self) -> list[int]:
        assert self.process is not None
        result = subprocess.run(["pgrep", "-P", str(self.process.pid)], capture_output=True,
                                text=True, check=False)
        return [int(pid) for pid in result.stdout.split()]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:]

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None

    def __exit__(self, *exc: Any) -> None:
        self.stop()
