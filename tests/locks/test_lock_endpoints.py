"""Every lock endpoint and its error paths, with the contract's exact bodies (§4.13, §6)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from locks.models import Lock
from tests.locks.helpers import NOT_OWNED, TIMESTAMP, lock_url

HELD = {"detail": {"status": "held_by_other", "error_message": "Lock is held by another owner"}}


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _expire(environment, name: str) -> None:
    past = timezone.now() - timedelta(seconds=5)
    Lock.objects.filter(environment=environment, name=name).update(expires_at=past)


def test_fresh_acquire_returns_the_lock_at_version_zero(client_a, tenant_a):
    response = client_a.post(lock_url("task-1", "acquire"),
                             {"owner_id": "owner-1", "ttl_seconds": 120}, format="json")
    assert response.status_code == 200
    body = response.json()
    lock = body.pop("lock")
    assert body == {"status": "acquired", "acquired": True, "error_message": None}
    assert set(lock) == {"name", "environment_id", "owner_id", "acquired_at", "expires_at",
                         "version"}
    assert (lock["name"], lock["environment_id"], lock["owner_id"], lock["version"]) == (
        "task-1", str(tenant_a.environment.id), "owner-1", 0)
    assert TIMESTAMP.match(lock["acquired_at"]) and TIMESTAMP.match(lock["expires_at"])
    assert _parse(lock["expires_at"]) - _parse(lock["acquired_at"]) == timedelta(seconds=120)


def test_acquire_defaults_to_a_sixty_second_lease(client_a):
    lock = client_a.post(lock_url("t", "acquire"), {"owner_id": "o"}, format="json").json()["lock"]
    assert _parse(lock["expires_at"]) - _parse(lock["acquired_at"]) == timedelta(seconds=60)


def test_reacquire_by_owner_is_reentrant_and_bumps_version(client_a):
    first = client_a.post(lock_url("t", "acquire"), {"owner_id": "o"}, format="json").json()
    again = client_a.post(lock_url("t", "acquire"), {"owner_id": "o", "ttl_seconds": 30},
                          format="json")
    assert again.status_code == 200
    lock = again.json()["lock"]
    assert lock["version"] == 1
    assert _parse(lock["acquired_at"]) >= _parse(first["lock"]["acquired_at"])
    assert _parse(lock["expires_at"]) - _parse(lock["acquired_at"]) == timedelta(seconds=30)


def test_acquire_of_a_lock_held_by_another_owner_is_423_with_object_detail(client_a):
    client_a.post(lock_url("t", "acquire"), {"owner_id": "first"}, format="json")
    response = client_a.post(lock_url("t", "acquire"), {"owner_id": "second"}, format="json")
    assert response.status_code == 423
    assert response.json() == HELD
    assert Lock.objects.get(name="t").owner_id == "first"


def test_expired_lease_is_taken_over_with_a_higher_version(client_a, tenant_a):
    client_a.post(lock_url("t", "acquire"), {"owner_id": "first"}, format="json")
    client_a.post(lock_url("t", "renew"), {"owner_id": "first"}, format="json")  # version 1
    _expire(tenant_a.environment, "t")
    response = client_a.post(lock_url("t", "acquire"), {"owner_id": "second"}, format="json")
    assert response.status_code == 200
    assert response.json()["lock"]["owner_id"] == "second"
    assert response.json()["lock"]["version"] == 2
    assert client_a.post(lock_url("t", "renew"), {"owner_id": "first"},
                         format="json").json() == NOT_OWNED


def test_concurrency_cap_refuses_new_names_with_429(client_a, tenant_a):
    tenant_a.environment.max_concurrent_locks = 2
    tenant_a.environment.save()
    for name in ("a", "b"):
        assert client_a.post(lock_url(name, "acquire"), {"owner_id": "o"},
                             format="json").status_code == 200
    response = client_a.post(lock_url("c", "acquire"), {"owner_id": "o"}, format="json")
    assert response.status_code == 429
    assert response.json() == {"detail": {
        "status": "concurrency_limit_reached",
        "error_message": "Environment concurrency limit reached (2)"}}
    # The owner of an existing row may re-acquire at the cap; expired locks do not count.
    assert client_a.post(lock_url("a", "acquire"), {"owner_id": "o"},
                         format="json").status_code == 200
    _expire(tenant_a.environment, "b")
    assert client_a.post(lock_url("c", "acquire"), {"owner_id": "o"},
                         format="json").status_code == 200


def test_cap_is_checked_before_the_holder(client_a, tenant_a):
    """§6.2 order: at the cap, another owner's held name answers 429, not 423."""
    tenant_a.environment.max_concurrent_locks = 1
    tenant_a.environment.save()
    client_a.post(lock_url("a", "acquire"), {"owner_id": "o"}, format="json")
    assert client_a.post(lock_url("b", "acquire"), {"owner_id": "o"},
                         format="json").status_code == 429
    assert not Lock.objects.filter(name="b").exists()
    # The cap excludes the name asked for: "a" counts 0 others, so its holder decides (423).
    assert client_a.post(lock_url("a", "acquire"), {"owner_id": "x"},
                         format="json").status_code == 423
    Lock.objects.create(environment=tenant_a.environment, name="c", owner_id="other",
                        acquired_at=timezone.now(), expires_at=timezone.now() + timedelta(60))
    # "c" is held by another owner and "a" fills the cap: 429 comes before 423.
    assert client_a.post(lock_url("c", "acquire"), {"owner_id": "x"},
                         format="json").status_code == 429
    tenant_a.environment.max_concurrent_locks = None
    tenant_a.environment.save()
    assert client_a.post(lock_url("b", "acquire"), {"owner_id": "o"},
                         format="json").status_code == 200


