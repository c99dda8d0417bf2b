"""Request bodies and response shapes of the lock endpoints (contract §4.13).

Input fields are the shared strict fields (``stardag_site.api.fields``), so they follow the
contract's validation vocabulary (§1.5): a non-string ``owner_id`` is ``string_type`` (DRF would
silently turn ``42`` into ``"42"``), TTL bounds are ``greater_than_equal`` / ``less_than_equal``,
messages read like the SDK's reference server.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from locks.models import Lock
from locks.services import DEFAULT_TTL_SECONDS, MAX_TTL_SECONDS, MIN_TTL_SECONDS
from stardag_site.api.fields import (
    StrictBooleanField,
    StrictCharField,
    StrictIntegerField,
    StrictUUIDField,
    UtcTimestampField,
    utc_timestamp,
)


def _owner_id() -> StrictCharField:
    return StrictCharField(min_length=1, max_length=255, trim_whitespace=False)


def _ttl_seconds() -> StrictIntegerField:
    return StrictIntegerField(min_value=MIN_TTL_SECONDS, max_value=MAX_TTL_SECONDS,
                              default=DEFAULT_TTL_SECONDS, numeric_strings=True)


class LockAcquireSerializer(serializers.Serializer):
    owner_id = _owner_id()
    ttl_seconds = _ttl_seconds()
    check_task_completion = StrictBooleanField(default=True)


class LockRenewSerializer(serializers.Serializer):
    owner_id = _owner_id()
    ttl_seconds = _ttl_seconds()


class LockReleaseSerializer(serializers.Serializer):
    owner_id = _owner_id()
    task_completed = StrictBooleanField(default=False)
    build_id = StrictUUIDField(required=False, allow_null=True, default=None)


class LockSerializer(serializers.ModelSerializer):
    environment_id = serializers.UUIDField(read_only=True)
    acquired_at = UtcTimestampField()
    expires_at = UtcTimestampField()

    class Meta:
        model = Lock
        fields = ["name", "environment_id", "owner_id", "acquired_at", "expires_at", "version"]
        read_only_fields = fields


def lock_dict(lock: Lock) -> dict[str, Any]:
    """``LockSerializer(lock).data`` as a plain dict (a test pins the equality): a granted
    acquire answers with it, and building the ``ModelSerializer``'s fields from the model on
    every call was a sixth of that request's CPU."""
    return {"name": lock.name, "environment_id": str(lock.environment_id),
            "owner_id": lock.owner_id, "acquired_at": utc_timestamp(lock.acquired_at),
            "expires_at": utc_timestamp(lock.expires_at), "version": lock.version}


class LockAcquireResponseSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["acquired", "already_completed"])
    acquired = serializers.BooleanField()
    lock = LockSerializer(allow_null=True)
    error_message = serializers.CharField(allow_null=True)


class LockRefusalDetailSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["held_by_other", "concurrency_limit_reached"])
    error_message = serializers.CharField()


class LockRefusalSerializer(serializers.Serializer):
    """423/429 body: ``detail`` is an object the SDK reads ``error_message`` from (§6.6)."""

    detail = LockRefusalDetailSerializer()


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()


class LockRenewResponseSerializer(serializers.Serializer):
    renewed = serializers.BooleanField()


class LockReleaseResponseSerializer(serializers.Serializer):
    released = serializers.BooleanField()


class LockListSerializer(serializers.Serializer):
    locks = LockSerializer(many=True)
    count = serializers.IntegerField()


class CompletionStatusSerializer(serializers.Serializer):
    task_id = serializers.CharField()
    is_completed = serializers.BooleanField()
