"""A database outage answers 503 JSON with Retry-After in bounded time, /health/ready says so,
/health stays cheap, and the server recovers without a restart (issue 11, "Faults").

A real gunicorn reaches PostgreSQL through a TCP proxy the test can cut, so the outage is real
for that server (refused connections, connections dropped mid-session, a path that swallows
packets) without restarting the PostgreSQL that everything else on the machine shares.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

import pytest
from django.conf import settings

from tests.gunicorn_server import GunicornServer
from tests.tcp_proxy import TcpProxy

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def call(url: str, *, key: str | None = None, method: str = "GET",
         body: Any = None) -> tuple[int, dict[str, str], Any, float]:
    headers = {"X-API-Key": key} if key else {}
    data = None
    if body is not None:
        data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            status, head, raw = response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        status, head, raw = exc.code, dict(exc.headers), exc.read()
    elapsed = time.monotonic() - started
    assert head.get("Content-Type") == "application/json", (status, raw[:200])
    return status, head, json.loads(raw), elapsed


@pytest.fixture
def proxied_server(tmp_path):
    database = settings.DATABASES["default"]
    proxy = TcpProxy(database.get("HOST") or "127.0.0.1", int(database.get("PORT") or 5432))
    env = {"DATABASE_URL": f"postgres://{database.get('USER') or 'postgres'}@127.0.0.1:"
                           f"{proxy.port}/{database['NAME']}",
           "DB_CONN_MAX_AGE": "60", "DB_CONNECT_TIMEOUT": "2"}
    server = GunicornServer(tmp_path, workers=2, threads=2, env=env)
    try:
        with server:
            yield server, proxy
    finally:
        proxy.close()


def test_outage_is_503_with_retry_after_and_recovers_without_restart(proxied_server):
    server, proxy = proxied_server
    key = server.bootstrap_api_key("outage@example.com")
    builds = f"{server.url}/api/v1/builds"
    assert call(builds, key=key)[0] == 200
    assert call(f"{server.url}/health/ready")[:3:2] == (200, {"status": "ready",
                                                                "database": "ok"})

    proxy.down()  # refused, and every pooled connection dropped
    for _ in range(4):  # both workers, reused and fresh connections
        status, head, body, elapsed = call(builds, key=key, method="POST", body={})
        assert status == 503, body
        assert body == {"detail": "The database is unavailable; retry later."}
        assert int(head["Retry-After"]) > 0 and elapsed < 5
    status, head, body, _ = call(f"{server.url}/health/ready")
    assert status == 503 and body["database"] == "unavailable" and "Retry-After" in head
    status, _, body, elapsed = call(f"{server.url}/health")
    assert status == 200 and elapsed < 1  # liveness never touches the database

    proxy.blackhole()  # connections accepted, never answered: only connect_timeout helps
    status, head, body, elapsed = call(builds, key=key)
    assert status == 503 and elapsed < 10, elapsed

    proxy.up()
    deadline = time.monotonic() + 20
    while (status := call(builds, key=key)[0]) != 200:
        assert status == 503 and time.monotonic() < deadline
        time.sleep(0.5)
    assert call(builds, key=key, method="POST", body={})[0] == 201
    assert call(f"{server.url}/health/ready")[0] == 200
    assert server.process is not None and server.process.poll() is None  # never restarted
