"""Issue 8 item 10: responses that carry secrets, and every authenticated API response, are
marked ``Cache-Control: no-store`` so no browser, proxy or CDN keeps a copy."""

from __future__ import annotations

import pytest

from tests.factories import bearer_client

pytestmark = pytest.mark.django_db


def no_store(response) -> bool:
    directives = {d.strip() for d in response.get("Cache-Control", "").split(",")}
    return "no-store" in directives


def test_new_api_key_response_is_not_stored(tenant_a):
    environment = tenant_a.environment
    response = tenant_a.jwt_client().post(
        f"/api/v1/ui/workspaces/{environment.workspace_id}/environments/{environment.id}"
        "/api-keys", {"name": "CI"}, format="json")
    assert response.status_code == 201
    assert response.json()["key"].startswith("sk_")
    assert no_store(response)


@pytest.mark.parametrize("path", ["/api/v1/auth/exchange", "/auth/exchange"])
def test_token_exchange_response_is_not_stored(path, tenant_a, oidc_provider):
    response = bearer_client(oidc_provider.token("alice-sub")).post(
        path, {"workspace_id": str(tenant_a.workspace.id)}, format="json")
    assert response.status_code == 200
    assert response.json()["access_token"]
    assert no_store(response)


def test_authenticated_api_responses_are_not_stored(tenant_a, client_a):
    assert no_store(client_a.get("/api/v1/builds"))  # API key
    assert no_store(client_a.get("/api/v1/tasks/search"))
    assert no_store(tenant_a.jwt_client().get("/api/v1/ui/me"))  # internal token
    workspace = tenant_a.jwt_client().get(f"/api/v1/ui/workspaces/{tenant_a.workspace.id}")
    assert workspace.status_code == 200 and no_store(workspace)


def test_rejected_credentials_are_not_stored_either(anon_client):
    anon_client.credentials(HTTP_X_API_KEY="sk_000000_" + "x" * 32)
    response = anon_client.get("/api/v1/builds")
    assert response.status_code == 401
    assert no_store(response)


def test_public_responses_stay_cacheable(anon_client):
    response = anon_client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    assert not no_store(response)


def test_bare_responses_get_what_add_never_cache_headers_writes(client_a):
    """The middleware writes the two headers itself on a response that has none (issue 10);
    the text is Django's own."""
    from django.http import HttpResponse
    from django.utils.cache import add_never_cache_headers

    expected = HttpResponse()
    add_never_cache_headers(expected)
    response = client_a.get("/api/v1/builds")
    assert response["Cache-Control"] == expected["Cache-Control"]
    assert response["Expires"][-4:] == expected["Expires"][-4:] == " GMT"
