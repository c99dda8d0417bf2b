"""Project-level views: the landing page, liveness, and JSON error pages for everything under
/api/."""

from __future__ import annotations

import logging

from django.db import Error as DatabaseError
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET
from django.views.defaults import page_not_found, server_error

from stardag_site.version import server_version

logger = logging.getLogger("stardag_site")


@require_GET
def landing(request: HttpRequest) -> HttpResponse:
    """``/``: the version, links to the docs, schema and admin, and how to connect the SDK.

    The admin's "View site" link points here; without it a newcomer's first click was a 404.
    """
    context = {"version": server_version(),
               "registry_url": request.build_absolute_uri("/").rstrip("/")}
    return render(request, "stardag_site/landing.html", context)


@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """Liveness: answers without touching the database (contract §4.1). The version lets an
    operator see which release each process runs during a rolling upgrade."""
    return JsonResponse({"status": "healthy", "version": server_version()})


@require_GET
def ready(request: HttpRequest) -> JsonResponse:
    """Readiness: 200 when the database answers a query, else 503 with ``Retry-After``.

    Load balancers and orchestrators route traffic by this; ``/health`` stays a liveness probe
    that never touches the database, so an outage does not get healthy workers restarted. The
    check uses the request's own connection, so it also proves the configured credentials; it
    is bounded by ``DB_CONNECT_TIMEOUT`` and the statement timeout.
    """
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        logger.warning("Readiness check: database unavailable", exc_info=True)
        response = JsonResponse({"detail": "The database is unavailable.",
                                 "status": "unavailable", "database": "unavailable"}, status=503)
        response["Retry-After"] = "5"
        return response
    return JsonResponse({"status": "ready", "database": "ok"})


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith(("/api/", "/auth/", "/.well-known/", "/health"))


# The exact text SDK releases 0.10-0.26 read as "this server has no such route" and fall back
# from (SDK-WIRE §1.4). Resource-level 404s raised by views keep their own sentences
# ("Build not found", "Task not found"), which the SDK reads as a real missing resource.
MISSING_ROUTE_DETAIL = "Not Found"


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_api(request):
        return JsonResponse({"detail": MISSING_ROUTE_DETAIL}, status=404)
    return page_not_found(request, exception)


@csrf_exempt
def api_route_not_found(request: HttpRequest) -> JsonResponse:
    """Catch-all for URLs under ``/api/`` that no route matches, any method.

    A route rather than only ``handler404`` so that the answer is the same with ``DEBUG=1``
    (where Django would otherwise render its HTML technical 404 page) as in production.
    """
    return JsonResponse({"detail": MISSING_ROUTE_DETAIL}, status=404)


def internal_error(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        return JsonResponse({"detail": "Internal Server Error"}, status=500)
    return server_error(request)
