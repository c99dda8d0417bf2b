"""The released CLI (``stardag==0.1.6``) against a live server (acceptance 4).

The CLI keeps its state under ``~/.stardag`` (``Path.home()``), so ``HOME`` points at a temporary
directory. Instead of the browser step of ``stardag auth login`` we store the refresh-token
credentials exactly as ``login`` does (``save_credentials``) and serve a minimal identity-provider
token endpoint that answers refresh grants with access tokens signed by the ``oidc_provider``
fixture's key. Every other step is the CLI's own code over real HTTP: ``config profile add``
(``/api/v1/ui/me`` with the OIDC token, ``/api/v1/auth/exchange``, environment list),
``auth refresh``, ``config list workspaces``, and the ``environment`` / ``target-roots`` commands.
Server-side effects are checked in the database.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from stardag._cli import app
from stardag._cli.auth import _get_auth_config_from_registry
from stardag._cli.credentials import load_access_token_cache, save_credentials
from stardag.config import clear_config_cache
from typer.testing import CliRunner

from accounts.models import User
from accounts.tokens import decode_access_token
from tests.oidc_provider import LocalJsonServer, LocalOidcProvider
from workspaces.models import Environment, TargetRoot, Workspace

pytestmark = [pytest.mark.sdk, pytest.mark.django_db(transaction=True)]

EMAIL = "cli.user@example.com"
SUB = "cli-user-sub"
REGISTRY = "test"


class TokenEndpoint:
    """The identity provider's token endpoint: refresh grant → a fresh OIDC access token."""

    def __init__(self, provider: LocalOidcProvider) -> None:
        self.provider = provider
        self.grants: list[dict[str, str]] = []
        self.http = LocalJsonServer(self._answer, method="POST")
        self.url = f"{self.http.url}/token"

    def _answer(self, request: BaseHTTPRequestHandler) -> tuple[int, bytes]:
        length = int(request.headers.get("Content-Length") or 0)
        form = dict(urllib.parse.parse_qsl(request.rfile.read(length).decode()))
        self.grants.append(form)
        if form.get("grant_type") != "refresh_token":
            return 400, b'{"error": "unsupported_grant_type"}'
        return 200, json.dumps({
            "access_token": self.provider.token(SUB, email=EMAIL, name="CLI User",
                                                aud=["account", "stardag-sdk"]),
            "refresh_token": "refresh-2", "token_type": "Bearer", "expires_in": 300,
        }).encode()

    def close(self) -> None:
        self.http.close()


@pytest.fixture
def token_endpoint(oidc_provider: LocalOidcProvider) -> Iterator[TokenEndpoint]:
    endpoint = TokenEndpoint(oidc_provider)
    yield endpoint
    endpoint.close()


