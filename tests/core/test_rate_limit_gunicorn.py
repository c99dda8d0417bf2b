"""The rate limit holds across gunicorn workers (issue 11, acceptance 5): two real workers,
one shared store (the database by default; Redis when reachable), concurrent clients."""

from __future__ import annotations

import os
import re
import socket
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.gunicorn_server import GunicornServer

LIMIT = 60
REQUESTS = 240
WINDOW = 3600
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/5")


def redis_reachable() -> bool:
    host, port = REDIS_URL.split("//", 1)[1].split("/", 1)[0].split(":")
    try:
        with socket.create_connection((host, int(port)), timeout=1):
            return True
    except OSError:
        return False


def wait_clear_of_a_window_boundary(window: int, margin: int = 60) -> None:
    left = window - time.time() % window
    if left < margin:
        time.sleep(left + 1)


def status_of(url: str, key: str) -> int:
    request = urllib.request.Request(url, headers={"X-API-Key": key})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        assert exc.code != 429 or exc.headers["Retry-After"], "429 without Retry-After"
        return exc.code


def hammer(tmp_path: Path, env: dict[str, str]) -> tuple[int, int, set[str]]:
    access_log = tmp_path / "access.log"
    env = {"RATE_LIMIT_REQUESTS": str(LIMIT), "RATE_LIMIT_WINDOW_SECONDS": str(WINDOW),
           "RATE_LIMIT_FAILED_AUTH": "0", "GUNICORN_ACCESS_LOG": str(access_log), **env}
    with GunicornServer(tmp_path, workers=2, threads=4, env=env,
                        args=("--access-logformat", "%(s)s pid=%(p)s")) as server:
        key = server.bootstrap_api_key("limits@example.com")
        wait_clear_of_a_window_boundary(WINDOW)
        url = f"{server.url}/api/v1/builds"
        with ThreadPoolExecutor(max_workers=12) as pool:
            statuses = list(pool.map(lambda _: status_of(url, key), range(REQUESTS)))
    served_by = set(re.findall(r"^200 pid=<?(\d+)", access_log.read_text(), re.MULTILINE))
    assert set(statuses) <= {200, 429}, statuses
    return statuses.count(200), statuses.count(429), served_by


@pytest.mark.django_db(transaction=True)
def test_limit_holds_across_two_workers_with_the_database_store(tmp_path):
    ok, limited, served_by = hammer(tmp_path, {"REDIS_URL": ""})
    print(f"database store: {ok} x 200, {limited} x 429 (limit {LIMIT}) by pids {served_by}")
    assert len(served_by) == 2, "both workers must have served requests"
    assert abs(ok - LIMIT) <= LIMIT // 10
    assert ok + limited == REQUESTS


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not redis_reachable(), reason="no Redis at TEST_REDIS_URL")
def test_limit_holds_across_two_workers_with_redis(tmp_path):
    ok, limited, served_by = hammer(tmp_path, {"REDIS_URL": REDIS_URL})
    print(f"redis store: {ok} x 200, {limited} x 429 (limit {LIMIT}) by pids {served_by}")
    assert len(served_by) == 2, "both workers must have served requests"
    assert abs(ok - LIMIT) <= LIMIT // 10
    assert ok + limited == REQUESTS
