"""Issue 8 item 2: every request runs under a database statement timeout (PostgreSQL), and a
statement the database cancels answers 503 JSON, not 500. ``manage.py`` commands (migrations,
batch jobs) run without one unless it is set."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]
REPO = Path(__file__).resolve().parents[2]


def statement_timeout_of(entry_point: str, data_dir: Path, **env_overrides: str) -> str:
    """``SHOW statement_timeout`` on a connection of a fresh process that loads the settings the
    way ``entry_point`` does: ``wsgi`` (the server gunicorn runs) or ``manage.py``."""
    settings = connection.settings_dict
    url = (f"postgres://{settings['USER']}:{settings['PASSWORD'] or ''}@{settings['HOST']}:"
           f"{settings['PORT'] or 5432}/{settings['NAME']}")
    env = {"PATH": os.environ.get("PATH", ""), "DATABASE_URL": url, "DEBUG": "1",
           "DATA_DIR": str(data_dir), **env_overrides}
    show = ("from django.db import connection; c = connection.cursor(); "
            "c.execute('SHOW statement_timeout'); print(c.fetchone()[0])")
    if entry_point == "wsgi":
        command = [sys.executable, "-c", "import stardag_site.wsgi; " + show]
    else:
        command = [sys.executable, "manage.py", "shell", "-v", "0", "-c", show]
    result = subprocess.run(command, cwd=REPO, env=env, text=True, capture_output=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_server_connections_have_a_30_second_statement_timeout_by_default(
    tmp_path: Path,
) -> None:
    assert connection.vendor == "postgresql"
    assert statement_timeout_of("wsgi", tmp_path) == "30s"
    assert statement_timeout_of("wsgi", tmp_path, DB_STATEMENT_TIMEOUT_MS="1234") == "1234ms"
    assert statement_timeout_of("wsgi", tmp_path, DB_STATEMENT_TIMEOUT_MS="0") == "0"


@pytest.mark.urls("tests.core.timeout_urls")
def test_cancelled_statement_answers_503_json(client) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL statement_timeout = 100")  # this test's transaction only
    started = time.monotonic()
    response = client.get("/api/v1/slow")
    assert time.monotonic() - started < 3
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert "took too long" in response.json()["detail"]


def test_commands_run_without_a_statement_timeout_unless_set(tmp_path: Path) -> None:
    assert statement_timeout_of("manage.py", tmp_path) == "0"
    assert statement_timeout_of("manage.py", tmp_path, DB_STATEMENT_TIMEOUT_MS="1234") == "1234ms"