@pytest.fixture
def cli_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A clean ``~/.stardag`` and no ``STARDAG_*`` overrides."""
    import os

    for name in list(os.environ):
        if name.startswith("STARDAG_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    clear_config_cache()
    yield tmp_path
    clear_config_cache()


def stardag(*args: str) -> Any:
    """Run one CLI command in-process, as a fresh ``stardag`` invocation would."""
    clear_config_cache()
    result = CliRunner().invoke(app, list(args))
    clear_config_cache()
    return result


def login(live_server: Any, token_endpoint: TokenEndpoint) -> Workspace:
    """What ``stardag auth login`` leaves behind, then a default profile via the CLI."""
    assert stardag("config", "registry", "add", REGISTRY, "--url", live_server.url).exit_code == 0
    save_credentials({"token_endpoint": token_endpoint.url, "client_id": "stardag-sdk",
                      "refresh_token": "refresh-1"}, REGISTRY, EMAIL)
    result = stardag("config", "profile", "add", "dev", "-r", REGISTRY, "-u", EMAIL, "--default")
    assert result.exit_code == 0, result.output
    assert "Profile 'dev' added." in result.output
    assert "Access token refreshed successfully." in result.output
    return Workspace.objects.get(created_by__external_id=SUB, is_personal=True)


def test_login_config_exchange_and_me(live_server, oidc_provider, token_endpoint, cli_home,
                                      settings):
    settings.OIDC_EXTERNAL_ISSUER_URL = "https://login.example.com/realms/stardag"
    assert _get_auth_config_from_registry(live_server.url) == {
        "oidc_issuer": "https://login.example.com/realms/stardag",
        "oidc_client_id": "stardag-sdk",
    }

    workspace = login(live_server, token_endpoint)
    user = User.objects.get(external_id=SUB)
    assert (user.email, user.display_name) == (EMAIL, "CLI User")  # provisioned via /ui/me
    assert workspace.slug == "cli-user"
    assert Environment.objects.get(workspace=workspace).slug == "local"

    refreshed = stardag("auth", "refresh")
    assert refreshed.exit_code == 0, refreshed.output
    assert "Access token refreshed and cached" in refreshed.output
    assert token_endpoint.grants[-1] == {"grant_type": "refresh_token",
                                         "refresh_token": "refresh-2",
                                         "client_id": "stardag-sdk"}
    cached = load_access_token_cache(REGISTRY, str(workspace.id), EMAIL)
    claims = decode_access_token(cached["access_token"])
    assert (claims["sub"], claims["workspace_id"]) == (str(user.id), str(workspace.id))

    listed = stardag("config", "list", "workspaces")  # /ui/me with the internal token
    assert listed.exit_code == 0, listed.output
    assert f"{workspace.id}  CLI User's Workspace (cli-user) [owner] *" in listed.output

    status = stardag("auth", "status")
    assert f"Logged in as {EMAIL}" in status.output
    assert "(cached)" in status.output


def test_environments_and_target_roots(live_server, oidc_provider, token_endpoint, cli_home):
    workspace = login(live_server, token_endpoint)

    listed = stardag("environment", "list")
    assert listed.exit_code == 0, listed.output
    assert "local" in listed.output and "Local development environment" in listed.output

    created = stardag("environment", "create", "Staging", "--slug", "staging", "-d",
                      "Stage env", "-t", "default=s3://bucket/staging", "-t", "archive=/mnt/a")
    assert created.exit_code == 0, created.output
    assert "Environment 'Staging' created (slug: staging)" in created.output
    assert "Created 2 target root(s)." in created.output
    staging = Environment.objects.get(workspace=workspace, slug="staging")
    assert (staging.name, staging.description) == ("Staging", "Stage env")

    def roots() -> dict[str, str]:
        return dict(TargetRoot.objects.filter(environment=staging)
                    .values_list("name", "uri_prefix"))

    assert roots() == {"default": "s3://bucket/staging", "archive": "/mnt/a"}

    listed_roots = stardag("environment", "target-roots", "list", "--env", "staging")
    assert listed_roots.exit_code == 0, listed_roots.output
    assert "default: s3://bucket/staging" in listed_roots.output

    added = stardag("environment", "target-roots", "add", "extra", "/mnt/x", "--env", "staging")
    assert added.exit_code == 0, added.output
    assert roots()["extra"] == "/mnt/x"

    synced = stardag("environment", "target-roots", "set", "default=s3://bucket/v2",
                     "extra=/mnt/x", "new=gs://n/", "--env", "staging", "--force")
    assert synced.exit_code == 0, synced.output  # PATCH default, DELETE archive, POST new
    assert roots() == {"default": "s3://bucket/v2", "extra": "/mnt/x", "new": "gs://n/"}

    removed = stardag("environment", "target-roots", "remove", "extra", "--env", "staging",
                      "--force")
    assert removed.exit_code == 0, removed.output
    assert set(roots()) == {"default", "new"}

    deleted = stardag("environment", "delete", "staging", "--force")
    assert deleted.exit_code == 0, deleted.output
    assert "Environment 'Staging' (staging) deleted." in deleted.output
    assert not Environment.objects.filter(pk=staging.pk).exists()
    assert not TargetRoot.objects.filter(environment_id=staging.pk).exists()


def test_cli_shows_the_servers_error_details(live_server, oidc_provider, token_endpoint,
                                            cli_home):
    workspace = login(live_server, token_endpoint)

    last = stardag("environment", "delete", "local", "--force")
    assert last.exit_code == 1
    assert "Error: Cannot delete the last environment" in last.output

    invalid = stardag("environment", "create", "Bad", "--slug", "-bad-")
    assert invalid.exit_code == 1
    assert "Error: Validation failed: Slug must be 2-64 characters" in invalid.output

    duplicate = stardag("environment", "create", "Local again", "--slug", "local")
    assert duplicate.exit_code == 1
    assert "Error: Environment slug already exists in this workspace" in duplicate.output

    conflict = stardag("environment", "target-roots", "add", "default", "/elsewhere")
    assert conflict.exit_code == 1
    assert "Error: Target root with name 'default' already exists" in conflict.output
    assert Environment.objects.filter(workspace=workspace).count() == 1
