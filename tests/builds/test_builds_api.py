"""Builds (contract §4.10): create, read, transitions, legacy PATCH and their error paths."""

from __future__ import annotations

import re
import uuid

import pytest

from builds.models import Build, Event
from tests.builds.helpers import create_build

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
BUILD_KEYS = {"id", "environment_id", "user_id", "name", "description", "commit_hash",
              "root_task_ids", "created_at", "status", "started_at", "completed_at",
              "status_triggered_by_user"}
# Additive fields for SDK ≥0.10 (issue 12): structure scope, build config, resume flag.
BUILD_KEYS |= {"scope_key", "build_config", "is_resumed", "executor_metadata",
               "last_activity_at", "latest_error_message"}


def test_create_build_returns_running_build(client_a, tenant_a):
    body = create_build(client_a, commit_hash="1a2b3c4-dirty", root_task_ids=["r1", "r2"],
                        description="nightly", environment_id=str(uuid.uuid4()),
                        user_id=str(uuid.uuid4()))
    assert set(body) == BUILD_KEYS
    assert body["environment_id"] == str(tenant_a.environment.pk)
    assert body["user_id"] is None  # an API key has no user; body values are ignored
    assert re.fullmatch(r"[a-z]+-[a-z]+-[1-9]\d", body["name"])
    assert body["commit_hash"] == "1a2b3c4-dirty"
    assert body["root_task_ids"] == ["r1", "r2"]
    assert body["description"] == "nightly"
    assert body["status"] == "running"
    assert TIMESTAMP.match(body["created_at"]) and TIMESTAMP.match(body["started_at"])
    assert body["completed_at"] is None and body["status_triggered_by_user"] is None
    events = Event.objects.filter(build_id=body["id"])
    assert [e.event_type for e in events] == ["build_started"]


def test_create_build_accepts_empty_object_and_is_not_idempotent(client_a):
    first = client_a.post("/api/v1/builds", {}, format="json")
    second = client_a.post("/api/v1/builds", {}, format="json")
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] != second.json()["id"]
    assert first.json()["root_task_ids"] == [] and first.json()["commit_hash"] is None


def test_create_build_with_jwt_records_the_user(tenant_a):
    client = tenant_a.jwt_client()
    response = client.post(f"/api/v1/builds?environment_id={tenant_a.environment.pk}", {},
                           format="json")
    assert response.status_code == 201
    assert response.json()["user_id"] == str(tenant_a.user.pk)


def test_create_build_without_body_is_422_missing(client_a):
    response = client_a.post("/api/v1/builds")
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "missing"
    assert response.json()["detail"][0]["loc"] == ["body"]
    blank = client_a.generic("POST", "/api/v1/builds", "  ", content_type="application/json")
    assert blank.status_code == 422 and blank.json()["detail"][0]["loc"] == ["body"]


@pytest.mark.parametrize(("payload", "loc", "type_"), [
    ("[1, 2]", ["body"], "dict_type"),
    ('{"root_task_ids": "x"}', ["body", "root_task_ids"], "list_type"),
    ('{"commit_hash": "' + "x" * 256 + '"}', ["body", "commit_hash"], "string_too_long"),
    ('{"description": 5, "commit_hash": {}}', ["body", "commit_hash"], "string_type"),
])
def test_create_build_rejects_malformed_bodies(client_a, payload, loc, type_):
    response = client_a.generic("POST", "/api/v1/builds", payload,
                                content_type="application/json")
    assert response.status_code == 422
    items = response.json()["detail"]
    assert any(item["loc"] == loc and item["type"] == type_ and item["msg"] for item in items)


def test_create_build_malformed_json_is_json_invalid(client_a):
    response = client_a.generic("POST", "/api/v1/builds", '{"commit_hash": ',
                                content_type="application/json")
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "json_invalid"


def test_get_build(client_a):
    build = create_build(client_a)
    response = client_a.get(f"/api/v1/builds/{build['id']}")
    assert response.status_code == 200 and response.json() == build


def test_unknown_build_is_404_and_malformed_id_422(client_a):
    missing = client_a.get(f"/api/v1/builds/{uuid.uuid4()}")
    assert missing.status_code == 404 and missing.json() == {"detail": "Build not found"}
    bad = client_a.get("/api/v1/builds/nope")
    assert bad.status_code == 422
    assert bad.json()["detail"][0] == {"type": "uuid_parsing", "loc": ["path", "build_id"],
                                       "msg": "Input should be a valid UUID", "input": "nope"}
    bad_post = client_a.post("/api/v1/builds/nope/complete")
    assert bad_post.status_code == 422


def test_build_of_another_environment_is_403(client_a, client_b):
    build = create_build(client_b)
    response = client_a.get(f"/api/v1/builds/{build['id']}")
    assert response.status_code == 403
    assert response.json() == {"detail": "Build does not belong to this environment"}


def test_unauthenticated_is_401(anon_client, client_a):
    build = create_build(client_a)
    response = anon_client.get(f"/api/v1/builds/{build['id']}")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer, ApiKey realm="sdk"'


