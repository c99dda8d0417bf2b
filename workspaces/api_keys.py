"""API key format, digest and lookup (contract §2.6).

A key is ``sk_`` + the first 6 hex characters of its environment id + ``_`` + 32 characters of
URL-safe base64 (24 random bytes): 192 bits of entropy, so an unsalted SHA-256 digest looked up
by equality is as safe as a slow hash and costs microseconds per request instead of ~100 ms.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import cast

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from audit.services import audit_record
from stardag_site.db.prepared import PreparedQuery
from workspaces.models import ApiKey, Environment

LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class NewApiKey:
    api_key: ApiKey
    raw_key: str  # shown once, never stored


def hash_api_key(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def generate_raw_key(environment_id: object) -> str:
    env_hex = str(environment_id).replace("-", "")[:6]
    return f"sk_{env_hex}_{secrets.token_urlsafe(24)}"


def api_key_create(*, environment: Environment, name: str,
                   created_by: User | None = None) -> NewApiKey:
    """Create a key and return it with the only copy of its secret."""
    raw_key = generate_raw_key(environment.id)
    api_key = ApiKey.objects.create(
        environment=environment,
        name=name,
        key_prefix=raw_key[3:11],
        key_hash=hash_api_key(raw_key),
        created_by=created_by,
    )
    audit_record(action="api_key.created", target=api_key, details={"name": name})
    return NewApiKey(api_key=api_key, raw_key=raw_key)


def api_key_revoke(*, api_key: ApiKey) -> ApiKey:
    """Soft-delete; idempotent (the first revocation time is kept)."""
    if api_key.revoked_at is None:
        with transaction.atomic():
            if ApiKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(
                revoked_at=timezone.now()
            ):
                audit_record(action="api_key.revoked", target=api_key)
        api_key.refresh_from_db(fields=["revoked_at"])
    return api_key


# Compiled once per thread (the lookup of almost every SDK request). The digest is unique: no
# ORDER BY (``.first()`` would add one). Never cached: a revoked key fails on the next request.
_ACTIVE_KEY_BY_DIGEST = PreparedQuery(
    lambda key_hash: (ApiKey.objects.active().select_related("environment__workspace")
                      .filter(key_hash=key_hash).order_by()[:1]),
    key_hash=ApiKey._meta.get_field("key_hash"),
)


def api_key_authenticate(raw_key: str) -> ApiKey | None:
    """The active key matching ``raw_key`` (with its environment and workspace), or None.

    One indexed equality lookup on the digest; ``last_used_at`` is written at most once a minute
    per key with a conditional UPDATE, so GET-heavy clients do not write on every request.
    """
    if not raw_key.startswith("sk_") or len(raw_key) > 128:
        return None
    digest = hash_api_key(raw_key)
    api_key = cast("ApiKey | None", _ACTIVE_KEY_BY_DIGEST.first(key_hash=digest))
    if api_key is None or not hmac.compare_digest(api_key.key_hash, digest):
        return None
    now = timezone.now()
    if api_key.last_used_at is None or now - api_key.last_used_at >= LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now
    return api_key
