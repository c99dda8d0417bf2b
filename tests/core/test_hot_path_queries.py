"""Statements per request on the SDK's hot paths, pinned (issue 10, acceptance 3).

The tests run without pytest-django's wrapping transaction (``transactional_db``), so every
service opens its own transaction exactly as in production (``BEGIN``/``COMMIT`` are not counted
by Django; a wrapping test transaction would add ``SAVEPOINT`` statements production never
sends). Each client makes one request first: an API key stamps ``last_used_at`` at most once a
minute, and that write is not the steady state being pinned.

They also prove that the one-query credential resolution keeps every refusal immediate: a
revoked key, a removed member and a disabled user are refused on the very next request.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from builds.services import build_create
from tasks.models import Task
from tasks.serializers import task_dict
from tests import factories
from tests.conftest import make_tenant
from workspaces.api_keys import api_key_revoke
from workspaces.models import ApiKey, WorkspaceMember

pytestmark = pytest.mark.django_db(transaction=True)

TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK")


@contextmanager
def max_statements(limit: int) -> Iterator[None]:
    """At most ``limit`` SQL statements, not counting transaction control: psycopg sends
    ``BEGIN``/``COMMIT`` for PostgreSQL outside Django's query log, while Django's SQLite
    backend logs its ``BEGIN IMMEDIATE`` and ``COMMIT``; both databases get the same ceiling."""
    with CaptureQueriesContext(connection) as captured:
        yield
    statements = [q["sql"] for q in captured.captured_queries
                  if not q["sql"].upper().startswith(TRANSACTION_CONTROL)]
    assert len(statements) <= limit, "\n\n".join(statements)

REGISTER = {"task_id": "t-hot", "task_name": "Train", "task_namespace": "ml",
            "task_data": {"lr": 0.1}, "version": "1", "output_uri": None,
            "dependency_task_ids": ["t-up"]}


@pytest.fixture
def tenant():
    return make_tenant("hot")


def _clients(tenant):
    key = tenant.key_client()
    bearer = factories.bearer_client(tenant.token())
    env = {"environment_id": str(tenant.environment.pk)}
    return [("api key", key, {}), ("bearer", bearer, env)]


def _query(params: dict[str, str]) -> str:
    return "?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else ""


def test_build_get_takes_two_queries(tenant):
    build = build_create(environment=tenant.environment)
    for _label, client, params in _clients(tenant):
        url = f"/api/v1/builds/{build.pk}{_query(params)}"
        assert client.get(url).status_code == 200  # warm: last_used_at
        with max_statements(2):
            response = client.get(url)
        assert response.status_code == 200 and response.json()["id"] == str(build.pk)


@pytest.mark.parametrize("label", ["api key", "bearer"])
def test_task_start_and_complete_take_four_queries(tenant, label):
    _, client, params = dict((c[0], c) for c in _clients(tenant))[label]
    build = build_create(environment=tenant.environment)
    base = f"/api/v1/builds/{build.pk}/tasks"
    assert client.post(base + _query(params), REGISTER, format="json").status_code == 201
    # auth, the locked read of the task (with its build), the event and the fold of it into the
    # task row: one statement on PostgreSQL (insert_row_and_update_row), two on SQLite
    for action, status in (("start", "running"), ("complete", "completed")):
        with max_statements(3 if connection.vendor == "postgresql" else 4):
            response = client.post(f"{base}/t-hot/{action}{_query(params)}")
        assert response.json() == {"task_id": "t-hot", "status": status}
    # The answers of a wrong build or task are unchanged (and cost more only when refused).
    other = build_create(environment=make_tenant("other").environment)
    assert client.post(f"{base}/nope/start{_query(params)}").json() == {
        "detail": "Task not found"}
    assert client.post(f"/api/v1/builds/{other.pk}/tasks/t-hot/start{_query(params)}").json() \
        == {"detail": "Build does not belong to this environment"}


def test_task_register_takes_a_bounded_number_of_queries(tenant):
    client = tenant.key_client()
    build = build_create(environment=tenant.environment)
    base = f"/api/v1/builds/{build.pk}/tasks"
    client.post(base, {**REGISTER, "task_id": "t-up", "dependency_task_ids": []}, format="json")
    # new task: auth, build, lock (miss), insert (its row count says it created the row, which
    # is not read back), event, edges
    with max_statements(6):
        response = client.post(base, REGISTER, format="json")
    assert response.status_code == 201
    stored = Task.objects.get(environment=tenant.environment, task_id=REGISTER["task_id"])
    assert response.json() == task_dict(stored)  # the written candidate is the stored row
    # again (the SDK registers every task once more right before starting it): auth, build,
    # lock, event and fold (one statement on PostgreSQL), edges
    with max_statements(5 if connection.vendor == "postgresql" else 6):
        assert client.post(base, REGISTER, format="json").status_code == 201
    edges = client.get(f"/api/v1/builds/{build.pk}/graph").json()["edges"]
    assert len(edges) == 1


def test_lock_acquire_takes_three_queries_and_release_two(tenant):
    """Two on PostgreSQL: the credential, then one call of ``stardag_lock_acquire`` for a grant
    and for a refusal alike (``locks.0004``)."""
    acquire = 2 if connection.vendor == "postgresql" else 3
    client = tenant.key_client()
    other = factories.api_key_client(factories.make_api_key(tenant.environment))
    client.get("/api/v1/locks")
    other.get("/api/v1/locks")
    body = {"owner_id": "me", "ttl_seconds": 60, "check_task_completion": True}
    with max_statements(acquire):  # first grant of a name
        response = client.post("/api/v1/locks/hot-lock/acquire", body, format="json")
    assert response.json()["lock"]["version"] == 0
    with max_statements(acquire):  # re-entrant grant
        response = client.post("/api/v1/locks/hot-lock/acquire", body, format="json")
    assert response.json()["lock"]["version"] == 1
    with max_statements(acquire):  # refusal
        response = other.post("/api/v1/locks/hot-lock/acquire", {**body, "owner_id": "you"},
                              format="json")
    assert response.status_code == 423
    with max_statements(2):
        response = client.post("/api/v1/locks/hot-lock/release", {"owner_id": "me"},
                               format="json")
    assert response.json() == {"released": True}
    with max_statements(acquire):  # takeover of the released row
        response = other.post("/api/v1/locks/hot-lock/acquire", {**body, "owner_id": "you"},
                              format="json")
    assert response.json()["lock"]["version"] == 2


def test_revoked_key_removed_member_and_disabled_user_are_refused_at_once(tenant):
    build = build_create(environment=tenant.environment)
    key_client = tenant.key_client()
    assert key_client.get(f"/api/v1/builds/{build.pk}").status_code == 200
    api_key_revoke(api_key=ApiKey.objects.get(environment=tenant.environment))
    assert key_client.get(f"/api/v1/builds/{build.pk}").status_code == 401

    member = factories.make_user("member@example.com")
    factories.add_member(tenant.workspace, member)
    bearer = factories.bearer_client(factories.internal_token(member, tenant.workspace))
    url = f"/api/v1/builds/{build.pk}?environment_id={tenant.environment.pk}"
    assert bearer.get(url).status_code == 200
    WorkspaceMember.objects.filter(user=member).delete()
    response = bearer.get(url)
    assert response.status_code == 403
    assert response.json() == {"detail": "Not a member of this workspace"}

    factories.add_member(tenant.workspace, member)
    assert bearer.get(url).status_code == 200
    User.objects.filter(pk=member.pk).update(is_active=False)
    assert bearer.get(url).status_code == 401
