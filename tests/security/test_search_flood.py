"""Issue 8 item 2, the attack end to end over HTTP with two identities.

Mallory holds an API key for her own environment and tries to keep the shared database busy
with one search request: first 150 copies of one ``asset.*`` clause (each used to become its own
subquery; 10 s of planning on an almost empty environment), then 150 distinct ones. Alice, in
another workspace, must keep being served. Finally, on PostgreSQL, a search that cannot finish
(its table locked by another session) is cancelled by the server's statement timeout and
answers 503 JSON instead of holding a worker.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import psycopg
import pytest
from django.db import connection

from builds.services import build_create
from stardag_site.keys import generate_rsa_private_key_pem
from tasks.services import task_assets_upsert, task_register
from tests.conftest import Tenant, make_tenant
from tests.servers import gunicorn, http_get

pytestmark = pytest.mark.django_db(transaction=True)  # the server sees committed rows only


def seed_task(tenant: Tenant, task_id: str) -> None:
    build = build_create(environment=tenant.environment)
    task = task_register(build=build, payload={
        "task_id": task_id, "task_name": "Train", "task_namespace": "ml",
        "task_data": {"lr": 0.1}, "version": "1", "output_uri": None, "dependency_task_ids": [],
    })
    task_assets_upsert(task=task, items=[{"type": "json", "name": "r", "body": {"k": "abc"}}])


def search(base: str, api_key: str, filter_text: str) -> tuple[int, dict, float]:
    split = urlsplit(base)
    started = time.monotonic()
    status, _, body = http_get(split.hostname, split.port,
                               "/api/v1/tasks/search?" + urlencode({"filter": filter_text}),
                               headers={"X-API-Key": api_key}, timeout=60)
    return status, json.loads(body), time.monotonic() - started


def task_ids(body: dict) -> set[str]:
    return {task["task_id"] for task in body["tasks"]}


def test_one_search_request_cannot_make_the_database_plan_for_seconds(live_server) -> None:
    alice, mallory = make_tenant("alice"), make_tenant("mallory")
    seed_task(alice, "alice-task")
    seed_task(mallory, "mallory-task")
    base = live_server.url

    copies = ",".join(["asset.r.k:~:zz"] * 150)
    status, body, seconds = search(base, mallory.api_key, copies)
    assert status == 200 and task_ids(body) == set()  # one clause: "abc" has no "zz"
    assert seconds < 5, f"150 copies of one clause took {seconds:.1f} s"
    status, body, _ = search(base, mallory.api_key, ",".join(["asset.r.k:~:ab"] * 150))
    assert task_ids(body) == {"mallory-task"}  # only her own task, however she asks

    distinct = ",".join(f"asset.r{i}.k:~:b" for i in range(150))
    status, body, seconds = search(base, mallory.api_key, distinct)
    assert status == 422
    assert [item["msg"] for item in body["detail"]] == [
        "A filter may have at most 30 distinct clauses (got 150)",
        "A filter may have at most 10 distinct asset.* clauses (got 150)"]
    assert seconds < 5

    status, body, _ = search(base, mallory.api_key,
                             ",".join(f"param.k{i}:~:b" for i in range(100)))
    assert status == 422 and "at most 30 distinct clauses" in body["detail"][0]["msg"]

    status, body, seconds = search(base, alice.api_key, "asset.r.k:~:ab,param.lr:0.1")
    assert (status, task_ids(body)) == (200, {"alice-task"})
    assert seconds < 5


@pytest.mark.postgres
def test_a_search_that_cannot_finish_is_cancelled_with_503_json(tmp_path: Path) -> None:
    alice, mallory = make_tenant("alice"), make_tenant("mallory")
    seed_task(mallory, "mallory-task")
    settings = connection.settings_dict
    database_url = (f"postgres://{settings['USER']}:{settings['PASSWORD'] or ''}@"
                    f"{settings['HOST']}:{settings['PORT'] or 5432}/{settings['NAME']}")
    env = {
        "PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "DEBUG": "0",
        "SECRET_KEY": "flood-" + os.urandom(16).hex(),
        "JWT_PRIVATE_KEY": generate_rsa_private_key_pem(), "SECURE_SSL_REDIRECT": "0",
        "ALLOWED_HOSTS": "127.0.0.1", "DATABASE_URL": database_url,
        "DB_STATEMENT_TIMEOUT_MS": "500", "OIDC_ISSUER_URL": "",
        "WEB_CONCURRENCY": "1", "GUNICORN_THREADS": "2",
        "GUNICORN_ACCESS_LOG": "",
    }
    with gunicorn(env, tmp_path / "gunicorn.log") as server:
        base = server.url
        status, body, _ = search(base, mallory.api_key, "task_name:Train")
        assert (status, task_ids(body)) == (200, {"mallory-task"})

        # Another session holds the tasks table: the search waits until the timeout expires.
        blocker = psycopg.connect(dbname=settings["NAME"], user=settings["USER"],
                                  password=settings["PASSWORD"] or None,
                                  host=settings["HOST"], port=settings["PORT"] or 5432)
        try:
            blocker.execute("LOCK TABLE tasks_task IN ACCESS EXCLUSIVE MODE")
            status, body, seconds = search(base, mallory.api_key, "task_name:Train")
            assert status == 503
            assert "took too long" in body["detail"]
            assert seconds < 10, f"cancelled after {seconds:.1f} s, not 0.5 s"
            # Alice's requests that do not touch the locked table are served meanwhile.
            split = urlsplit(base)
            status, _, _ = http_get(split.hostname, split.port, "/api/v1/builds",
                                    headers={"X-API-Key": alice.api_key})
            assert status == 200
        finally:
            blocker.rollback()
            blocker.close()

        status, body, _ = search(base, mallory.api_key, "task_name:Train")
        assert (status, task_ids(body)) == (200, {"mallory-task"})
