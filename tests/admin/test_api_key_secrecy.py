"""A key created in the admin is shown once and travels nowhere else (issue 8, item 9): not in
the ``messages`` cookie (signed, not encrypted: anyone holding it can read it), not in the
session, not in a cacheable response."""

from __future__ import annotations

import base64
import re
import zlib

import pytest
from django.contrib.sessions.models import Session

from workspaces.api_keys import hash_api_key
from workspaces.models import ApiKey

pytestmark = pytest.mark.django_db

RAW_KEY = re.compile(r"sk_[0-9a-f]{6}_[A-Za-z0-9_-]{32}")


def readable_without_the_secret(cookie_value: str) -> str:
    """What an eavesdropper reads from a signed cookie without knowing SECRET_KEY: the payload
    before the signature is (optionally zlib-compressed) URL-safe base64."""
    payload = cookie_value.strip('"').split(":", 1)[0]
    compressed = payload.startswith(".")
    payload = payload.removeprefix(".")
    raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    return (zlib.decompress(raw) if compressed else raw).decode(errors="replace")


def test_decoder_reads_a_signed_messages_cookie(admin_client):
    """The decoder above really reads Django's signed message cookie (so an absent key below
    means the key is not there, not that we failed to read it)."""
    from django.contrib.messages.storage.cookie import CookieStorage
    from django.http import HttpRequest, HttpResponse

    request = HttpRequest()
    storage = CookieStorage(request)
    storage.add(20, "sk_0123ab_" + "x" * 32 + " is the secret " * 20)  # long: compressed
    response = HttpResponse()
    storage.update(response)
    assert "sk_0123ab_" + "x" * 32 in readable_without_the_secret(
        response.cookies["messages"].value)


def test_new_key_is_not_in_any_cookie_session_or_cacheable_response(admin_client, tenant_a):
    response = admin_client.post("/admin/workspaces/apikey/add/",
                               {"environment": tenant_a.environment.pk, "name": "deploy"})
    pages = [response]
    if response.status_code == 302:  # how the key used to travel: a message after a redirect
        pages.append(admin_client.get(response["Location"]))
    [raw_key] = RAW_KEY.findall(pages[-1].content.decode())
    assert ApiKey.objects.get(name="deploy").key_hash == hash_api_key(raw_key)

    # Follow-up pages (where a stored message would surface) do not show it again.
    later = [admin_client.get("/admin/workspaces/apikey/"), admin_client.get("/admin/")]
    for page in (*pages, *later):
        for name, morsel in page.cookies.items():
            assert raw_key not in morsel.value, name
            if name == "messages" and morsel.value:
                assert raw_key not in readable_without_the_secret(morsel.value)
    for page in later:
        assert raw_key not in page.content.decode()
    for session in Session.objects.all():
        assert raw_key not in str(session.get_decoded())

    # It is shown on the answer to "Save" itself, which no cache may keep.
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
