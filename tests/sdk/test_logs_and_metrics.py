"""A full SDK build (global locks on) seen through the operator's tools: no log line of it
contains a secret, every request line names the credential by id, and the Prometheus counters
move (builds, task events, lock grants, requests by route, database queries)."""

from __future__ import annotations

import asyncio
import io
import json
import logging

import pytest
import stardag as sd
from prometheus_client.parser import text_string_to_metric_families
from stardag.build import BuildExitStatus, GlobalLockConfig
from stardag.registry import APIRegistry
from stardag.registry._lock import RegistryGlobalConcurrencyLockManager

from builds.models import Event
from stardag_site.logs import JsonFormatter, RequestIdFilter
from stardag_site.metrics import exposition
from tests.sdk.build_dags import all_tasks, report_dag

pytestmark = pytest.mark.sdk

LOCKS = GlobalLockConfig(enabled=True, lock_wait_timeout_seconds=60,
                         lock_wait_initial_interval_seconds=0.1,
                         lock_wait_max_interval_seconds=0.5,
                         completion_retry_timeout_seconds=10,
                         completion_retry_interval_seconds=0.1)


def samples() -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    values = {}
    for family in text_string_to_metric_families(exposition().decode()):
        for sample in family.samples:
            values[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return values


def total(values: dict, name: str, **labels: str) -> float:
    return sum(value for (sample, sample_labels), value in values.items()
               if sample == name and labels.items() <= dict(sample_labels).items())


async def _build(root):
    async with RegistryGlobalConcurrencyLockManager(config=LOCKS) as manager:
        return await sd.build_aio(root, registry=APIRegistry(), global_lock_manager=manager,
                                  global_lock_config=LOCKS)


def test_a_full_sdk_build_logs_no_secret_and_moves_the_counters(sdk_env) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    root_logger = logging.getLogger()
    old_level = root_logger.level
    root_logger.addHandler(handler)
    root_logger.setLevel(logging.DEBUG)  # everything any library logs, client and server
    before = samples()
    try:
        root = report_dag("observed")
        summary = asyncio.run(_build(root))
    finally:
        root_logger.removeHandler(handler)
        root_logger.setLevel(old_level)
    after = samples()
    assert summary.status == BuildExitStatus.SUCCESS
    tasks = len(all_tasks(root))

    log = stream.getvalue()
    secret = sdk_env.tenant.api_key
    # The secret is what follows "sk_<prefix>_" (it may itself contain "_").
    assert secret not in log and secret.split("_", 2)[2] not in log
    request_lines = [json.loads(line) for line in log.splitlines()
                     if '"logger": "stardag.request"' in line]
    assert len(request_lines) > tasks * 2
    key_id = str(sdk_env.tenant.environment.api_keys.get().pk)
    assert {(line["credential_kind"], line["credential_id"]) for line in request_lines} == {
        ("api_key", key_id)}
    assert len({line["request_id"] for line in request_lines}) == len(request_lines)

    def moved(name: str, **labels: str) -> float:
        return total(after, name, **labels) - total(before, name, **labels)

    assert moved("stardag_builds_created_total") == 1
    recorded = Event.objects.filter(build_id=summary.build_id)
    for event_type in ("task_started", "task_completed", "task_pending"):
        # (a lock release with task_completed records a completion too: two per task here)
        assert moved("stardag_task_events_total", event_type=event_type) == recorded.filter(
            event_type=event_type).count() >= tasks
    assert moved("stardag_lock_acquisitions_total", result="acquired") == tasks
    assert moved("stardag_http_requests_total", method="POST", status="201") >= tasks + 1
    assert moved("stardag_http_request_duration_seconds_count", method="POST") >= tasks * 3
    assert moved("stardag_db_queries_total") > tasks * 3
