"""Issue 8 item 4 (and issue 13, stumble 3): a request for a host the server does not serve gets
a short JSON 400 naming the setting to change, never an HTML page, in development mode too
(where Django would otherwise show its debug page, which lists the settings)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db

PATHS = ["/admin/", "/api/v1/builds", "/api/docs/", "/health", "/no-such-page"]


@pytest.mark.parametrize("debug", [True, False])
@pytest.mark.parametrize("path", PATHS)
def test_disallowed_host_gets_json_400_naming_allowed_hosts(path, debug, client, settings):
    settings.DEBUG = debug
    settings.ALLOWED_HOSTS = ["registry.example.com"]
    response = client.get(path, HTTP_HOST="evil.example.com")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    detail = response.json()["detail"]
    assert "ALLOWED_HOSTS" in detail and "evil.example.com" in detail
    assert len(response.content) < 300
    assert b"DATABASE" not in response.content and b"<" not in response.content


def test_malformed_host_header_is_json_too(client, settings):
    settings.DEBUG = True
    response = client.get("/api/v1/builds", HTTP_HOST="bad host!")
    assert response.status_code == 400
    assert "ALLOWED_HOSTS" in response.json()["detail"]


def test_allowed_host_is_served(client, settings):
    settings.ALLOWED_HOSTS = ["registry.example.com"]
    response = client.get("/health", HTTP_HOST="registry.example.com")
    assert response.status_code == 200
