"""Retention (``manage.py purge``): builds older than the environment's retention go with their
events, tasks left without events go with their assets and edges, old audit entries go; nothing
of a kept build is touched, and an old build that decides the status of a task a kept build
uses is kept. Off by default. Runs on SQLite and PostgreSQL (both suites)."""

from __future__ import annotations

import datetime
import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from audit.models import AuditEntry
from builds.models import Build, Event
from builds.services import build_create, build_event_record
from locks.services import lock_task_is_completed
from tasks.models import Task, TaskAsset, TaskDependency
from tasks.services import (
    task_assets_upsert,
    task_create_outside_build,
    task_event_record,
    task_register,
)
from tests.factories import make_tenant

pytestmark = pytest.mark.django_db
NOW = timezone.now()


def days_ago(days: int) -> datetime.datetime:
    return NOW - datetime.timedelta(days=days)


def build_at(environment, days: int, *tasks: tuple[str, str, tuple[str, ...]]) -> Build:
    """A finished build ``days`` old with tasks ``(task_id, last event, dependencies)``."""
    build = build_create(environment=environment, commit_hash=f"c{days}")
    for task_id, event, deps in tasks:
        task = task_register(build=build, payload={"task_id": task_id, "task_name": "Work",
                                                   "dependency_task_ids": list(deps)})
        if event != "task_referenced":
            task_event_record(build=build, task=task, event_type="task_started")
            task_event_record(build=build, task=task, event_type=event)
        task_assets_upsert(task=task, items=[{"type": "json", "name": "out",
                                              "body": {"id": task_id}}])
    build_event_record(build=build, event_type="build_completed")
    moment = days_ago(days)
    Build.objects.filter(pk=build.pk).update(created_at=moment, started_at=moment,
                                             completed_at=moment)
    Event.objects.filter(build=build).update(created_at=moment)
    Task.objects.filter(environment=environment, task_id__in=[t[0] for t in tasks],
                        created_at__gt=moment).update(created_at=moment)
    return build


def snapshot(build: Build) -> dict:
    """Everything a build shows: its row, events, tasks (with materialised status), the
    tasks' assets and edges."""
    task_ids = set(Event.objects.filter(build=build, task__isnull=False)
                   .values_list("task_id", flat=True))
    return {
        "build": Build.objects.filter(pk=build.pk).values().get(),
        "events": list(Event.objects.filter(build=build).order_by("id").values()),
        "tasks": list(Task.objects.filter(pk__in=task_ids).order_by("id").values()),
        "assets": list(TaskAsset.objects.filter(task_id__in=task_ids).order_by("id").values()),
        "edges": list(TaskDependency.objects.filter(dependent_id__in=task_ids)
                      .order_by("id").values()),
    }


def purge(*args: str) -> str:
    out = io.StringIO()
    call_command("purge", *args, "--no-progress", stdout=out)
    return out.getvalue()


@pytest.fixture
def registry():
    tenant = make_tenant("keeper")
    env = tenant.environment
    env.build_retention_days = 30
    env.save(update_fields=["build_retention_days"])
    old = build_at(env, 40, ("old-a", "task_completed", ()), ("old-b", "task_failed", ("old-a",)))
    decider = build_at(env, 45, ("shared", "task_completed", ()))
    referencing = build_at(env, 35, ("shared", "task_referenced", ()))
    kept = build_at(env, 2, ("shared", "task_referenced", ()),
                    ("new", "task_completed", ("shared",)))
    orphan = task_create_outside_build(environment_id=env.pk,
                                       payload={"task_id": "orphan", "task_name": "Lonely"})
    Task.objects.filter(pk=orphan.pk).update(created_at=days_ago(50))
    task_create_outside_build(environment_id=env.pk,
                              payload={"task_id": "fresh-orphan", "task_name": "Lonely"})
    other = make_tenant("untouched")  # retention off (the default)
    other_old = build_at(other.environment, 400, ("ancient", "task_completed", ()))
    AuditEntry.objects.update(created_at=days_ago(400))
    recent_entry = AuditEntry.objects.create(action="invite.created", source="cli",
                                             target_type="invite")
    return {"env": env, "old": old, "decider": decider, "referencing": referencing,
            "kept": kept, "other_old": other_old, "recent_entry": recent_entry}


def test_dry_run_counts_and_deletes_nothing(registry) -> None:
    builds, events, tasks = Build.objects.count(), Event.objects.count(), Task.objects.count()
    audit = AuditEntry.objects.count()
    output = purge("--dry-run")
    assert "would delete 2 builds, 11 events, 3 tasks, 2 assets; 1 old builds kept" in output
    assert f"{audit - 1} audit entries (dry run: nothing was deleted)" in output
    assert (Build.objects.count(), Event.objects.count(), Task.objects.count(),
            AuditEntry.objects.count()) == (builds, events, tasks, audit)


def test_purge_deletes_old_history_and_touches_nothing_kept(registry) -> None:
    kept_before = snapshot(registry["kept"])
    decider_before = snapshot(registry["decider"])
    other_before = snapshot(registry["other_old"])
    dry = purge("--dry-run")
    output = purge("--batch-size", "2")  # several batches
    assert "deleted 2 builds, 11 events, 3 tasks, 2 assets; 1 old builds kept" in output
    # the same counts as the dry run (the line's cutoff time may differ by a second)
    assert (dry.replace("would delete", "deleted").splitlines()[0].split("): ")[1]
            == output.splitlines()[0].split("): ")[1])
    env = registry["env"]
    assert set(Build.objects.filter(environment=env)) == {registry["decider"], registry["kept"]}
    assert not Event.objects.filter(build_id__in=[registry["old"].pk,
                                                  registry["referencing"].pk]).exists()
    assert set(Task.objects.filter(environment=env).values_list("task_id", flat=True)) == {
        "shared", "new", "fresh-orphan"}
    assert not TaskAsset.objects.filter(task__task_id__in=["old-a", "old-b"]).exists()
    assert snapshot(registry["kept"]) == kept_before
    assert snapshot(registry["decider"]) == decider_before
    assert snapshot(registry["other_old"]) == other_before
    shared = Task.objects.get(environment=env, task_id="shared")
    assert (shared.status, shared.status_build_id) == ("completed", registry["decider"].pk)
    assert lock_task_is_completed(environment=env, task_id="shared")
    assert list(AuditEntry.objects.all()) == [registry["recent_entry"]]
    assert "deleted 0 builds" in purge()  # idempotent


def test_retention_is_off_by_default(db) -> None:
    tenant = make_tenant("default")
    assert tenant.environment.build_retention_days is None
    build_at(tenant.environment, 3650, ("very-old", "task_completed", ()))
    assert "Deleted in total: 0 builds, 0 events, 0 tasks, 0 assets" in purge()
    assert Build.objects.count() == 1


def test_long_runs_show_a_progress_bar(registry, capsys) -> None:
    call_command("purge", "--progress", "--batch-size", "1", stdout=io.StringIO())
    bar = capsys.readouterr().err
    assert "[" + "#" * 15 + "." * 15 + "] 1/2 builds" in bar
    assert "[" + "#" * 30 + "] 2/2 builds\n" in bar and "3/3 tasks\n" in bar
