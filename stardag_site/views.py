"""Project-level views: liveness, and JSON error pages for everything under /api/."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET
from django.views.defaults import page_not_found, server_error


@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """Liveness: answers without touching the database (contract §4.1)."""
    return JsonResponse({"status": "healthy"})


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
