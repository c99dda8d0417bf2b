"""Reading path and query parameters with the contract's 422 items (§1.3, §1.5, §1.7)."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from rest_framework.request import Request

from stardag_site.api.errors import invalid

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def parse_uuid(value: str, name: str, location: str = "path") -> uuid.UUID:
    """A server-generated id from the path; anything else is 422 ``uuid_parsing``."""
    try:
        return uuid.UUID(str(value))
    except (ValueError, AttributeError, TypeError):
        raise invalid(location, name, "Input should be a valid UUID", "uuid_parsing",
                      value) from None


def query_json_object(request: Request, name: str) -> dict[str, Any] | None:
    """A query parameter carrying a JSON object (SDK ≥0.10 sends ``executor_metadata`` and
    ``build_config`` this way); absent is ``None``, anything but an object is a 422."""
    raw = request.query_params.get(name)
    if raw is None:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise invalid("query", name, "Input should be a JSON object", "dict_type", raw)
    return value


def query_text(request: Request, name: str, max_length: int) -> str | None:
    """An optional free-text query parameter of bounded length (422 when longer)."""
    raw = request.query_params.get(name)
    if raw is not None and len(raw) > max_length:
        raise invalid("query", name, f"String should have at most {max_length} characters",
                      "string_too_long", raw)
    return raw


def query_bool(request: Request, name: str, default: bool) -> bool:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    lowered = raw.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise invalid("query", name, "Input should be a valid boolean", "bool_parsing", raw)


def query_int(request: Request, name: str, default: int, *, minimum: int | None = None,
              maximum: int | None = None) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise invalid("query", name, "Input should be a valid integer, unable to parse string "
                      "as an integer", "int_parsing", raw) from None
    if minimum is not None and value < minimum:
        raise invalid("query", name, f"Input should be greater than or equal to {minimum}",
                      "greater_than_equal", raw)
    if maximum is not None and value > maximum:
        raise invalid("query", name, f"Input should be less than or equal to {maximum}",
                      "less_than_equal", raw)
    return value


def query_str(request: Request, name: str, default: str | None = None) -> str | None:
    return request.query_params.get(name, default)


@dataclass(frozen=True)
class PageParams:
    page: int
    page_size: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size

    @classmethod
    def from_request(cls, request: Request, default_page_size: int = 20,
                     max_page_size: int = 100) -> PageParams:
        return cls(
            page=query_int(request, "page", 1, minimum=1, maximum=10_000_000),
            page_size=query_int(request, "page_size", default_page_size, minimum=1,
                                maximum=max_page_size),
        )
