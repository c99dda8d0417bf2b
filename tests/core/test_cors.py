"""CORS for the web UI on another origin (contract §1.6)."""

UI = "https://ui.example.com"


def test_preflight_needs_no_credentials_and_allows_api_key_header(client, db, settings):
    settings.CORS_ALLOWED_ORIGINS = [UI]
    response = client.options(
        "/api/v1/builds",
        HTTP_ORIGIN=UI,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="x-api-key, authorization, content-type",
    )
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == UI
    assert response["Access-Control-Allow-Credentials"] == "true"
    allowed = {h.strip() for h in response["Access-Control-Allow-Headers"].split(",")}
    assert {"x-api-key", "authorization", "content-type"} <= allowed
    assert "POST" in response["Access-Control-Allow-Methods"]


def test_unlisted_origin_gets_no_cors_headers(client, db, settings):
    settings.CORS_ALLOWED_ORIGINS = [UI]
    response = client.get("/health", HTTP_ORIGIN="https://evil.example.com")
    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response


# --- Issue 8 item 8: CORS is for the API only ---------------------------------------------------


def test_admin_answers_no_cors_even_to_a_listed_origin(client, db, settings):
    settings.CORS_ALLOWED_ORIGINS = [UI]
    preflight = client.options(
        "/admin/login/", HTTP_ORIGIN=UI, HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type, x-csrftoken",
    )
    assert "Access-Control-Allow-Origin" not in preflight
    assert "Access-Control-Allow-Credentials" not in preflight
    page = client.get("/admin/login/", HTTP_ORIGIN=UI)
    assert page.status_code == 200
    assert "Access-Control-Allow-Origin" not in page


def test_every_api_spelling_still_answers_cors(client, db, settings):
    settings.CORS_ALLOWED_ORIGINS = [UI]
    for path in ("/api/v1/builds", "/api/v1/ui/me", "/auth/config", "/auth/exchange",
                 "/.well-known/jwks.json", "/health"):
        response = client.options(path, HTTP_ORIGIN=UI,
                                  HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET")
        assert response["Access-Control-Allow-Origin"] == UI, path