def test_renew_extends_the_lease_and_bumps_version(client_a):
    client_a.post(lock_url("t", "acquire"), {"owner_id": "o", "ttl_seconds": 5}, format="json")
    response = client_a.post(lock_url("t", "renew"), {"owner_id": "o", "ttl_seconds": 600},
                             format="json")
    assert response.status_code == 200
    assert response.json() == {"renewed": True}
    lock = Lock.objects.get(name="t")
    assert lock.version == 1
    assert lock.expires_at - timezone.now() > timedelta(seconds=590)


def test_renew_of_an_expired_but_untaken_lease_succeeds(client_a, tenant_a):
    client_a.post(lock_url("t", "acquire"), {"owner_id": "o"}, format="json")
    _expire(tenant_a.environment, "t")
    assert client_a.post(lock_url("t", "renew"), {"owner_id": "o"},
                         format="json").json() == {"renewed": True}
    assert Lock.objects.get(name="t").expires_at > timezone.now()


@pytest.mark.parametrize("verb", ["renew", "release"])
def test_renew_and_release_by_a_non_owner_or_of_a_missing_lock_are_409(client_a, verb):
    assert client_a.post(lock_url("missing", verb), {"owner_id": "o"}, format="json").json() \
        == NOT_OWNED
    client_a.post(lock_url("t", "acquire"), {"owner_id": "owner"}, format="json")
    response = client_a.post(lock_url("t", verb), {"owner_id": "intruder"}, format="json")
    assert response.status_code == 409
    assert response.json() == NOT_OWNED
    assert Lock.objects.get(name="t").owner_id == "owner"


def test_release_frees_the_name_and_a_second_release_is_409(client_a):
    client_a.post(lock_url("t", "acquire"), {"owner_id": "o"}, format="json")
    response = client_a.post(lock_url("t", "release"), {"owner_id": "o"}, format="json")
    assert (response.status_code, response.json()) == (200, {"released": True})
    assert client_a.get(lock_url("t")).status_code == 404
    assert client_a.post(lock_url("t", "release"), {"owner_id": "o"}, format="json").json() \
        == NOT_OWNED
    assert client_a.post(lock_url("t", "renew"), {"owner_id": "o"}, format="json").json() \
        == NOT_OWNED
    assert client_a.get("/api/v1/locks?include_expired=true").json() == {"locks": [], "count": 0}


def test_versions_keep_growing_across_releases(client_a):
    """The fencing token never repeats for a name: a release keeps a tombstone."""
    versions = []
    for owner in ("a", "b", "a", "c"):
        response = client_a.post(lock_url("t", "acquire"), {"owner_id": owner}, format="json")
        versions.append(response.json()["lock"]["version"])
        client_a.post(lock_url("t", "renew"), {"owner_id": owner}, format="json")
        client_a.post(lock_url("t", "release"), {"owner_id": owner}, format="json")
    assert versions == [0, 2, 4, 6]


