"""Prometheus metrics (prometheus-client): HTTP requests by route and status, their latency,
database queries, and the registry's own counters (builds, task events, lock decisions).

Several gunicorn workers: each worker is its own process with its own counters, so a scrape
answered by one worker would see a fraction. ``stardag_site/gunicorn.conf.py`` therefore gives
every server instance its own ``PROMETHEUS_MULTIPROC_DIR`` (before the workers start), where
prometheus-client's multiprocess mode keeps each worker's values in files; ``/metrics`` sums
them. Without that variable (``manage.py runserver``, tests) the process's own registry is used.

``/metrics`` answers only when ``METRICS_TOKEN`` (``Authorization: Bearer <token>``) or
``METRICS_ALLOWED_IPS`` (the peer's address) is configured and the request matches; otherwise
404, so an unconfigured server reveals nothing.
"""

from __future__ import annotations

import functools
import hmac
import ipaddress
import os
from collections.abc import Callable
from typing import Any, TypeVar

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

_F = TypeVar("_F", bound=Callable[..., Any])

HTTP_REQUESTS = Counter(
    "stardag_http_requests_total", "HTTP requests answered, by route and status.",
    ["method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "stardag_http_request_duration_seconds", "Time to answer an HTTP request.",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
DB_QUERIES = Counter(
    "stardag_db_queries_total", "Database queries made while answering requests, by route.",
    ["route"],
)
BUILDS_CREATED = Counter("stardag_builds_created_total", "Builds started.")
TASK_EVENTS = Counter("stardag_task_events_total", "Task events recorded, by event type.",
                      ["event_type"])
LOCK_DECISIONS = Counter(
    "stardag_lock_acquisitions_total",
    "Lock acquisition answers: acquired, held_by_other, concurrency_limit_reached, "
    "already_completed.",
    ["result"],
)


def record_request(*, method: str, route: str, status: int, seconds: float,
                   queries: int) -> None:
    labels = (method, route, str(status))
    HTTP_REQUESTS.labels(*labels).inc()
    HTTP_LATENCY.labels(*labels).observe(seconds)
    if queries:
        DB_QUERIES.labels(route).inc(queries)


# Decorators for the registry's services: one line on the service, counted after it returned
# (a refused or failed call counts only as what it answered).
_LOCK_REFUSALS = {"LockHeld": "held_by_other",
                  "ConcurrencyLimitReached": "concurrency_limit_reached"}


def counts_builds(service: _F) -> _F:
    @functools.wraps(service)
    def counted(*args: Any, **kwargs: Any) -> Any:
        result = service(*args, **kwargs)
        BUILDS_CREATED.inc()
        return result

    return counted  # type: ignore[return-value]


def counts_task_events(service: _F) -> _F:
    @functools.wraps(service)
    def counted(*args: Any, **kwargs: Any) -> Any:
        result = service(*args, **kwargs)
        TASK_EVENTS.labels(kwargs.get("event_type", "unknown")).inc()
        return result

    return counted  # type: ignore[return-value]


def counts_lock_decisions(service: _F) -> _F:
    @functools.wraps(service)
    def counted(*args: Any, **kwargs: Any) -> Any:
        try:
            result = service(*args, **kwargs)
        except Exception as exc:
            refusal = _LOCK_REFUSALS.get(type(exc).__name__)
            if refusal is not None:
                LOCK_DECISIONS.labels(refusal).inc()
            raise
        LOCK_DECISIONS.labels(getattr(result, "status", "unknown")).inc()
        return result

    return counted  # type: ignore[return-value]


def _allowed(request: HttpRequest) -> bool:
    token: str = settings.METRICS_TOKEN
    if token:
        scheme, _, given = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(given.strip(), token):
            return True
    networks = settings.METRICS_ALLOWED_NETWORKS
    if networks:
        try:
            peer = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
        except ValueError:
            return False
        return any(peer in network for network in networks)
    return False


def exposition() -> bytes:
    """The text format of every worker's values (multiprocess mode) or this process's."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(REGISTRY)


@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    """``GET /metrics`` for Prometheus (see the module docstring for who may read it)."""
    if not _allowed(request):
        return JsonResponse({"detail": "Not found."}, status=404)
    return HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)
