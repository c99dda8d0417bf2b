"""The real SDK (0.1.6) completes a build against a tight rate limit (issue 11, "Floods"):
it reads the contract's 429 ``RATE_LIMIT`` body and ``Retry-After`` and retries."""

from __future__ import annotations

import pytest
from django.core.cache import caches
from stardag.build import BuildExitStatus, build_sequential

from stardag_site.ratelimit import CredentialRateThrottle, RateLimited, forget_leases
from tests.sdk.build_checks import assert_fresh_build
from tests.sdk.build_dags import all_tasks, report_dag

pytestmark = pytest.mark.sdk


def test_sdk_build_completes_against_a_tight_rate_limit(sdk_env, settings, monkeypatch):
    caches["ratelimit"].clear()
    forget_leases()  # also done by the database store's clear; not by Redis's
    settings.RATE_LIMIT_REQUESTS = 12
    settings.RATE_LIMIT_WINDOW_SECONDS = 10  # the build needs several windows at any speed
    root = report_dag("limited")
    tasks = all_tasks(root)
    limited: list[int] = []
    allow = CredentialRateThrottle.allow_request

    def counting_allow(self, request, view):  # observes the real throttle's 429s
        try:
            return allow(self, request, view)
        except RateLimited:
            limited.append(1)
            raise

    monkeypatch.setattr(CredentialRateThrottle, "allow_request", counting_allow)

    summary = build_sequential(root)

    assert summary.status == BuildExitStatus.SUCCESS
    print(f"SDK build under a limit of 12 per 10 s: {len(limited)} answers were 429")
    assert len(limited) >= 1, "the limit was never reached: the test proves nothing"
    settings.RATE_LIMIT_REQUESTS = 0  # the checks below read through the API
    assert_fresh_build(sdk_env, summary, root, tasks)
    caches["ratelimit"].clear()
    forget_leases()
