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

from tests.conftest import is_postgres

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]
REPO = Path(__file__).resolve().parents[2]


def current_statement_timeout() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        return cursor.fetchone()[0]


def test_server_connections_have_a_30_second_statement_timeout_by_default() -> None:
    assert is_postgres()
    assert current_statement_timeout() == "30s"


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


def manage_shell_statement_timeout(data_dir: Path, **env_overrides: str) -> str:
    settings = connection.settings_dict
    url = (f"postgres://{settings['USER']}:{settings['PASSWORD'] or ''}@{settings['HOST']}:"
           f"{settings['PORT'] or 5432}/{settings['NAME']}")
    env = {"PATH": os.environ.get("PATH", ""), "DATABASE_URL": url, **env_overrides,
           "DATA_DIR": str(data_dir)}
    code = ("from django.db import connection; c = connection.cursor(); "
            "c.execute('SHOW statement_timeout'); print(c.fetchone()[0])")
    result = subprocess.run([sys.executable, "manage.py", "shell", "-v", "0", "-c", code],
                            cwd=REPO, env=env, text=True, capture_output=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_statement_timeout_is_configurable_and_off_for_commands(tmp_path: Path) -> None:
    assert manage_shell_statement_timeout(tmp_path) == "0"
    assert manage_shell_statement_timeout(tmp_path, DB_STATEMENT_TIMEOUT_MS="1234") == "1234ms"
