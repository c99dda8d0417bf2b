"""``manage.py bootstrap``: a working API key without an identity provider."""

from __future__ import annotations

import fcntl
import io
import re
import shutil
import subprocess
import sys
import time

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from accounts.models import User
from tests import factories
from workspaces.api_keys import hash_api_key
from workspaces.models import ApiKey, Environment, Workspace, WorkspaceMember

pytestmark = pytest.mark.django_db


def bootstrap(*args: str) -> str:
    out = io.StringIO()
    call_command("bootstrap", *args, stdout=out)
    return out.getvalue()


def printed_key(output: str) -> str:
    [key] = set(re.findall(r"sk_[0-9a-f]{6}_[A-Za-z0-9_-]{32}", output))
    return key


def test_bootstrap_creates_everything_and_prints_the_sdk_environment():
    output = bootstrap("--email", "First@Example.com", "--workspace-slug", "acme",
                       "--environment-slug", "dev", "--key-name", "laptop",
                       "--url", "http://stardag.internal:8000/")
    key = printed_key(output)
    assert "export STARDAG_REGISTRY_URL=http://stardag.internal:8000\n" in output
    assert f"export STARDAG_API_KEY={key}\n" in output
    user = User.objects.get(email="First@Example.com")
    assert not user.has_usable_password()
    workspace = Workspace.objects.get(slug="acme")
    assert WorkspaceMember.objects.get(workspace=workspace, user=user).role == "owner"
    environment = Environment.objects.get(workspace=workspace)
    assert environment.slug == "dev"
    api_key = ApiKey.objects.get(key_hash=hash_api_key(key))
    assert (api_key.environment, api_key.name, api_key.created_by) == (environment, "laptop",
                                                                        user)
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=key)
    assert client.get("/api/v1/target-roots").status_code == 200


def test_bootstrap_is_idempotent_but_issues_a_new_key():
    first = printed_key(bootstrap("--email", "me@example.com"))
    output = bootstrap("--email", "ME@example.com")
    second = printed_key(output)
    assert first != second
    assert "Using existing user" in output and "Using existing workspace" in output
    assert User.objects.count() == 1
    assert Workspace.objects.get().slug == "default"
    assert Environment.objects.get().slug == "default"
    assert ApiKey.objects.filter(revoked_at__isnull=True).count() == 2
    bootstrap("--email", "me@example.com", "--environment-slug", "ci")
    assert set(Environment.objects.values_list("slug", flat=True)) == {"default", "ci"}


def test_bootstrap_refuses_a_workspace_of_someone_else(tenant_b):
    with pytest.raises(CommandError, match="not a member"):
        bootstrap("--email", "intruder@example.com", "--workspace-slug", "bob-ws")
    assert not User.objects.filter(email="intruder@example.com").exists()  # rolled back


@pytest.mark.parametrize("args", [["--email", "nope"],
                                  ["--email", "a@b.c", "--workspace-slug", "Bad Slug"],
                                  ["--email", "a@b.c", "--environment-slug", "x"]])
def test_bootstrap_validates_its_arguments(args):
    with pytest.raises(CommandError):
        bootstrap(*args)
    assert not User.objects.exists()


def test_bootstrap_ignores_the_workspace_quota():
    user = factories.make_user("busy@example.com")
    for n in range(3):
        factories.make_workspace(user, slug=f"busy-{n}")
    key = printed_key(bootstrap("--email", "busy@example.com", "--workspace-slug", "fourth"))
    assert ApiKey.objects.get(key_hash=hash_api_key(key)).environment.workspace.slug == "fourth"


def test_the_bootstrapped_user_is_linked_on_first_sign_in(oidc_provider):
    bootstrap("--email", "ops@example.com")
    client = APIClient()
    token = oidc_provider.token("ops-sub", email="ops@example.com")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    body = client.get("/api/v1/ui/me").json()
    assert body["user"]["external_id"] == "ops-sub"
    assert [w["slug"] for w in body["workspaces"]] == ["default"]


# --- Stumbles 1 and 2: what the SDK needs, for the server actually started -------------------

