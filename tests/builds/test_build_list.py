"""``GET /api/v1/builds``: page envelope, filters, sort and their 422s."""

from __future__ import annotations

import datetime
import uuid

import pytest
from django.utils import timezone

from builds.models import Build
from tests.builds.helpers import create_build


@pytest.fixture
def three_builds(client_a, tenant_a):
    first = create_build(client_a, commit_hash="aaa", root_task_ids=["root-1", "root-2"])
    second = create_build(client_a, commit_hash="bbb", root_task_ids=["root-2"])
    jwt = tenant_a.jwt_client()
    third = jwt.post(f"/api/v1/builds?environment_id={tenant_a.environment.pk}",
                     {"commit_hash": "ccc"}, format="json").json()
    client_a.post(f"/api/v1/builds/{first['id']}/fail")
    client_a.post(f"/api/v1/builds/{second['id']}/complete")
    # Give them distinct, known creation times.
    base = timezone.now() - datetime.timedelta(days=3)
    for offset, build in enumerate((first, second, third)):
        Build.objects.filter(pk=build["id"]).update(
            created_at=base + datetime.timedelta(days=offset))
    return first, second, third


def ids(response):
    assert response.status_code == 200, response.content
    return [build["id"] for build in response.json()["builds"]]


def test_list_envelope_newest_first(client_a, client_b, three_builds):
    create_build(client_b)  # another environment: never listed
    response = client_a.get("/api/v1/builds")
    body = response.json()
    assert set(body) == {"builds", "total", "page", "page_size"}
    assert (body["total"], body["page"], body["page_size"]) == (3, 1, 20)
    assert ids(response) == [b["id"] for b in reversed(three_builds)]
    assert body["builds"][1]["status"] == "completed"


def test_list_pagination(client_a, three_builds):
    page = client_a.get("/api/v1/builds?page=2&page_size=2").json()
    assert page["total"] == 3 and [b["id"] for b in page["builds"]] == [three_builds[0]["id"]]
    past = client_a.get("/api/v1/builds?page=9&page_size=2").json()
    assert past["builds"] == [] and past["total"] == 3


@pytest.mark.parametrize("query", ["page=0", "page_size=101", "page_size=x", "page=-1"])
def test_list_bad_paging_is_422(client_a, query):
    response = client_a.get(f"/api/v1/builds?{query}")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][0] == "query"


def test_list_filters(client_a, tenant_a, three_builds):
    first, second, third = three_builds
    assert ids(client_a.get("/api/v1/builds?status=failed")) == [first["id"]]
    assert ids(client_a.get("/api/v1/builds?status=failed,running")) == [third["id"], first["id"]]
    assert ids(client_a.get("/api/v1/builds?commit_hash=bbb")) == [second["id"]]
    assert ids(client_a.get("/api/v1/builds?root_task_id=root-2")) == [second["id"], first["id"]]
    assert ids(client_a.get("/api/v1/builds?root_task_id=nope")) == []
    assert ids(client_a.get(f"/api/v1/builds?user_id={tenant_a.user.pk}")) == [third["id"]]
    fragment = first["name"].split("-")[0].upper()
    assert first["id"] in ids(client_a.get(f"/api/v1/builds?name={fragment}"))
    middle = Build.objects.get(pk=second["id"]).created_at.isoformat().replace("+00:00", "Z")
    assert ids(client_a.get(f"/api/v1/builds?created_after={middle}")) == [third["id"],
                                                                            second["id"]]
    assert ids(client_a.get(f"/api/v1/builds?created_before={middle}")) == [second["id"],
                                                                             first["id"]]
    assert ids(client_a.get("/api/v1/builds?sort=created_at:asc")) == [b["id"]
                                                                      for b in three_builds]
    total = client_a.get("/api/v1/builds?status=completed&page_size=1").json()["total"]
    assert total == 1


@pytest.mark.parametrize(("query", "name"), [
    ("status=done", "status"),
    ("created_after=yesterday", "created_after"),
    ("user_id=nope", "user_id"),
    ("sort=name", "sort"),
])
def test_list_bad_filters_are_422(client_a, query, name):
    response = client_a.get(f"/api/v1/builds?{query}")
    assert response.status_code == 422
    item = response.json()["detail"][0]
    assert item["loc"] == ["query", name] and item["msg"]


def test_list_filter_by_user_id_of_unknown_user_is_empty(client_a, three_builds):
    assert ids(client_a.get(f"/api/v1/builds?user_id={uuid.uuid4()}")) == []