def test_get_lock_shows_active_and_expired_leases(client_a, tenant_a):
    assert client_a.get(lock_url("t")).json() == {"detail": "Lock not found"}
    assert client_a.get(lock_url("t")).status_code == 404
    acquired = client_a.post(lock_url("t", "acquire"), {"owner_id": "o"},
                             format="json").json()["lock"]
    assert client_a.get(lock_url("t")).json() == acquired
    _expire(tenant_a.environment, "t")
    expired = client_a.get(lock_url("t"))
    assert expired.status_code == 200
    assert expired.json()["owner_id"] == "o"


def test_list_shows_active_locks_newest_first(client_a, tenant_a, django_assert_max_num_queries):
    for name in ("old", "mid", "new", "stale"):
        client_a.post(lock_url(name, "acquire"), {"owner_id": "o"}, format="json")
    _expire(tenant_a.environment, "stale")
    client_a.post(lock_url("gone", "acquire"), {"owner_id": "o"}, format="json")
    client_a.post(lock_url("gone", "release"), {"owner_id": "o"}, format="json")
    with django_assert_max_num_queries(3):
        response = client_a.get("/api/v1/locks")
    assert response.status_code == 200
    body = response.json()
    assert [lock["name"] for lock in body["locks"]] == ["new", "mid", "old"]
    assert body["count"] == 3
    with_expired = client_a.get("/api/v1/locks", {"include_expired": "yes"}).json()
    assert [lock["name"] for lock in with_expired["locks"]] == ["stale", "new", "mid", "old"]
    assert with_expired["count"] == 4


def test_list_rejects_a_bad_boolean(client_a):
    response = client_a.get("/api/v1/locks?include_expired=maybe")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "include_expired"]
    assert response.json()["detail"][0]["type"] == "bool_parsing"


def test_completion_status_of_unknown_task_is_false(client_a):
    response = client_a.get("/api/v1/locks/tasks/no-such-task/completion-status")
    assert response.status_code == 200
    assert response.json() == {"task_id": "no-such-task", "is_completed": False}


def test_lock_named_tasks_is_a_plain_lock(client_a):
    client_a.post(lock_url("tasks", "acquire"), {"owner_id": "o"}, format="json")
    assert client_a.get(lock_url("tasks")).json()["name"] == "tasks"


def test_trailing_slash_is_accepted_without_redirect(client_a):
    response = client_a.post(lock_url("t", "acquire") + "/", {"owner_id": "o"}, format="json")
    assert response.status_code == 200


def test_jwt_with_environment_id_query_parameter(tenant_a):
    client = tenant_a.jwt_client()
    url = lock_url("t", "acquire") + f"?environment_id={tenant_a.environment.slug}"
    response = client.post(url, {"owner_id": "o"}, format="json")
    assert response.status_code == 200
    assert response.json()["lock"]["environment_id"] == str(tenant_a.environment.id)
    missing = client.post(lock_url("t", "acquire"), {"owner_id": "o"}, format="json")
    assert missing.status_code == 400


@pytest.mark.parametrize("method, path", [
    ("get", "/api/v1/locks"),
    ("get", "/api/v1/locks/t"),
    ("post", "/api/v1/locks/t/acquire"),
    ("post", "/api/v1/locks/t/renew"),
    ("post", "/api/v1/locks/t/release"),
    ("get", "/api/v1/locks/tasks/t/completion-status"),
])
def test_every_lock_endpoint_needs_a_credential(anon_client, db, method, path):
    response = getattr(anon_client, method)(path, {"owner_id": "o"}, format="json") \
        if method == "post" else anon_client.get(path)
    assert response.status_code == 401
    assert response.json() == {
        "detail": "Not authenticated. Provide an X-API-Key header or a Bearer token."}
    bad_key = anon_client.generic(method.upper(), path, HTTP_X_API_KEY="sk_nope")
    assert bad_key.status_code == 401
    assert bad_key.json() == {"detail": "Invalid API key"}


# --- body validation (422, §1.5) ------------------------------------------------------------

