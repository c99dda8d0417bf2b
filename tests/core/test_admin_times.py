"""Stumble 11: the admin shows times with seconds and the zone, not "Nov. 30, 2026, 12:04 p.m."."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client

from accounts.models import User
from builds.models import Build
from tests.builds.helpers import create_build


@pytest.fixture
def staff(db) -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("root@example.com", "pw"))
    return client


def test_admin_list_and_detail_show_seconds_and_zone(staff, client_a) -> None:
    build_id = create_build(client_a)["id"]
    moment = datetime.datetime(2026, 11, 30, 12, 4, 37, tzinfo=datetime.UTC)
    Build.objects.filter(pk=build_id).update(created_at=moment)
    listing = staff.get("/admin/builds/build/").content.decode()
    assert "2026-11-30 12:04:37 UTC" in listing
    detail = staff.get(f"/admin/builds/build/{build_id}/change/").content.decode()
    assert "2026-11-30 12:04:37 UTC" in detail
