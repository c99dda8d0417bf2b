"""The OpenAPI schema is part of the product: it must generate without warnings and validate."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml
from django.core.management import call_command
from django.urls import resolve

from stardag_site.api.authentication import SdkAuthentication


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
    assert {key: api_key[key] for key in ("type", "in", "name")} == {
        "type": "apiKey", "in": "header", "name": "X-API-Key"}


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


# --- Stumble 8: what the docs tell a reader -----------------------------------------------------

SAMPLE_PATH_VALUES = {"lock_name": "some-lock", "task_id": "some-task"}
SAMPLE_UUID = "01936f0e-0000-7000-8000-000000000000"


def generated_schema(tmp_path: Path) -> dict:
    target = tmp_path / "schema.json"
    call_command("spectacular", "--format", "openapi-json", "--file", str(target))
    return json.loads(target.read_text())


def operations(schema: dict) -> list[tuple[str, str, dict]]:
    return [(method, path, operation) for path, item in schema["paths"].items()
            for method, operation in item.items()]


def expected_security(path: str) -> list[dict]:
    """What the route really demands: resolved to its view, read from its authentication."""
    concrete = re.sub(r"\{(\w+)\}", lambda m: SAMPLE_PATH_VALUES.get(m[1], SAMPLE_UUID), path)
    view = resolve(concrete).func.cls
    classes = list(view.authentication_classes)
    if not classes:
        return []
    if any(issubclass(cls, SdkAuthentication) for cls in classes):
        return [{"ApiKey": []}, {"BearerToken": []}]
    return [{"BearerToken": []}]


def test_every_operation_is_documented_for_its_readers(tmp_path: Path, db: None) -> None:
    schema = generated_schema(tmp_path)
    undocumented, internal = [], []
    for method, path, operation in operations(schema):
        if not operation.get("summary", "").strip() or not operation.get("description"):
            undocumented.append(f"{method.upper()} {path}")
        description = operation.get("description", "")
        # Maintainers' notes (reST markup, contract citations, "Resolves ...", "Base of ...").
        if "``" in description or "§" in description or re.match(r"(Resolves|Base )",
                                                                  description):
            internal.append(f"{method.upper()} {path}: {description[:60]}")
    assert undocumented == []
    assert internal == []
    assert len(operations(schema)) > 60


def test_every_operation_declares_the_credential_its_route_demands(tmp_path: Path,
                                                                   db: None) -> None:
    schema = generated_schema(tmp_path)
    wrong = {}
    for method, path, operation in operations(schema):
        declared = operation.get("security", [])
        if {} in declared or declared != expected_security(path):
            wrong[f"{method.upper()} {path}"] = declared
    assert wrong == {}
    by_route = {(m, p): o.get("security", []) for m, p, o in operations(schema)}
    assert by_route[("post", "/api/v1/builds")] == [{"ApiKey": []}, {"BearerToken": []}]
    assert by_route[("get", "/api/v1/ui/workspaces/{workspace_id}/members")] == [
        {"BearerToken": []}]
    assert by_route[("get", "/api/v1/auth/config")] == []


def test_each_route_is_listed_once_and_there_are_two_schemes(tmp_path: Path, db: None) -> None:
    schema = generated_schema(tmp_path)
    paths = set(schema["paths"])
    assert not any(p.startswith(("/api/v1/workspaces", "/api/v1/me")) for p in paths)
    assert "/api/v1/ui/workspaces" in paths and "/api/v1/ui/me" in paths
    ids = [operation["operationId"] for _, _, operation in operations(schema)]
    assert len(ids) == len(set(ids))
    normalised = [(m, p.replace("/api/v1/ui/", "/api/v1/")) for m, p, _ in operations(schema)]
    assert len(normalised) == len(set(normalised))
    schemes = schema["components"]["securitySchemes"]
    assert set(schemes) == {"ApiKey", "BearerToken"}
    assert (schemes["ApiKey"]["type"], schemes["ApiKey"]["name"]) == ("apiKey", "X-API-Key")
    assert (schemes["BearerToken"]["type"], schemes["BearerToken"]["scheme"]) == ("http",
                                                                                 "bearer")
    assert "Aliases" in schema["info"]["description"]  # the other spellings are still named


def test_aliases_left_out_of_the_schema_are_still_served(tenant_a) -> None:
    client = tenant_a.jwt_client()
    for path in ("/api/v1/workspaces", "/api/v1/ui/workspaces", "/api/v1/me", "/api/v1/ui/me"):
        assert client.get(path).status_code == 200, path
