"""Concurrency limits for ``/api/v2`` claiming starts (SDK-WIRE 4.5.4 step 10).

A slot of a key is a v2 task with the key in ``limit_keys`` and a live claim. The claiming start
lives in ``tasks.v2.services``, below this app, so ``LocksConfig.ready`` hands it
``limits_for_start`` (dependency inversion instead of an upward import).
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from locks.models import ConcurrencyLimit
from tasks.models_v2 import V2Task


def live_limited_tasks(environment_id: Any) -> list[V2Task]:
    """Tasks holding a live claim with at least one limit key."""
    rows = (V2Task.objects.filter(environment_id=environment_id, status="running",
                                  claim_expires_at__gt=timezone.now())
            .select_related("claim_plan"))
    return [task for task in rows if task.limit_keys]


def limits_for_start(environment_id: Any, keys: list[str]) -> dict[str, tuple[int, int]]:
    """``{key: (max_concurrent, slots in use)}`` for the configured keys among ``keys``. The
    limit rows are locked ``FOR UPDATE`` in key order (after the task row the caller holds), so
    two starts on one key serialise and never both take its last slot."""
    limits = list(ConcurrencyLimit.objects.filter(environment_id=environment_id, key__in=keys)
                  .select_for_update().order_by("key"))
    if not limits:
        return {}
    in_use: dict[str, int] = {}
    for task in live_limited_tasks(environment_id):
        for key in task.limit_keys:
            in_use[key] = in_use.get(key, 0) + 1
    return {row.key: (row.max_concurrent, in_use.get(row.key, 0)) for row in limits}
