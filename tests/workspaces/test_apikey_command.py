"""``manage.py apikey create|list|revoke``: the secret is printed once and works; the list never
shows a secret; revoking stops the key; every create and revoke is audited as ``cli``."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from audit.models import AuditEntry
from workspaces.models import ApiKey

pytestmark = pytest.mark.django_db
KEY = re.compile(r"^sk_[0-9a-f]{6}_[A-Za-z0-9_-]{32}$", re.MULTILINE)


def apikey(*args: str) -> str:
    out = io.StringIO()
    call_command("apikey", *args, stdout=out)
    return out.getvalue()


def works(raw_key: str) -> bool:
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=raw_key)
    return client.get("/api/v1/target-roots").status_code == 200


def test_create_list_revoke(tenant_a) -> None:
    spec = f"{tenant_a.workspace.slug}/{tenant_a.environment.slug}"
    output = apikey("create", "--environment", spec, "--name", "nightly ci",
                    "--created-by", tenant_a.user.email)
    [raw_key] = KEY.findall(output)
    assert works(raw_key)
    key = ApiKey.objects.get(name="nightly ci")
    assert key.created_by == tenant_a.user and key.environment == tenant_a.environment
    assert str(key.pk) in output and "shown once" in output

    listing = apikey("list", "--environment", spec)
    assert str(key.pk) in listing and f"sk_{key.key_prefix}" in listing
    # The secret is what follows "sk_<prefix>_" (it may itself contain "_").
    assert raw_key not in listing and raw_key.split("_", 2)[2] not in listing
    assert "nightly ci" in listing and "active" in listing

    revoked = apikey("revoke", str(key.pk))
    assert "Revoked" in revoked and not works(raw_key)
    assert "already revoked" in apikey("revoke", str(key.pk))
    assert str(key.pk) not in apikey("list")
    assert "revoked" in apikey("list", "--include-revoked")

    entries = AuditEntry.objects.filter(target_id=str(key.pk)).order_by("created_at")
    assert [(e.action, e.source, e.credential_kind, e.credential_id) for e in entries] == [
        ("api_key.created", "cli", "cli", "manage.py apikey"),
        ("api_key.revoked", "cli", "cli", "manage.py apikey"),
    ]
    assert raw_key not in str([e.details for e in entries])


@pytest.mark.parametrize("args", [
    ["create", "--environment", "no-such/env", "--name", "x"],
    ["create", "--environment", "missing-slash", "--name", "x"],
    ["revoke", "not-a-uuid"],
    ["revoke", "01936f0e-0000-7000-8000-000000000000"],
])
def test_bad_arguments_are_one_line_errors(tenant_a, args) -> None:
    with pytest.raises(CommandError):
        apikey(*args)
    assert ApiKey.objects.count() == 1  # only the fixture's key