@pytest.mark.parametrize(("action", "status", "event_type"), [
    ("complete", "completed", "build_completed"),
    ("fail", "failed", "build_failed"),
    ("cancel", "cancelled", "build_cancelled"),
    ("exit-early", "exit_early", "build_exit_early"),
])
def test_transitions_append_an_event_and_return_the_build(client_a, action, status, event_type):
    build = create_build(client_a)
    response = client_a.post(f"/api/v1/builds/{build['id']}/{action}")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == BUILD_KEYS
    assert body["status"] == status and TIMESTAMP.match(body["completed_at"])
    types = list(Event.objects.filter(build_id=build["id"]).values_list("event_type", flat=True))
    assert types == ["build_started", event_type]


@pytest.mark.parametrize("send", [
    lambda c, url: c.post(url),
    lambda c, url: c.generic("POST", url, "", content_type="application/json"),
    lambda c, url: c.post(url, {"anything": [1, 2]}, format="json"),
    lambda c, url: c.generic("POST", url, "not json", content_type="text/plain"),
])
def test_transitions_accept_no_empty_or_any_body(client_a, send):
    build = create_build(client_a)
    response = send(client_a, f"/api/v1/builds/{build['id']}/complete")
    assert response.status_code == 200 and response.json()["status"] == "completed"


def test_fail_and_exit_early_store_their_message(client_a):
    build = create_build(client_a)
    client_a.post(f"/api/v1/builds/{build['id']}/fail?error_message=disk%20full")
    client_a.post(f"/api/v1/builds/{build['id']}/exit-early?reason=all%20locked")
    events = client_a.get(f"/api/v1/builds/{build['id']}/events").json()
    assert [(e["event_type"], e["error_message"]) for e in events] == [
        ("build_started", None), ("build_failed", "disk full"),
        ("build_exit_early", "all locked"),
    ]
    assert client_a.get(f"/api/v1/builds/{build['id']}").json()["status"] == "exit_early"


def test_transitions_have_no_terminal_state(client_a):
    build = create_build(client_a)
    client_a.post(f"/api/v1/builds/{build['id']}/fail")
    body = client_a.post(f"/api/v1/builds/{build['id']}/complete").json()
    assert body["status"] == "completed"
    body = client_a.post(f"/api/v1/builds/{build['id']}/complete").json()
    assert body["status"] == "completed"
    assert Event.objects.filter(build_id=build["id"], event_type="build_completed").count() == 2


def test_jwt_attribution_records_the_callers_own_subject(tenant_a):
    client = tenant_a.jwt_client()
    env = tenant_a.environment.pk
    build = client.post(f"/api/v1/builds?environment_id={env}", {}, format="json").json()
    response = client.post(f"/api/v1/builds/{build['id']}/cancel?environment_id={env}"
                           "&triggered_by_user_id=someone-else")
    assert response.status_code == 200
    assert response.json()["status_triggered_by_user"] == {
        "id": "alice-sub", "email": "alice@example.com", "display_name": "Alice"}
    event = Event.objects.filter(build_id=build["id"]).last()
    assert event.event_metadata == {"triggered_by_user_id": "alice-sub"}
    # a later build_started-free transition without the parameter clears the attribution
    again = client.post(f"/api/v1/builds/{build['id']}/complete?environment_id={env}").json()
    assert again["status_triggered_by_user"] is None


def test_api_key_attribution_is_ignored(client_a):
    build = create_build(client_a)
    body = client_a.post(f"/api/v1/builds/{build['id']}/complete"
                         "?triggered_by_user_id=alice-sub").json()
    assert body["status_triggered_by_user"] is None
    assert Event.objects.filter(build_id=build["id"]).last().event_metadata is None


def test_legacy_patch_updates_descriptive_fields(client_a):
    build = create_build(client_a, description="old")
    url = f"/api/v1/builds/{build['id']}"
    response = client_a.patch(url, {"name": "my-build-2", "commit_hash": None}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert (body["name"], body["commit_hash"], body["description"]) == ("my-build-2", None, "old")
    assert body["status"] == "running"
    assert client_a.patch(url, {}, format="json").json()["name"] == "my-build-2"


def test_legacy_patch_validation(client_a, client_b):
    build = create_build(client_a)
    url = f"/api/v1/builds/{build['id']}"
    bad_name = client_a.patch(url, {"name": "Not A Slug"}, format="json")
    assert bad_name.status_code == 422 and bad_name.json()["detail"][0]["loc"] == ["body", "name"]
    assert client_a.patch(url).json()["detail"][0]["loc"] == ["body"]
    assert client_b.patch(url, {"name": "x"}, format="json").status_code == 403
    assert client_a.patch(f"/api/v1/builds/{uuid.uuid4()}", {}, format="json").status_code == 404
    assert Build.objects.get(pk=build["id"]).name == build["name"]


def test_trailing_slash_is_accepted_without_redirect(client_a):
    response = client_a.post("/api/v1/builds/", {}, format="json")
    assert response.status_code == 201
