"""The v2 rows in the admin: read-only lists whose query count does not grow with the rows,
and a task page that shows who holds its claim."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from tests.v2.helpers import Driver, item, tid

PAGES = ["/admin/builds/deployment/", "/admin/builds/v2build/", "/admin/builds/plan/",
         "/admin/tasks/v2task/", "/admin/tasks/execution/", "/admin/tasks/planmember/"]


def grow(api: Driver, label: str, n: int) -> None:
    deployment = api.deployment(f"code-{label}")
    for i in range(n):
        name = f"{label}{i}"
        build = api.build([tid(name)])
        plan = api.plan(build, deployment, [item(name)])
        api.ok("POST", f"/plans/{plan}/members", {"items": [item(name, upstreams=[])]})
        api.ok("POST", f"/plans/{plan}/seal")
        api.start(plan, tid(name), str(uuid.uuid4()))


def counts(staff: Client) -> dict[str, int]:
    result = {}
    for url in PAGES:
        with CaptureQueriesContext(connection) as queries:
            response = staff.get(url)
        assert response.status_code == 200, url
        result[url] = len(queries)
    return result


@pytest.mark.django_db
def test_v2_admin_lists_are_read_only_and_cost_a_fixed_number_of_queries(client_a) -> None:
    staff = Client()
    staff.force_login(User.objects.create_superuser("root@example.com", "pw"))
    api = Driver(client_a)
    grow(api, "small", 2)
    small = counts(staff)
    grow(api, "large", 12)
    assert counts(staff) == small
    assert max(small.values()) <= 8
    task_page = staff.get("/admin/tasks/v2task/")
    assert b"large0" in task_page.content and b"Add" not in task_page.content.split(
        b"<h1>")[-1][:200]
    from tasks.models_v2 import V2Task

    running = V2Task.objects.get(task_id=tid("large0"))
    detail = staff.get(f"/admin/tasks/v2task/{running.pk}/change/").content.decode()
    assert "Claim" in detail and str(running.execution_id) in detail
    assert staff.post(f"/admin/tasks/v2task/{running.pk}/delete/").status_code == 403
