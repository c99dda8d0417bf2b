"""Serializer fields shared by every app's request and response shapes (contract §1.3, §1.5).

DRF's own fields coerce (``123`` becomes ``"123"``, ``"5"`` becomes ``5``) and word their errors
their own way; the contract's clients expect pydantic's strictness and vocabulary. The exception
handler (``stardag_site.api.exceptions``) turns the error codes into the 422 item types
(``string_type``, ``string_too_short``, ``missing`` ...); these fields supply the messages.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from rest_framework import serializers

TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def _characters(count: int) -> str:
    return f"{count} character" if count == 1 else f"{count} characters"


class StrictCharField(serializers.CharField):
    """A JSON string and nothing else. Whitespace is trimmed as in DRF unless
    ``trim_whitespace=False``; messages read like pydantic's ("String should have at least 2
    characters")."""

    default_error_messages = {
        "required": "Field required",
        "null": "Field required",
        "invalid": "Input should be a valid string",
    }

    def __init__(self, **kwargs: Any) -> None:
        min_length, max_length = kwargs.get("min_length"), kwargs.get("max_length")
        messages = {"blank": f"String should have at least {_characters(min_length or 1)}"}
        if min_length is not None:
            messages["min_length"] = f"String should have at least {_characters(min_length)}"
        if max_length is not None:
            messages["max_length"] = f"String should have at most {_characters(max_length)}"
        kwargs["error_messages"] = {**messages, **kwargs.get("error_messages", {})}
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    """An integer (or an integral number); booleans and strings are rejected, unless
    ``numeric_strings=True`` lets ``"30"`` through as pydantic's lax mode does (the lock
    endpoints, where the SDK's reference server accepted it). Bounds read like pydantic's.
    """

    default_error_messages = {
        "required": "Field required",
        "null": "Field required",
        "invalid": "Input should be a valid integer",
        "min_value": "Input should be greater than or equal to {min_value}",
        "max_value": "Input should be less than or equal to {max_value}",
    }

    def __init__(self, *, numeric_strings: bool = False, **kwargs: Any) -> None:
        self.numeric_strings = numeric_strings
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, str) and self.numeric_strings:
            return super().to_internal_value(data)
        if isinstance(data, bool) or not isinstance(data, (int, float)):
            self.fail("invalid")
        if isinstance(data, float) and not data.is_integer():
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """A boolean as pydantic reads one (``true``/``false``, ``0``/``1`` and their usual string
    spellings), with pydantic's messages."""

    default_error_messages = {
        "required": "Field required",
        "null": "Field required",
        "invalid": "Input should be a valid boolean",
    }


class StrictUUIDField(serializers.UUIDField):
    """A UUID given as a string (DRF would also take an integer)."""

    default_error_messages = {
        "required": "Field required",
        "null": "Field required",
        "invalid": "Input should be a valid UUID",
    }

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


def utc_timestamp(value: datetime | None) -> str | None:
    """What ``UtcTimestampField`` renders, without a serializer: for the plain-dict bodies of hot
    and large responses (issue 10). Aware values only (``USE_TZ`` is on)."""
    if value is None:
        return None
    return value.astimezone(UTC).strftime(TIMESTAMP_FORMAT)


class UtcTimestampField(serializers.DateTimeField):
    """An output timestamp: RFC 3339 in UTC, always with microseconds and a ``Z`` (§1.3),
    whatever the time zone of the value or of the server."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("read_only", True)
        super().__init__(format=TIMESTAMP_FORMAT, default_timezone=UTC, **kwargs)
