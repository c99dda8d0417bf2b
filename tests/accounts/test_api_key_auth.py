"""API-key authentication on SDK endpoints (contract §2.6, §3.5): digest lookup, revocation,
``last_used_at`` bookkeeping."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from tests.factories import api_key_client as key_client
from workspaces.api_keys import hash_api_key
from workspaces.models import ApiKey

pytestmark = pytest.mark.django_db

URL = "/api/v1/target-roots"
SDK_CHALLENGE = 'Bearer, ApiKey realm="sdk"'


def key_row(raw: str) -> ApiKey:
    return ApiKey.objects.get(key_hash=hash_api_key(raw))


def assert_invalid_key(response) -> None:
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid API key"}
    assert response["WWW-Authenticate"] == SDK_CHALLENGE


def test_valid_key(tenant_a, client_a):
    assert client_a.get(URL).status_code == 200


def test_revoked_key_is_rejected(tenant_a, client_a):
    row = key_row(tenant_a.api_key)
    row.revoked_at = timezone.now()
    row.save()
    assert_invalid_key(client_a.get(URL))


@pytest.mark.parametrize("raw", ["", "sk_nope", "sk_" + "x" * 39, "not-a-key", "sk_" + "a" * 200])
def test_unknown_or_malformed_keys_are_rejected(raw, tenant_a):
    assert_invalid_key(key_client(raw).get(URL))


def test_key_decides_even_with_a_bearer_token(tenant_a, tenant_b):
    client = key_client(tenant_a.api_key)
    client.credentials(HTTP_X_API_KEY=tenant_a.api_key,
                       HTTP_AUTHORIZATION=f"Bearer {tenant_b.token()}")
    assert client.get(URL, {"environment_id": str(tenant_b.environment.id)}).status_code == 200
    bad = APIClient()
    bad.credentials(HTTP_X_API_KEY="sk_bad", HTTP_AUTHORIZATION=f"Bearer {tenant_a.token()}")
    assert_invalid_key(bad.get(URL, {"environment_id": str(tenant_a.environment.id)}))


def test_api_key_as_bearer_token_is_rejected(tenant_a):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tenant_a.api_key}")
    response = client.get(URL)
    assert response.status_code == 401
    assert response.json()["detail"].startswith("Invalid token")


def test_last_used_at_is_persisted_on_get(tenant_a, client_a):
    assert key_row(tenant_a.api_key).last_used_at is None
    before = timezone.now()
    assert client_a.get(URL).status_code == 200
    used = key_row(tenant_a.api_key).last_used_at
    assert used is not None and used >= before


def test_last_used_at_is_written_at_most_once_a_minute(tenant_a, client_a):
    client_a.get(URL)
    first = key_row(tenant_a.api_key).last_used_at
    with CaptureQueriesContext(connection) as queries:
        assert client_a.get(URL).status_code == 200
    assert key_row(tenant_a.api_key).last_used_at == first
    assert not any(q["sql"].upper().startswith("UPDATE") for q in queries.captured_queries)
    ApiKey.objects.filter(key_hash=hash_api_key(tenant_a.api_key)).update(
        last_used_at=timezone.now() - timedelta(minutes=2))
    client_a.get(URL)
    assert key_row(tenant_a.api_key).last_used_at > first


def test_authenticated_request_costs_few_queries(tenant_a, client_a,
                                                 django_assert_max_num_queries):
    client_a.get(URL)  # first use writes last_used_at
    with django_assert_max_num_queries(2):  # key lookup (with environment) + the roots
        assert client_a.get(URL).status_code == 200
