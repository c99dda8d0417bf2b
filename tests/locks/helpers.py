"""Lock test helpers: URLs, the timestamp format, a task started through the tasks services."""

from __future__ import annotations

import re

from builds.models import Build
from builds.services import build_create
from tasks.models import Task
from tasks.services import task_event_record, task_register
from workspaces.models import Environment

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
NOT_OWNED = {"detail": "Lock not found or not owned by caller"}


def started_task(environment: Environment, task_id: str, build: Build | None = None
                 ) -> tuple[Build, Task]:
    """Register ``task_id`` in a (new) build and start it there, as the SDK does after a grant."""
    build = build or build_create(environment=environment)
    task = task_register(build=build, payload={"task_id": task_id, "task_name": "Work"})
    task_event_record(build=build, task=task, event_type="task_started")
    return build, task


def lock_url(name: str, verb: str | None = None) -> str:
    return f"/api/v1/locks/{name}" + (f"/{verb}" if verb else "")
