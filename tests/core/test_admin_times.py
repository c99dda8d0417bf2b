"""Stumble 11: the admin shows times with seconds and the zone, not "Nov. 30, 2026, 12:04 p.m."."""

from __future__ import annotations

import datetime

from builds.models import Build
from tests.builds.helpers import create_build


def test_admin_list_and_detail_show_seconds_and_zone(admin_client, client_a) -> None:
    build_id = create_build(client_a)["id"]
    moment = datetime.datetime(2026, 11, 30, 12, 4, 37, tzinfo=datetime.UTC)
    Build.objects.filter(pk=build_id).update(created_at=moment)
    listing = admin_client.get("/admin/builds/build/").content.decode()
    assert "2026-11-30 12:04:37 UTC" in listing
    detail = admin_client.get(f"/admin/builds/build/{build_id}/change/").content.decode()
    assert "2026-11-30 12:04:37 UTC" in detail
