"""Bad input is a clear 4xx with nothing written, never a 500 (issue 11, "Inputs").

Each test asserts the status, the error body and that no row was written; the suite runs on
SQLite and on PostgreSQL (``DATABASE_URL=postgres://...``), which is where most of these used to
escape as database errors.
"""

from __future__ import annotations

import json

import pytest

from accounts.models import User
from builds.models import Build
from stardag_site.api.parsers import MAX_JSON_DEPTH
from tasks.models import Task, TaskAsset


def post_json(client, url: str, body: str):
    return client.post(url, data=body, content_type="application/json")


@pytest.fixture
def build_id(client_a) -> str:
    return client_a.post("/api/v1/builds", {}, format="json").json()["id"]


def register_body(task_data: str) -> str:
    return '{"task_id": "t1", "task_name": "n", "task_data": ' + task_data + '}'


# --- body size ---------------------------------------------------------------------------------

def test_body_over_the_limit_is_413_naming_the_limit(client_a, build_id, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
    padding = "x" * (1024 * 1024 + 10)
    response = post_json(client_a, f"/api/v1/builds/{build_id}/tasks",
                         register_body(json.dumps({"p": padding})))
    assert response.status_code == 413
    assert response.json() == {
        "detail": "Request body is larger than the limit of 1048576 bytes (1.0 MiB)."
    }
    assert Task.objects.count() == 0


def test_default_body_limit_takes_a_6_mb_asset(client_a, build_id):
    assert post_json(client_a, f"/api/v1/builds/{build_id}/tasks", register_body("{}")
                     ).status_code == 201
    report = "y" * (6 * 1024 * 1024)
    response = client_a.post(f"/api/v1/builds/{build_id}/tasks/t1/assets",
                             [{"type": "markdown", "name": "r", "body": {"content": report}}],
                             format="json")
    assert response.status_code == 201, response.content
    assert len(TaskAsset.objects.get().body["content"]) == len(report)


# --- numbers JSON cannot carry -----------------------------------------------------------------

@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_in_task_data_are_422(client_a, build_id, constant):
    response = post_json(client_a, f"/api/v1/builds/{build_id}/tasks",
                         register_body('{"a": [1, ' + constant + ']}'))
    assert response.status_code == 422
    item = response.json()["detail"][0]
    assert (item["type"], item["loc"]) == ("json_invalid", ["body", "task_data", "a", 1])
    assert constant in item["msg"]
    assert Task.objects.count() == 0


def test_nan_in_an_asset_body_is_422(client_a, build_id):
    post_json(client_a, f"/api/v1/builds/{build_id}/tasks", register_body("{}"))
    response = post_json(client_a, f"/api/v1/builds/{build_id}/tasks/t1/assets",
                         '[{"type": "json", "name": "m", "body": {"loss": NaN}}]')
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", 0, "body", "loss"]
    assert TaskAsset.objects.count() == 0


# --- nesting -----------------------------------------------------------------------------------

def nested_task_data(levels: int) -> str:
    """``task_data`` whose value nests ``levels`` objects (the body object adds one more)."""
    return '{"a": ' * (levels - 1) + "{}" + "}" * (levels - 1)


def test_json_deeper_than_the_limit_is_422(client_a, build_id):
    response = post_json(client_a, f"/api/v1/builds/{build_id}/tasks",
                         register_body(nested_task_data(MAX_JSON_DEPTH)))
    assert response.status_code == 422
    item = response.json()["detail"][0]
    assert item["type"] == "json_invalid"
    assert item["msg"] == (f"JSON nesting is too deep: at most {MAX_JSON_DEPTH} levels are "
                           "accepted")
    assert Task.objects.count() == 0


def test_json_at_the_depth_limit_is_stored(client_a, build_id):
    response = post_json(client_a, f"/api/v1/builds/{build_id}/tasks",
                         register_body(nested_task_data(MAX_JSON_DEPTH - 1)))
    assert response.status_code == 201, response.content


@pytest.mark.parametrize("depth", [930, 5000])
def test_json_nested_hundreds_of_levels_is_422(client_a, build_id, depth):
    response = post_json(client_a, f"/api/v1/builds/{build_id}/tasks",
                         register_body("[" * depth + "]" * depth))
    assert response.status_code == 422
    assert Task.objects.count() == 0


# --- lengths and ranges the database cannot hold ------------------------------------------------

def test_over_long_root_task_id_is_422_with_the_limit(client_a):
    response = client_a.post("/api/v1/builds", {"root_task_ids": ["ok", "r" * 2700]},
                             format="json")
    assert response.status_code == 422
    item = response.json()["detail"][0]
    assert (item["type"], item["loc"]) == ("string_too_long", ["body", "root_task_ids", 1])
    assert item["msg"] == "String should have at most 64 characters"
    assert Build.objects.count() == 0


@pytest.mark.parametrize("value", [2**31, 2**63, 10**30])
def test_max_concurrent_locks_beyond_int32_is_422(tenant_a, value):
    url = (f"/api/v1/ui/workspaces/{tenant_a.workspace.id}/environments/"
           f"{tenant_a.environment.id}")
    response = tenant_a.jwt_client().patch(url, {"max_concurrent_locks": value}, format="json")
    assert response.status_code == 422
    item = response.json()["detail"][0]
    assert (item["type"], item["loc"]) == ("less_than_equal",
                                           ["body", "max_concurrent_locks"])
    tenant_a.environment.refresh_from_db()
    assert tenant_a.environment.max_concurrent_locks is None


def test_asset_type_must_be_a_string(client_a, build_id):
    post_json(client_a, f"/api/v1/builds/{build_id}/tasks", register_body("{}"))
    response = client_a.post(f"/api/v1/builds/{build_id}/tasks/t1/assets",
                             [{"type": 7, "name": "n", "body": {}}], format="json")
    assert response.status_code == 422
    item = response.json()["detail"][0]
    assert (item["type"], item["loc"]) == ("string_type", ["body", 0, "type"])
    assert TaskAsset.objects.count() == 0


# --- numbers round-trip ------------------------------------------------------------------------

def test_floats_stay_floats_and_integers_stay_integers(client_a, build_id):
    data = {"big": 1.7e308, "tiny": 5e-324, "e": 1e16, "neg": -2.5e-7, "one": 1.0,
            "int": 10**20, "small": 3, "nested": [1e300, {"x": 2.0}]}
    response = post_json(client_a, f"/api/v1/builds/{build_id}/tasks",
                         register_body(json.dumps(data)))
    assert response.status_code == 201
    stored = client_a.get("/api/v1/tasks/t1").json()["task_data"]
    assert stored == data
    assert [type(stored[k]) for k in data] == [type(v) for v in data.values()]
    assert type(stored["nested"][0]) is float and type(stored["nested"][1]["x"]) is float
    Task.objects.get().refresh_from_db()
    assert type(Task.objects.get().task_data["big"]) is float


# --- identity-provider claims ------------------------------------------------------------------

ME = "/api/v1/ui/me"


def oidc_get(provider, **claims):
    from tests.factories import bearer_client

    return bearer_client(provider.token(**claims)).get(ME)


@pytest.mark.parametrize("claim", ["name", "email", "sub"])
def test_over_long_claims_on_first_contact_are_a_clear_4xx(db, oidc_provider, claim):
    claims = {"sub": "new-sub", "email": "new@example.com", "name": "New"}
    claims[claim] = ("a" * 300 + "@example.com") if claim == "email" else "a" * 300
    response = oidc_get(oidc_provider, **claims)
    if claim == "name":  # a display name is cosmetic: cut to the column's length
        assert response.status_code == 200
        assert User.objects.get().display_name == "a" * 255
    else:
        assert response.status_code == 400
        assert response.json() == {"detail": f"Token claim '{claim}' is longer than 255 "
                                   "characters"}
        assert User.objects.count() == 0


@pytest.mark.parametrize("claim", ["name", "email", "sub"])
def test_nul_in_claims_is_a_clear_4xx(db, oidc_provider, claim):
    claims = {"sub": "new-sub", "email": "new@example.com", "name": "New"}
    claims[claim] = "a\x00b@example.com" if claim == "email" else "a\x00b"
    response = oidc_get(oidc_provider, **claims)
    if claim == "name":
        assert response.status_code == 200
        assert User.objects.get().display_name == "ab"
    else:
        assert response.status_code == 400
        assert response.json() == {"detail": f"Token claim '{claim}' contains a NUL character"}
        assert User.objects.count() == 0


def test_existing_user_whose_name_grows_past_the_limit_is_not_locked_out(tenant_a,
                                                                          oidc_provider):
    response = oidc_get(oidc_provider, sub="alice-sub", name="Alice " + "b" * 400)
    assert response.status_code == 200
    tenant_a.user.refresh_from_db()
    assert tenant_a.user.display_name == ("Alice " + "b" * 400)[:255]
