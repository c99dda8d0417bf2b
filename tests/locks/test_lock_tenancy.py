"""Acceptance 4: a key of environment E1 never sees, takes, renews or releases a lock of E2,
even with the same name; caps and completion are per environment too."""

from __future__ import annotations

from locks.models import Lock
from tasks.services import task_event_record
from tests import factories
from tests.locks.helpers import NOT_OWNED, lock_url, started_task


def test_other_environment_cannot_see_take_renew_or_release(client_a, client_b, tenant_a,
                                                             tenant_b):
    client_a.post(lock_url("shared", "acquire"), {"owner_id": "owner-a"}, format="json")

    assert client_b.get(lock_url("shared")).status_code == 404
    assert client_b.get("/api/v1/locks?include_expired=true").json() == {"locks": [], "count": 0}
    # Same owner id, same name: still not A's lock.
    assert client_b.post(lock_url("shared", "renew"), {"owner_id": "owner-a"},
                         format="json").json() == NOT_OWNED
    assert client_b.post(lock_url("shared", "release"), {"owner_id": "owner-a"},
                         format="json").json() == NOT_OWNED

    # B acquiring the same name gets its own, independent lock.
    taken = client_b.post(lock_url("shared", "acquire"), {"owner_id": "owner-b"}, format="json")
    assert taken.status_code == 200
    assert taken.json()["lock"]["environment_id"] == str(tenant_b.environment.id)
    assert taken.json()["lock"]["version"] == 0

    a_lock = Lock.objects.get(environment=tenant_a.environment, name="shared")
    assert (a_lock.owner_id, a_lock.version, a_lock.released_at) == ("owner-a", 0, None)
    assert client_a.get(lock_url("shared")).json()["owner_id"] == "owner-a"
    assert [lock["owner_id"] for lock in client_a.get("/api/v1/locks").json()["locks"]] == [
        "owner-a"]


def test_second_environment_of_the_same_workspace_is_isolated(tenant_a, client_a):
    other_env = factories.make_environment(tenant_a.workspace, "staging")
    other = factories.make_api_key(other_env)
    client_a.post(lock_url("t", "acquire"), {"owner_id": "o"}, format="json")
    client = tenant_a.key_client()
    client.credentials(HTTP_X_API_KEY=other)
    assert client.get(lock_url("t")).status_code == 404
    assert client.post(lock_url("t", "acquire"), {"owner_id": "x"}, format="json").status_code \
        == 200


def test_completion_in_another_environment_does_not_count(client_a, client_b, tenant_b):
    build, task = started_task(tenant_b.environment, "t1")
    task_event_record(build=build, task=task, event_type="task_completed")
    assert client_b.get("/api/v1/locks/tasks/t1/completion-status").json()["is_completed"]
    assert client_a.get("/api/v1/locks/tasks/t1/completion-status").json() == {
        "task_id": "t1", "is_completed": False}
    assert client_a.post(lock_url("t1", "acquire"), {"owner_id": "o"},
                         format="json").json()["status"] == "acquired"


def test_cap_counts_only_the_own_environment(client_a, client_b, tenant_a):
    tenant_a.environment.max_concurrent_locks = 1
    tenant_a.environment.save()
    for name in ("b1", "b2", "b3"):
        client_b.post(lock_url(name, "acquire"), {"owner_id": "o"}, format="json")
    assert client_a.post(lock_url("a1", "acquire"), {"owner_id": "o"},
                         format="json").status_code == 200
    assert client_a.post(lock_url("a2", "acquire"), {"owner_id": "o"},
                         format="json").status_code == 429


def test_release_cannot_record_completion_in_a_build_of_another_environment(
        client_a, tenant_a, tenant_b):
    foreign_build, _ = started_task(tenant_b.environment, "t1")
    _, own_task = started_task(tenant_a.environment, "t1")
    client_a.post(lock_url("t1", "acquire"), {"owner_id": "o"}, format="json")
    response = client_a.post(lock_url("t1", "release"), {
        "owner_id": "o", "task_completed": True, "build_id": str(foreign_build.pk)},
        format="json")
    assert response.status_code == 404
    assert not foreign_build.events.filter(event_type="task_completed").exists()
    # Without build_id the completion goes to A's own starting build, never to B's.
    client_a.post(lock_url("t1", "release"), {"owner_id": "o", "task_completed": True},
                  format="json")
    own_task.refresh_from_db()
    assert own_task.status == "completed"
    assert own_task.status_build.environment_id == tenant_a.environment.id
    assert not foreign_build.events.filter(event_type="task_completed").exists()
