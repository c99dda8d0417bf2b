"""JSON parsing that reports malformed bodies as the contract's 422 ``json_invalid`` item.

Beyond syntax, a body is refused (422) when no database could store it or it could cost a 500
later: ``NaN``/``Infinity`` (Python's parser accepts them, JSON and PostgreSQL do not), strings
with NUL or lone surrogates, and nesting deeper than ``MAX_JSON_DEPTH`` levels (serialising and
storing very deep values recurses; the SDK's task parameters nest a few levels per dependency).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from rest_framework.parsers import JSONParser

from stardag_site.api.errors import RequestValidationError, validation_item

# Containers nested deeper than this are refused. The body itself is level 1. A chain of
# dependent SDK tasks nests its parameters about two levels per dependency, so 256 leaves room
# for DAGs over a hundred tasks deep while staying far from Python's recursion limit.
MAX_JSON_DEPTH = 256


class _NonFinite:
    """Placeholder for a ``NaN``/``Infinity`` literal, so the walk can report where it was."""

    def __init__(self, literal: str) -> None:
        self.literal = literal


class StrictJSONParser(JSONParser):
    def parse(self, stream: Any, media_type: str | None = None,
              parser_context: Mapping[str, Any] | None = None) -> Any:
        raw = stream.read() if stream is not None else b""
        if not raw or not raw.strip():
            return None
        try:
            data = json.loads(raw.decode("utf-8"), parse_constant=_NonFinite)
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
                [validation_item(["body"], _TOO_DEEP[0], _TOO_DEEP[1], None, with_input=False)]
            ) from exc
        problem = _find_unstorable(data)
        if problem is not None:
            path, msg, type_ = problem
            raise RequestValidationError(
                [validation_item(["body", *path], msg, type_, None, with_input=False)]
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


_BAD_TEXT = ("Input should be text without NUL characters or unpaired surrogates", "string_type")
_TOO_DEEP = (f"JSON nesting is too deep: at most {MAX_JSON_DEPTH} levels are accepted",
             "json_invalid")


def _find_unstorable(data: Any) -> tuple[list[str | int], str, str] | None:
    """``(path, msg, type)`` of the first value no database can store, else ``None``.

    Iterative, so nesting depth cannot crash it; a container at path length ``n`` is level
    ``n + 1``.
    """
    stack: list[tuple[Any, list[str | int]]] = [(data, [])]
    while stack:
        value, path = stack.pop()
        if isinstance(value, str):
            if not _storable(value):
                return (path, *_BAD_TEXT)
        elif isinstance(value, _NonFinite):
            return (path, f"JSON does not allow {value.literal}: numbers must be finite",
                    "json_invalid")
        elif isinstance(value, dict | list) and len(path) >= MAX_JSON_DEPTH:
            return (path[:MAX_JSON_DEPTH], *_TOO_DEEP)
        elif isinstance(value, dict):
            for key, item in value.items():
                if not _storable(key):
                    return (path, *_BAD_TEXT)
                stack.append((item, [*path, key]))
        elif isinstance(value, list):
            stack.extend((item, [*path, index]) for index, item in enumerate(value))
    return None
