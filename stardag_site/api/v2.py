"""Request-edge kit of the ``/api/v2`` routes (SDK-WIRE 4): body fields, opaque cursors, and the
OpenAPI decorator every v2 view uses (gzip bodies are decoded by ``GzipRequestBodyMiddleware``).
Imports no app."""

from __future__ import annotations

import base64
import builtins
import datetime
import json
import uuid
from collections.abc import Callable
from datetime import UTC
from typing import Any, Literal, overload

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request

from stardag_site.api.errors import RequestValidationError, invalid, validation_item
from stardag_site.api.schema import error_responses

# v2 refusals are objects {"code", "message"} at 400, 404 and 409; a 422 is a validation list or
# ``{"code": "invalid_request"}``.
V2_ERRORS = error_responses(400, 404, 409, 422)


def v2_doc(summary: str, description: str, *, body: bool = False, **extra: Any) -> Callable:
    """OpenAPI text for a v2 operation (free-form JSON in and out, as the SDK's models)."""
    return extend_schema(summary=summary, description=description,
                         request=OpenApiTypes.OBJECT if body else None,
                         responses={200: OpenApiTypes.OBJECT, **V2_ERRORS}, **extra)


class Body:
    """Typed reads of a JSON object body; each problem is a 422 item at its location."""

    def __init__(self, data: Any, loc: tuple[str | int, ...] = ("body",)) -> None:
        if data is None and loc == ("body",):
            data = {}
        if not isinstance(data, dict):
            raise RequestValidationError([validation_item(list(loc), "Input should be a valid "
                                                          "dictionary", "dict_type", data)])
        self.data = data
        self.loc = loc

    def _fail(self, name: str, msg: str, type_: str) -> RequestValidationError:
        return RequestValidationError([validation_item([*self.loc, name], msg, type_,
                                                       self.data.get(name))])

    def has(self, name: str) -> bool:
        return self.data.get(name) is not None

    def str(self, name: str, *, required: bool = False, max_length: int | None = None,
            min_length: int = 0, default: str | None = None) -> str | None:
        value = self.data.get(name)
        if value is None:
            if required:
                raise self._fail(name, "Field required", "missing")
            return default
        if not isinstance(value, str):
            raise self._fail(name, "Input should be a valid string", "string_type")
        if max_length is not None and len(value) > max_length:
            raise self._fail(name, f"String should have at most {max_length} characters",
                             "string_too_long")
        if len(value) < min_length:
            raise self._fail(name, f"String should have at least {min_length} characters",
                             "string_too_short")
        return value

    @overload
    def uuid(self, name: builtins.str, *, required: Literal[True]) -> uuid.UUID: ...

    @overload
    def uuid(self, name: builtins.str, *, required: builtins.bool = False) -> uuid.UUID | None: ...

    def uuid(self, name: builtins.str, *, required: builtins.bool = False) -> uuid.UUID | None:
        value = self.data.get(name)
        if value is None:
            if required:
                raise self._fail(name, "Field required", "missing")
            return None
        try:
            return uuid.UUID(str(value))
        except ValueError:
            raise self._fail(name, "Input should be a valid UUID", "uuid_parsing") from None

    def bool(self, name: builtins.str, default: builtins.bool) -> builtins.bool:
        value = self.data.get(name)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self._fail(name, "Input should be a valid boolean", "bool_parsing")
        return value

    def int(self, name: builtins.str) -> builtins.int | None:
        value = self.data.get(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._fail(name, "Input should be a valid integer", "int_parsing")
        return value

    def dict(self, name: builtins.str, *,
             required: builtins.bool = False) -> builtins.dict[builtins.str, Any] | None:
        value = self.data.get(name)
        if value is None:
            if required:
                raise self._fail(name, "Field required", "missing")
            return None
        if not isinstance(value, dict):
            raise self._fail(name, "Input should be a valid dictionary", "dict_type")
        return value

    def list(self, name: builtins.str, *,
             required: builtins.bool = False) -> builtins.list[Any] | None:
        value = self.data.get(name)
        if value is None:
            if required:
                raise self._fail(name, "Field required", "missing")
            return None
        if not isinstance(value, list):
            raise self._fail(name, "Input should be a valid list", "list_type")
        return value

    def datetime(self, name: builtins.str) -> datetime.datetime:
        value = self.data.get(name)
        if not isinstance(value, str):
            raise self._fail(name, "Field required" if value is None else
                             "Input should be a valid datetime", "datetime_parsing")
        try:
            parsed = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise self._fail(name, "Input should be a valid datetime",
                             "datetime_parsing") from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed


def body_of(request: Request) -> Body:
    return Body(request.data)


def encode_cursor(*parts: Any) -> str:
    raw = json.dumps([str(p) for p in parts]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(value: str | None, size: int) -> list[str] | None:
    """An opaque cursor back into its parts; a malformed one is a 422."""
    if not value:
        return None
    try:
        padded = value + "=" * (-len(value) % 4)
        parts = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
        if isinstance(parts, list) and len(parts) == size and all(
                isinstance(p, str) for p in parts):
            return parts
    except (ValueError, UnicodeDecodeError):
        pass
    raise invalid("query", "cursor", "Invalid cursor", "value_error", value)
