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
