"""Stumble 9: admin list pages cost a fixed number of queries, whatever the number of rows.

The task list once made 159 queries for 77 tasks (its ``get_queryset`` called ``select_related``
and so replaced ``list_select_related``). Every changelist of the admin is measured with a small
and a larger registry; the count must not grow with the rows and stays at the pinned figure.
"""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from locks.services import lock_acquire
from tasks.services import task_assets_upsert
from tests import factories
from tests.locks.helpers import started_task

# The most queries each changelist may make (session, user, count, page, filters' choices ...).
MAX_QUERIES = 8


def grow(tenant, label: str, tasks: int) -> None:
    """Add a build with ``tasks`` started tasks (with an asset each), locks, users, invites,
    keys and a workspace: a row or more for every admin list."""
    build = None
    for n in range(tasks):
        build, task = started_task(tenant.environment, f"{label}-task-{n}", build)
        task_assets_upsert(task=task, items=[{"type": "json", "name": f"a{n}", "body": {"n": n}}])
        lock_acquire(environment=tenant.environment, name=f"{label}-lock-{n}",
                     owner_id=f"owner-{label}-{n}", ttl_seconds=60)
    user = factories.make_user(f"{label}@example.com")
    workspace = factories.make_workspace(user, slug=f"{label}-ws")
    factories.make_api_key(workspace.environments.get())
    workspace.invites.create(email=f"{label}-invitee@example.com", invited_by=user)


def changelists() -> list[str]:
    return [f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
            for model in admin.site._registry]


def query_counts(client: Client) -> dict[str, int]:
    counts = {}
    for url in changelists():
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200, url
        counts[url] = len(queries)
    return counts


@pytest.mark.django_db
def test_admin_changelists_make_a_fixed_number_of_queries(tenant_a) -> None:
    staff = Client()
    staff.force_login(User.objects.create_superuser("root@example.com", "pw"))
    grow(tenant_a, "small", 2)
    small = query_counts(staff)
    grow(tenant_a, "large", 20)
    large = query_counts(staff)
    assert "/admin/tasks/task/" in large and "/admin/builds/event/" in large
    assert large == small
    assert {url: count for url, count in large.items() if count > MAX_QUERIES} == {}
