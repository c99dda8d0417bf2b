"""``GET /builds/{id}`` reads a fixed number of events, however many the build has (issue 10).

The failure message it shows comes from the build's latest ``build_failed`` event; looking for
one walks the build's events from the newest, all of them when the build never failed. That
walk runs only for a failed build, whose ``build_failed`` event is among its latest.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from builds.models import Build, Event
from builds.views import _BUILD_WITH_ACTIVITY
from tests.factories import make_tenant

pytestmark = pytest.mark.postgres


def _build_with_events(status: str, count: int) -> Build:
    env = make_tenant("activity").environment
    build = Build.objects.create(environment=env, status=status)
    start = timezone.now()
    Event.objects.bulk_create([
        Event(build=build, event_type="build_failed" if i == count - 2 else "build_started",
              error_message="boom" if i == count - 2 else None,
              created_at=start + dt.timedelta(milliseconds=i)) for i in range(count)])
    return build


def _subplans(build: Build) -> dict[str, int]:
    """Loops of each correlated subquery of the build lookup, by the column it computes."""
    compiled = _BUILD_WITH_ACTIVITY._compiled("default")
    params = [value if name is None else build.pk
              for value, name in zip(compiled.constants, compiled.slots, strict=True)]
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {compiled.sql}", params)
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    loops: dict[str, int] = {}

    def walk(node: dict[str, Any]) -> None:
        if node.get("Parent Relationship") == "SubPlan":
            loops[node["Subplan Name"]] = node["Actual Loops"]
        for child in node.get("Plans", ()):
            walk(child)

    walk(plan[0]["Plan"])
    return loops


def test_a_running_build_never_looks_for_a_failure(db: None) -> None:
    build = _build_with_events("running", 2000)
    loops = _subplans(build)
    assert sorted(loops.values()) == [0, 1], loops  # latest activity read, failure not sought
    found = _BUILD_WITH_ACTIVITY.first(build_id=build.pk)
    assert found.latest_error_message is None
    assert found.last_activity_at == Event.objects.filter(build=build).latest(
        "created_at").created_at


def test_a_failed_build_reads_its_failure(db: None) -> None:
    build = _build_with_events("failed", 2000)
    assert sorted(_subplans(build).values()) == [1, 1]
    assert _BUILD_WITH_ACTIVITY.first(build_id=build.pk).latest_error_message == "boom"
