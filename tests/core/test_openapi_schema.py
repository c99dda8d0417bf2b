"""The OpenAPI schema is part of the product: it must generate without warnings and validate."""

from __future__ import annotations

from pathlib import Path

import yaml
from django.core.management import call_command


def test_schema_validates_without_warnings(tmp_path: Path, db: None) -> None:
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    schema = yaml.safe_load(target.read_text())
    paths = schema["paths"]
    for expected in ("/api/v1/builds", "/api/v1/tasks/search", "/api/v1/locks/{lock_name}/acquire",
                     "/api/v1/ui/workspaces/{workspace_id}/environments", "/api/v1/ui/me"):
        assert expected in paths, f"{expected} missing from the schema"
    schemes = schema["components"]["securitySchemes"]
    assert {scheme["type"] for scheme in schemes.values()} >= {"http", "apiKey"}
    api_key = next(s for s in schemes.values() if s["type"] == "apiKey")
    assert api_key == {"type": "apiKey", "in": "header", "name": "X-API-Key"}


def test_swagger_ui_and_redoc_are_served_offline(client, db) -> None:
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    body = docs.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in body
    assert "cdn" not in body.lower()
    redoc = client.get("/api/redoc/")
    assert redoc.status_code == 200
    assert "/static/drf_spectacular_sidecar/redoc/" in redoc.content.decode()
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    assert schema.json()["info"]["title"] == "Stardag API"
