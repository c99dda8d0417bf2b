"""Sessions, the Django user and flash messages step aside for the API (issue 10) and stay for
everything else: the admin signs in as before."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory

from accounts.models import User
from stardag_site.middleware import AuthenticationMiddleware, MessageMiddleware, SessionMiddleware


def _layers_seen(path: str) -> set[str]:
    seen: set[str] = set()

    def view(request: HttpRequest) -> HttpResponse:
        seen.update(name for name in ("session", "user", "_messages") if hasattr(request, name))
        return HttpResponse("ok")

    chain = SessionMiddleware(AuthenticationMiddleware(MessageMiddleware(view)))
    assert chain(RequestFactory().get(path)).status_code == 200
    return seen


def test_api_requests_skip_the_browser_layers() -> None:
    assert _layers_seen("/api/v1/builds") == set()
    assert _layers_seen("/api/v2/health") == set()


@pytest.mark.parametrize("path", ["/admin/", "/", "/oidc/authenticate/", "/apiary"])
def test_other_requests_keep_them(path: str) -> None:
    assert _layers_seen(path) == {"session", "user", "_messages"}


def test_csrf_protection_is_django_s_own() -> None:
    assert "django.middleware.csrf.CsrfViewMiddleware" in settings.MIDDLEWARE


@pytest.mark.django_db
def test_the_admin_still_signs_in(client) -> None:
    User.objects.create_superuser("staff@example.com", "a-long-password-1")
    response = client.post("/admin/login/?next=/admin/", {
        "username": "staff@example.com", "password": "a-long-password-1"})
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
