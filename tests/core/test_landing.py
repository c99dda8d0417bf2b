"""``/`` is a landing page (the admin's "View site" link goes there), not a 404."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from stardag_site.version import server_version

ROOT = Path(__file__).resolve().parents[2]


def test_the_version_is_the_one_in_pyproject() -> None:
    assert server_version() == tomllib.loads((ROOT / "pyproject.toml").read_text())[
        "project"]["version"]


def test_landing_page_shows_version_docs_schema_admin_and_how_to_connect(client, db) -> None:
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/", HTTP_HOST="localhost:8123")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert len(queries) == 0
    body = response.content.decode()
    assert f'<strong id="version">{server_version()}</strong>' in body
    links = set(re.findall(r'href="([^"]+)"', body))
    assert {"/api/docs/", "/api/redoc/", "/api/schema/?format=json", "/api/schema/",
            "/admin/", "/health"} <= links
    assert "export STARDAG_REGISTRY_URL=http://localhost:8123\n" in body
    assert "bin/manage bootstrap" in body and "COMMIT_HASH" in body
    for target in links:
        assert not target.startswith(("http:", "https:", "//")), target  # nothing from outside
        assert client.get(target).status_code in (200, 302), target


def test_admin_view_site_link_leads_to_the_landing_page(db) -> None:
    staff = Client()
    staff.force_login(User.objects.create_superuser("root@example.com", "pw"))
    admin_page = staff.get("/admin/").content.decode()
    assert 'href="/"' in admin_page  # "View site"
    assert staff.get("/").status_code == 200
