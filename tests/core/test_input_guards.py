"""Input no database can store is a 422, never a 500 (NUL characters, lone surrogates, depth)."""

import pytest


@pytest.mark.parametrize(("path", "name"), [("/api/v1/tasks/a%00b", "task_id"),
                                            ("/api/v1/tasks/a%00b/metadata", "task_id"),
                                            ("/api/v1/locks/x%00y", "lock_name")])
def test_nul_in_path_is_422(client_a, path, name):
    response = client_a.get(path)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["path", name]


def test_nul_in_query_is_422(client_a):
    response = client_a.get("/api/v1/builds", {"name": "a\x00b"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "name"]


def test_nul_in_json_body_is_422_with_its_location(client_a):
    response = client_a.post("/api/v1/builds", data='{"description": "bad\\u0000text"}',
                             content_type="application/json")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "description"]


def test_lone_surrogate_in_task_data_is_422_and_writes_nothing(client_a, tenant_a):
    build = client_a.post("/api/v1/builds", {}, format="json").json()
    body = ('{"task_id": "t1", "task_name": "n", "task_data": {"p": ["ok", "\\ud800"]}}')
    response = client_a.post(f"/api/v1/builds/{build['id']}/tasks", data=body,
                             content_type="application/json")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "task_data", "p", 1]
    assert tenant_a.environment.tasks.count() == 0


def test_absurdly_deep_json_is_422(client_a):
    body = "[" * 100_000 + "]" * 100_000
    response = client_a.post("/api/v1/builds", data=body, content_type="application/json")
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "json_invalid"
