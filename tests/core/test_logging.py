"""Request logs: one line per request with a request id (``X-Request-ID`` in and out), method,
path, status, duration and the credential's kind and id, never a secret; as JSON objects with
``LOG_FORMAT=json``; each unhandled error logged once, with its traceback."""

from __future__ import annotations

import io
import json
import logging
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

import stardag_site.api.authentication as authentication
from stardag_site.logs import DropResponseEchoes, JsonFormatter, RequestIdFilter, logging_config
from tests.servers import PYTHON, REPO, base_env


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """The handler LOG_FORMAT=json configures (JSON formatter, request-id filter) on the root
    logger, and Django's response echoes dropped as configured, for the test's duration."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    echo_filter = DropResponseEchoes()
    logging.getLogger("django.request").addFilter(echo_filter)
    yield stream
    logging.getLogger("django.request").removeFilter(echo_filter)
    root.removeHandler(handler)
    root.setLevel(old_level)


def lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def request_lines(stream: io.StringIO) -> list[dict]:
    return [line for line in lines(stream) if line["logger"] == "stardag.request"]


def test_request_id_round_trip_and_request_line(json_log, client_a, tenant_a) -> None:
    response = client_a.get("/api/v1/builds", HTTP_X_REQUEST_ID="trace-42.a")
    assert response.status_code == 200
    assert response["X-Request-ID"] == "trace-42.a"
    [line] = request_lines(json_log)
    assert line["request_id"] == "trace-42.a"
    assert (line["method"], line["path"], line["status"]) == ("GET", "/api/v1/builds", 200)
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] > 0
    api_key_id = str(tenant_a.environment.api_keys.get().pk)
    assert (line["credential_kind"], line["credential_id"]) == ("api_key", api_key_id)
    assert line["db_queries"] >= 1 and line["level"] == "INFO"
    assert tenant_a.api_key not in json_log.getvalue()


def test_request_id_is_made_when_missing_or_unusable(json_log, client) -> None:
    made = client.get("/health", HTTP_HOST="localhost")["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", made)
    replaced = client.get("/health", HTTP_HOST="localhost",
                          HTTP_X_REQUEST_ID="bad id\nwith newline")["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", replaced) and replaced != made
    assert [line["request_id"] for line in request_lines(json_log)] == [made, replaced]


def test_bearer_token_requests_log_the_user_not_the_token(json_log, tenant_a) -> None:
    token = tenant_a.token()
    client = tenant_a.jwt_client()
    assert client.get(f"/api/v1/ui/workspaces/{tenant_a.workspace.id}").status_code == 200
    [line] = request_lines(json_log)
    assert (line["credential_kind"], line["credential_id"]) == ("internal",
                                                               str(tenant_a.user.pk))
    assert token not in json_log.getvalue()


def test_an_unhandled_error_is_logged_once_with_its_traceback(json_log, client_a, monkeypatch,
                                                             tenant_a) -> None:
    def broken(raw_key: str) -> None:
        raise RuntimeError("injected fault")

    monkeypatch.setattr(authentication, "api_key_authenticate", broken)
    response = client_a.get("/api/v1/builds", HTTP_X_REQUEST_ID="fault-1")
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal Server Error"}
    errors = [line for line in lines(json_log) if line["level"] in ("ERROR", "CRITICAL")]
    assert len(errors) == 1, errors
    assert "RuntimeError: injected fault" in errors[0]["exception"]
    assert errors[0]["request_id"] == "fault-1"
    [request_line] = request_lines(json_log)
    assert (request_line["status"], request_line["request_id"]) == (500, "fault-1")
    assert "injected fault" not in json.dumps(request_line)  # the line does not repeat it
    assert tenant_a.api_key not in json_log.getvalue()


def test_log_format_json_is_what_the_settings_configure(tmp_path: Path) -> None:
    config = logging_config(level="INFO", fmt="json")
    assert config["formatters"]["default"] == {"()": "stardag_site.logs.JsonFormatter"}
    assert config["handlers"]["console"]["filters"] == ["request_id"]
    result = subprocess.run(
        [PYTHON, "-c", "import django, logging; django.setup(); "
         "logging.getLogger('probe').warning('hello %s', 'world')"],
        cwd=REPO, env=base_env(tmp_path, LOG_FORMAT="json"), capture_output=True, text=True,
        timeout=60,
    )
    [line] = [json.loads(text) for text in result.stderr.splitlines() if text.startswith("{")]
    assert (line["logger"], line["level"], line["message"]) == ("probe", "WARNING",
                                                                 "hello world")
    assert line["request_id"] == "-"
    bad = subprocess.run([PYTHON, "-c", "import django; django.setup()"], cwd=REPO,
                         env=base_env(tmp_path, LOG_FORMAT="xml"), capture_output=True,
                         text=True, timeout=60)
    assert bad.returncode != 0 and "LOG_FORMAT" in bad.stderr
