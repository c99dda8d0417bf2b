"""Transport rules SDK releases 0.10-0.26 depend on (SDK-WIRE §1.2-§1.4, issue 12)."""

from __future__ import annotations

import gzip
import json

import pytest

from tests.builds.helpers import create_build, task_body


def gzipped(client, path, body, **extra):
    return client.generic("POST", path, gzip.compress(json.dumps(body).encode()),
                          content_type="application/json", HTTP_CONTENT_ENCODING="gzip",
                          **extra)


def test_gzip_body_is_decoded_before_parsing(client_a):
    build = create_build(client_a)
    body = task_body("big")
    body["task_data"]["notes"] = "n" * 3000

    response = gzipped(client_a, f"/api/v1/builds/{build['id']}/tasks", body)

    assert response.status_code == 201, response.content
    assert response.json()["task_data"]["notes"] == "n" * 3000


def test_corrupt_gzip_body_is_422_json_invalid(client_a):
    build = create_build(client_a)
    response = client_a.generic("POST", f"/api/v1/builds/{build['id']}/tasks", b"not gzip",
                                content_type="application/json",
                                HTTP_CONTENT_ENCODING="gzip")
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "json_invalid"


def test_gzip_bomb_is_refused_at_the_cap(client_a, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    build = create_build(client_a)
    bomb = gzip.compress(b"[" + b" " * 1_000_000 + b"]")
    assert len(bomb) < 10_000
    response = client_a.generic("POST", f"/api/v1/builds/{build['id']}/tasks", bomb,
                                content_type="application/json",
                                HTTP_CONTENT_ENCODING="gzip")
    assert response.status_code == 413
    assert response.json() == {"detail": "Request body is larger than the limit of 10000 "
                               "bytes."}


@pytest.mark.parametrize("method", ["get", "post", "put", "delete"])
@pytest.mark.parametrize("path", [
    "/api/v1/definitely-not-here",
    "/api/v1/deployments",
    "/api/v1/builds/01890000-0000-7000-8000-000000000000/scheduler-lease",
    "/api/v1/builds/01890000-0000-7000-8000-000000000000/tasks/t/execution-status",
])
def test_a_missing_route_is_exactly_not_found(client_a, method, path):
    response = getattr(client_a, method)(path)
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}


def test_missing_resources_keep_their_own_404_details(client_a):
    unknown = "01890000-0000-7000-8000-000000000000"
    assert client_a.get(f"/api/v1/builds/{unknown}").json() == {"detail": "Build not found"}
    build = create_build(client_a)
    response = client_a.post(f"/api/v1/builds/{build['id']}/tasks/nope/skip")
    assert response.status_code == 404 and response.json() == {"detail": "Task not found"}


def test_sdk_version_header_is_accepted(client_a):
    response = client_a.post("/api/v1/builds", {"root_task_ids": []}, format="json",
                             HTTP_X_STARDAG_SDK_VERSION="0.26.0",
                             HTTP_USER_AGENT="stardag/0.26.0 (Python/3.11; httpx/0.28)")
    assert response.status_code == 201