@pytest.mark.parametrize("verb, body, expected", [
    ("acquire", {}, {"type": "missing", "loc": ["body", "owner_id"], "msg": "Field required"}),
    ("acquire", {"owner_id": ""},
     {"type": "string_too_short", "loc": ["body", "owner_id"]}),
    ("acquire", {"owner_id": "x" * 256},
     {"type": "string_too_long", "loc": ["body", "owner_id"]}),
    ("acquire", {"owner_id": 42}, {"type": "string_type", "loc": ["body", "owner_id"]}),
    ("acquire", {"owner_id": "o", "ttl_seconds": 0},
     {"type": "greater_than_equal", "loc": ["body", "ttl_seconds"],
      "msg": "Input should be greater than or equal to 1"}),
    ("acquire", {"owner_id": "o", "ttl_seconds": 86401},
     {"type": "less_than_equal", "loc": ["body", "ttl_seconds"],
      "msg": "Input should be less than or equal to 86400"}),
    ("acquire", {"owner_id": "o", "ttl_seconds": "soon"},
     {"type": "int_parsing", "loc": ["body", "ttl_seconds"]}),
    ("acquire", {"owner_id": "o", "check_task_completion": "maybe"},
     {"type": "bool_parsing", "loc": ["body", "check_task_completion"]}),
    ("acquire", ["owner_id"], {"type": "dict_type", "loc": ["body"]}),
    ("renew", {"owner_id": "o", "ttl_seconds": -1},
     {"type": "greater_than_equal", "loc": ["body", "ttl_seconds"]}),
    ("renew", {}, {"type": "missing", "loc": ["body", "owner_id"]}),
    ("release", {"owner_id": "o", "task_completed": True, "build_id": "nope"},
     {"type": "uuid_parsing", "loc": ["body", "build_id"]}),
    ("release", {"owner_id": "o", "task_completed": "maybe"},
     {"type": "bool_parsing", "loc": ["body", "task_completed"]}),
])
def test_invalid_bodies_are_422(client_a, verb, body, expected):
    response = client_a.post(lock_url("t", verb), body, format="json")
    assert response.status_code == 422
    items = response.json()["detail"]
    assert len(items) == 1
    assert items[0].items() >= expected.items()
    assert isinstance(items[0]["msg"], str) and items[0]["msg"]
    assert not Lock.objects.exists()


@pytest.mark.parametrize("verb", ["acquire", "renew", "release"])
def test_absent_body_is_missing_body(client_a, verb):
    response = client_a.post(lock_url("t", verb))
    assert response.status_code == 422
    assert response.json() == {"detail": [
        {"type": "missing", "loc": ["body"], "msg": "Field required", "input": None}]}


def test_malformed_json_is_json_invalid(client_a):
    response = client_a.post(lock_url("t", "acquire"), data="{oops",
                             content_type="application/json")
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "json_invalid"


@pytest.mark.parametrize("ttl", [1, 86400])
def test_ttl_bounds_are_inclusive(client_a, ttl):
    response = client_a.post(lock_url("t", "acquire"), {"owner_id": "o", "ttl_seconds": ttl},
                             format="json")
    assert response.status_code == 200
    lock = response.json()["lock"]
    assert _parse(lock["expires_at"]) - _parse(lock["acquired_at"]) == timedelta(seconds=ttl)


@pytest.mark.parametrize("verb", ["acquire", "renew", "release", None])
def test_unstorable_lock_names_are_422_not_500(client_a, verb):
    for name, expected in (("a%00b", "value_error"), ("é" * 256, "string_too_long")):
        url = lock_url(name, verb)
        response = (client_a.post(url, {"owner_id": "o"}, format="json") if verb
                    else client_a.get(url))
        assert response.status_code == 422
        item = response.json()["detail"][0]
        assert (item["type"], item["loc"]) == (expected, ["path", "lock_name"])
    assert client_a.post(lock_url("é" * 255, "acquire"), {"owner_id": "o"},
                         format="json").status_code == 200


def test_nul_in_owner_id_or_task_id_is_handled(client_a):
    response = client_a.post(lock_url("t", "acquire"), {"owner_id": "a\u0000b"}, format="json")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "owner_id"]
    status = client_a.get("/api/v1/locks/tasks/a%00b/completion-status")
    assert status.status_code == 422
    assert status.json()["detail"][0]["loc"] == ["path", "task_id"]