def test_bootstrap_prints_commit_hash_and_a_curl_line_for_the_port_in_use(settings, tmp_path,
                                                                          monkeypatch):
    settings.DATA_DIR = tmp_path
    monkeypatch.setenv("PORT", "8123")
    output = bootstrap("--email", "me@example.com")
    key = printed_key(output)
    assert "  export STARDAG_REGISTRY_URL=http://localhost:8123\n" in output
    assert "  export COMMIT_HASH=local\n" in output
    assert f'  curl -fsS -H "X-API-Key: {key}" http://localhost:8123/api/v1/builds\n' in output


def test_bootstrap_uses_the_url_the_running_server_recorded(settings, tmp_path, monkeypatch):
    settings.DATA_DIR = tmp_path
    monkeypatch.delenv("PORT", raising=False)
    (tmp_path / "server-url").write_text("http://localhost:9099\n")
    output = bootstrap("--email", "me@example.com")
    assert "export STARDAG_REGISTRY_URL=http://localhost:9099\n" in output


def test_the_server_records_its_url_for_bootstrap(tmp_path):
    """gunicorn (``stardag_site/gunicorn.conf.py``) writes DATA_DIR/server-url when ready and
    removes it when it stops."""
    from tests.servers import base_env, gunicorn

    env = base_env(tmp_path)
    with gunicorn(env, tmp_path / "server.log") as server:
        # The loopback address is recorded as "localhost", the name the README uses.
        expected = server.url.replace("127.0.0.1", "localhost")
        assert (tmp_path / "data" / "server-url").read_text().strip() == expected
    assert not (tmp_path / "data" / "server-url").exists()


def test_bootstrap_against_an_unmigrated_database_says_what_to_run(tmp_path):
    from tests.servers import PYTHON, REPO, base_env

    result = subprocess.run([PYTHON, "manage.py", "bootstrap", "--email", "me@example.com"],
                            cwd=REPO, env=base_env(tmp_path), capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "CommandError: The database is not set up yet: start the server once with bin/serve "
        "(it migrates), or run `bin/manage migrate`, then run bootstrap again."
    ]
    assert "Traceback" not in result.stderr and "no such table" not in result.stderr


def _setup_copy(tmp_path):
    """A checkout-shaped folder with bin/setup and an already installed .venv (symlinked)."""
    from tests.servers import REPO

    (tmp_path / "bin").mkdir()
    shutil.copy(REPO / "bin" / "setup", tmp_path / "bin" / "setup")
    (tmp_path / "requirements.lock").write_text("")
    (tmp_path / ".venv" / "bin").mkdir(parents=True)
    (tmp_path / ".venv" / "bin" / "python").symlink_to(sys.executable)
    (tmp_path / ".venv" / ".installed-requirements.lock").touch()
    return tmp_path / "bin" / "setup"


@pytest.mark.skipif(shutil.which("flock") is None, reason="needs flock(1)")
def test_setup_waits_for_an_install_in_progress_instead_of_failing(tmp_path):
    setup = _setup_copy(tmp_path)
    with open(tmp_path / ".setup.lock", "w") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)  # bin/serve's bin/setup, still installing
        waiting = subprocess.Popen(["bash", str(setup)], stderr=subprocess.PIPE, text=True)
        time.sleep(1.5)
        assert waiting.poll() is None  # waits, does not touch the half-made .venv
        fcntl.flock(lock_file, fcntl.LOCK_UN)
        _, stderr = waiting.communicate(timeout=30)
    assert waiting.returncode == 0
    assert stderr.strip() == ("bin/setup: another bin/setup (bin/serve?) is installing "
                              "dependencies; waiting for it...")


def test_setup_explains_a_venv_without_pip_in_one_line(tmp_path):
    setup = _setup_copy(tmp_path)
    (tmp_path / ".venv" / "bin" / "python").unlink()
    (tmp_path / ".venv" / "bin" / "python").write_text("#!/bin/sh\nexit 1\n")
    (tmp_path / ".venv" / "bin" / "python").chmod(0o755)
    result = subprocess.run(["bash", str(setup)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    assert result.stderr.strip() == ("bin/setup: .venv is incomplete (an interrupted install?): "
                                     "run 'rm -rf .venv' and then bin/setup again")
