"""Production configuration: `check --deploy` is clean, missing secrets stop the server, and
``DEBUG=0 SECURE_SSL_REDIRECT=0`` serves the API and the admin's static files over plain HTTP.

These run manage.py and gunicorn as subprocesses with a clean environment, exactly as an operator
would, because settings are read once per process.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from stardag_site.keys import generate_rsa_private_key_pem

REPO = Path(__file__).resolve().parents[2]
PYTHON = sys.executable


def production_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "DEBUG": "0",
        "SECRET_KEY": "prod-" + os.urandom(32).hex(),
        "JWT_PRIVATE_KEY": generate_rsa_private_key_pem(),
        "ALLOWED_HOSTS": "registry.example.com,127.0.0.1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "DATA_DIR": str(tmp_path / "data"),
        "STATIC_ROOT": str(tmp_path / "static"),
        "DJANGO_SETTINGS_MODULE": "stardag_site.settings",
    }
    env.update(overrides)
    return env


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PYTHON, "manage.py", *args], cwd=REPO, env=env, text=True,
                          capture_output=True, timeout=120)


def test_check_deploy_is_clean_with_documented_production_settings(tmp_path: Path) -> None:
    result = manage(production_env(tmp_path), "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def show_settings(env: dict[str, str], *names: str) -> list[str]:
    code = f"from django.conf import settings; print(*(getattr(settings, n) for n in {names!r}))"
    result = manage(env, "shell", "--verbosity", "0", "-c", code)
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_secure_cookies_and_hsts_hold_without_the_ssl_redirect(tmp_path: Path) -> None:
    """Issue 8 item 11: behind a TLS proxy the redirect may be off; the site is still HTTPS-only."""
    env = production_env(tmp_path, SECURE_SSL_REDIRECT="0", TRUST_X_FORWARDED_PROTO="1")
    assert show_settings(env, "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE",
                         "SECURE_HSTS_SECONDS") == ["True", "True", "31536000"]
    report = manage(env, "check", "--deploy").stderr
    assert "security.W008" in report  # the redirect, and only the redirect, is off
    for check in ("W004", "W012", "W016"):  # HSTS, session cookie, CSRF cookie
        assert f"security.{check}" not in report


def test_hsts_preload_and_subdomains_are_opt_in(tmp_path: Path) -> None:
    env = production_env(tmp_path)
    assert show_settings(env, "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD") == [
        "False", "False"]
    env = production_env(tmp_path, SECURE_HSTS_INCLUDE_SUBDOMAINS="1", SECURE_HSTS_PRELOAD="1")
    assert show_settings(env, "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD") == [
        "True", "True"]
    result = manage(env, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_refuses_to_start_without_a_shared_signing_key(tmp_path: Path) -> None:
    env = production_env(tmp_path)
    del env["JWT_PRIVATE_KEY"]
    result = manage(env, "check")
    assert result.returncode != 0
    assert "JWT_PRIVATE_KEY" in result.stderr


def test_production_refuses_to_start_without_a_secret_key(tmp_path: Path) -> None:
    env = production_env(tmp_path)
    del env["SECRET_KEY"]
    result = manage(env, "check")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_signing_key_can_come_from_a_file(tmp_path: Path) -> None:
    env = production_env(tmp_path)
    key_file = tmp_path / "jwt.pem"
    key_file.write_text(env.pop("JWT_PRIVATE_KEY"))
    env["JWT_PRIVATE_KEY_FILE"] = str(key_file)
    result = manage(env, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stderr


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str) -> tuple[int, bytes, dict[str, str]]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), dict(exc.headers)


def test_plain_http_gunicorn_serves_api_docs_and_admin_static(tmp_path: Path) -> None:
    port = _free_port()
    env = production_env(tmp_path, SECURE_SSL_REDIRECT="0", SECURE_COOKIES="0", WEB_CONCURRENCY="2",
                         GUNICORN_BIND=f"127.0.0.1:{port}", GUNICORN_ACCESS_LOG="")
    assert manage(env, "migrate", "--noinput").returncode == 0
    assert manage(env, "collectstatic", "--noinput", "-v0").returncode == 0
    server = subprocess.Popen(
        [PYTHON, "-m", "gunicorn", "-c", "stardag_site/gunicorn.conf.py"],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                status, body, _ = _get(f"{base}/health")
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):  # worker still booting
                assert server.poll() is None, server.stderr.read() if server.stderr else ""
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.2)
        assert status == 200 and json.loads(body)["status"] == "healthy"

        status, body, headers = _get(f"{base}/api/schema/")
        assert status == 200 and b"openapi" in body

        status, body, _ = _get(f"{base}/api/docs/")
        assert status == 200 and b"swagger" in body.lower()

        status, body, headers = _get(f"{base}/admin/login/")
        assert status == 200 and b"csrfmiddlewaretoken" in body
        # SECURE_COOKIES=0: the browser keeps the CSRF cookie over plain HTTP (issue 8 item 11).
        assert "csrftoken=" in headers["Set-Cookie"]
        assert "secure" not in headers["Set-Cookie"].lower()
        css = [line for line in body.decode().split('"') if line.endswith(".css")]
        assert css, "admin login page references its stylesheets"
        status, _, headers = _get(f"{base}{css[0]}")
        assert status == 200
        assert "text/css" in headers.get("Content-Type", "")

        status, body, _ = _get(f"{base}/api/v1/builds")
        assert status == 401
        assert b"Not authenticated" in body
    finally:
        server.terminate()
        server.wait(timeout=10)
