"""Project-level views: the landing page, liveness, and JSON error pages for everything under
/api/."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET
from django.views.defaults import page_not_found, server_error

from stardag_site.version import server_version


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


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith(("/api/", "/auth/", "/.well-known/", "/health"))


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_api(request):
        return JsonResponse({"detail": "Not found."}, status=404)
    return page_not_found(request, exception)


def internal_error(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        return JsonResponse({"detail": "Internal Server Error"}, status=500)
    return server_error(request)
