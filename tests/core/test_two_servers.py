"""Two gunicorn servers on two ports against one PostgreSQL database (docs/deployment.md, section
6): a lock held through one is refused through the other, and registering the same task through
both at once yields one task. Nothing is shared between the servers but the database."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.db import connection

from builds.models import Event
from tasks.models import Task
from tests.factories import make_tenant
from tests.servers import base_env, gunicorn, http

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def database_url() -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return (f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:"
            f"{db['PORT'] or 5432}/{db['NAME']}")


def test_locks_and_registration_hold_across_two_servers(tmp_path: Path) -> None:
    tenant = make_tenant("twin")
    headers = {"X-API-Key": tenant.api_key}
    env = base_env(tmp_path, DATABASE_URL=database_url(), WEB_CONCURRENCY="2",
                   DB_CONN_MAX_AGE="0")
    with gunicorn(env, tmp_path / "a.log") as a, gunicorn(env, tmp_path / "b.log") as b:
        assert a.url != b.url

        def acquire(server, owner: str) -> tuple[int, object]:
            status, body, _ = http("POST", f"{server.url}/api/v1/locks/shared/acquire",
                                   body={"owner_id": owner, "ttl_seconds": 60}, headers=headers)
            return status, body

        status, body = acquire(a, "owner-a")
        assert status == 200 and body["acquired"] is True
        first_version = body["lock"]["version"]
        status, body = acquire(b, "owner-b")
        assert status == 423 and body["detail"]["status"] == "held_by_other"
        status, _, _ = http("POST", f"{b.url}/api/v1/locks/shared/release",
                            body={"owner_id": "owner-b"}, headers=headers)
        assert status == 409  # B cannot release A's lock either
        status, _, _ = http("POST", f"{a.url}/api/v1/locks/shared/release",
                            body={"owner_id": "owner-a"}, headers=headers)
        assert status == 200
        status, body = acquire(b, "owner-b")
        assert status == 200 and body["lock"]["version"] > first_version

        builds = []
        for server in (a, b):
            status, body, _ = http("POST", f"{server.url}/api/v1/builds",
                                   body={"commit_hash": "twin", "root_task_ids": []},
                                   headers=headers)
            assert status == 201
            builds.append((server, body["id"]))
        task_ids = [f"shared-task-{n}" for n in range(8)]

        def register(job: tuple[object, str, str]) -> int:
            server, build_id, task_id = job
            status, _, _ = http(
                "POST", f"{server.url}/api/v1/builds/{build_id}/tasks", headers=headers,
                body={"task_id": task_id, "task_name": "Shared", "task_data": {"n": task_id}},
            )
            return status

        jobs = [(server, build_id, task_id) for task_id in task_ids
                for server, build_id in builds]
        with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
            statuses = list(pool.map(register, jobs))
    assert statuses == [201] * len(jobs)
    for task_id in task_ids:
        task = Task.objects.get(environment=tenant.environment, task_id=task_id)
        kinds = sorted(Event.objects.filter(task=task).values_list("event_type", flat=True))
        assert kinds == ["task_pending", "task_referenced"]
