"""Build services: creation, build-level events (with the materialised §5.1 status) and edits.

Every function owns its transaction. A build's status columns are only ever written here, by
folding the event just appended onto the stored state while the build row is locked, so the
stored state always equals the fold over the build's events in ``(created_at, id)`` order.
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from builds.models import Build, BuildRootTask, Event
from builds.status import BUILD_EVENT_TYPES, BuildState, build_fold_step
from stardag_site.ids import uuid7
from workspaces.models import Environment

_ADJECTIVES = (
    "agile", "amber", "ancient", "bold", "brave", "bright", "calm", "clever", "cosmic", "crisp",
    "daring", "eager", "electric", "fancy", "fierce", "gentle", "golden", "grand", "happy",
    "humble", "jolly", "keen", "lively", "lucky", "mellow", "mighty", "nimble", "noble", "polar",
    "proud", "quick", "quiet", "rapid", "royal", "rustic", "shiny", "silent", "silver", "smooth",
    "snowy", "solar", "steady", "stellar", "sunny", "swift", "tidy", "vivid", "wild", "wise",
    "witty",
)
_NOUNS = (
    "badger", "bear", "comet", "condor", "crane", "dolphin", "eagle", "falcon", "fox", "galaxy",
    "gecko", "hawk", "heron", "ibis", "jaguar", "koala", "lemur", "lion", "lynx", "meteor",
    "moose", "nebula", "otter", "owl", "panda", "panther", "pulsar", "quasar", "raven", "robin",
    "salmon", "seal", "sparrow", "star", "swan", "tiger", "walrus", "whale", "wolf", "zebra",
)


def build_name_generate() -> str:
    """A memorable, non-unique name: ``adjective-noun-NN`` with NN in 10..99."""
    rng = random.SystemRandom()
    return f"{rng.choice(_ADJECTIVES)}-{rng.choice(_NOUNS)}-{rng.randint(10, 99)}"


def next_event_time(previous: datetime.datetime | None) -> datetime.datetime:
    """Now, or one microsecond after ``previous`` if the clock has not moved past it.

    Stamping each event of a fold strictly after the previous one (taken while the owning row
    is locked) means events never tie on ``created_at``, so ``(created_at, id)`` order is the
    order in which the materialised state was folded, whatever the workers' clocks do.
    """
    now = timezone.now()
    if previous is not None and now <= previous:
        return previous + datetime.timedelta(microseconds=1)
    return now


def build_create(
    *,
    environment: Environment,
    user: User | None = None,
    commit_hash: str | None = None,
    root_task_ids: Iterable[str] = (),
    description: str | None = None,
) -> Build:
    """Create a build with a generated name and its ``build_started`` event (status running).

    Not idempotent by design (contract §1.8): every call is a new build.
    """
    root_ids = [str(value) for value in root_task_ids]
    with transaction.atomic():
        build = Build.objects.create(
            id=uuid7(),
            environment=environment,
            user=user,
            name=build_name_generate(),
            description=description,
            commit_hash=commit_hash,
            root_task_ids=root_ids,
        )
        BuildRootTask.objects.bulk_create(
            [BuildRootTask(build=build, task_id=value) for value in dict.fromkeys(root_ids)]
        )
        return build_event_record(build=build, event_type="build_started")


def build_event_record(
    *,
    build: Build,
    event_type: str,
    error_message: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> Build:
    """Append a build-level event and fold it into the build's stored status (§5.1).

    Accepted in any state (no terminal lock-in: the latest event wins). The build row is locked
    for the duration so concurrent transitions fold in the order their events are stamped.
    Returns the updated build.
    """
    if event_type not in BUILD_EVENT_TYPES:
        raise ValueError(f"{event_type!r} is not a build-level event type")
    # No savepoint: inside a caller's transaction this joins it (an error aborts it anyway),
    # which saves two round trips per event.
    with transaction.atomic(savepoint=False):
        locked = Build.objects.select_for_update(no_key=True).get(pk=build.pk)
        # Every build-level event stamps either started_at or completed_at, so the later of the
        # two is the time of the build's latest build-level event.
        stamps = [t for t in (locked.started_at, locked.completed_at) if t is not None]
        event = Event.objects.create(
            id=uuid7(),
            build=locked,
            task=None,
            event_type=event_type,
            created_at=next_event_time(max(stamps) if stamps else None),
            error_message=error_message,
            event_metadata=metadata,
        )
        state = build_fold_step(
            BuildState(locked.status, locked.started_at, locked.completed_at,
                       locked.status_trigger),
            event,
        )
        locked.status, locked.started_at = state.status, state.started_at
        locked.completed_at, locked.status_trigger = state.completed_at, state.trigger
        locked.save(update_fields=["status", "started_at", "completed_at", "status_trigger"])
    for field in ("status", "started_at", "completed_at", "status_trigger"):
        setattr(build, field, getattr(locked, field))
    return locked


def build_update(
    *,
    build: Build,
    name: str | None = None,
    description: str | None = None,
    commit_hash: str | None = None,
    fields: Iterable[str] = (),
) -> Build:
    """Legacy ``PATCH /builds/{id}`` (§9): change only the named descriptive fields.

    ``fields`` lists which of name/description/commit_hash were present in the request, so an
    explicit ``null`` clears a nullable field while an absent key leaves it unchanged.
    """
    values = {"name": name, "description": description, "commit_hash": commit_hash}
    changed = [field for field in fields if field in values]
    if not changed:
        return build
    with transaction.atomic():
        Build.objects.filter(pk=build.pk).update(**{field: values[field] for field in changed})
        build.refresh_from_db()
    return build
