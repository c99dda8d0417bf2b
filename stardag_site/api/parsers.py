"""JSON parsing that reports malformed bodies as the contract's 422 ``json_invalid`` item."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from rest_framework.parsers import JSONParser

from stardag_site.api.errors import RequestValidationError, validation_item


class StrictJSONParser(JSONParser):
    def parse(self, stream: Any, media_type: str | None = None,
              parser_context: Mapping[str, Any] | None = None) -> Any:
        raw = stream.read() if stream is not None else b""
        if not raw or not raw.strip():
            return None
        try:
            data = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise RequestValidationError(
                [validation_item(["body", exc.start], "Body is not valid UTF-8", "json_invalid",
                                 None, with_input=False)]
            ) from exc
        except json.JSONDecodeError as exc:
            raise RequestValidationError(
                [validation_item(["body", exc.pos], f"JSON decode error: {exc.msg}",
                                 "json_invalid", {}, with_input=False)]
            ) from exc
        except RecursionError as exc:
            raise RequestValidationError(
                [validation_item(["body"], "JSON nesting is too deep", "json_invalid", None,
                                 with_input=False)]
            ) from exc
        bad_at = _find_unstorable(data)
        if bad_at is not None:
            raise RequestValidationError(
                [validation_item(["body", *bad_at], "Input should be text without NUL characters "
                                 "or unpaired surrogates", "string_type", None, with_input=False)]
            )
        return data


def _storable(text: str) -> bool:
    """No database text can hold NUL (PostgreSQL rejects it in text and jsonb) or a lone UTF-16
    surrogate (not encodable as UTF-8), so such strings are refused at parse time."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _find_unstorable(data: Any) -> list[str | int] | None:
    """Path of the first unstorable string or key; iterative, so nesting depth cannot crash it."""
    stack: list[tuple[Any, list[str | int]]] = [(data, [])]
    while stack:
        value, path = stack.pop()
        if isinstance(value, str):
            if not _storable(value):
                return path
        elif isinstance(value, dict):
            for key, item in value.items():
                if not _storable(key):
                    return path
                stack.append((item, [*path, key]))
        elif isinstance(value, list):
            stack.extend((item, [*path, index]) for index, item in enumerate(value))
    return None
