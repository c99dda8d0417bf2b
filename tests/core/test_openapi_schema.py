"""The OpenAPI schema is part of the product: it must generate without warnings and validate."""

from __future__ import annotations

import json
import re
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


EXTERNAL = re.compile(
    r"""(?:src|href)\s*=\s*["']\s*(?:https?:)?//|url\(\s*["']?(?:https?:)?//|@import""",
    re.IGNORECASE,
)


def test_docs_pages_load_nothing_from_the_internet(client, db) -> None:
    """Stumble 7: the stock Redoc page pulled its fonts from Google; offline it looked broken
    and every reader was announced to a third party."""
    for page in ("/api/docs/", "/api/redoc/"):
        body = client.get(page).content.decode()
        assert EXTERNAL.search(body) is None, (page, EXTERNAL.search(body))
        assert "googleapis" not in body and "gstatic" not in body
        for target in re.findall(r"""(?:src|href)=["']([^"']+)""", body):
            assert target.startswith("/"), (page, target)
    redoc = client.get("/api/redoc/").content.decode()
    [settings_json] = re.findall(r"const redocSettings = (\{.*?\});", redoc, re.DOTALL)
    typography = json.loads(settings_json)["theme"]["typography"]
    for family in (typography["fontFamily"], typography["headings"]["fontFamily"]):
        assert "Montserrat" not in family and "Roboto" not in family
