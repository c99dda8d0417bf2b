"""``manage.py bootstrap``: a working API key without an identity provider."""

from __future__ import annotations

import io
import re

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
