"""The API's JSON renderer: DRF's output, produced by orjson.

Rendering with the standard library took a large share of the CPU of list endpoints (a
1,000-task build is ~1 MB of JSON); orjson does the same work in a fraction of the time. The
bytes mean the same JSON as DRF's ``JSONRenderer`` with this project's settings (UTF-8, compact,
``\\u2028``/``\\u2029`` escaped, datetimes and other non-JSON types through DRF's encoder); only
the spelling of some floats can differ (``1e-05`` becomes ``1e-5``). Whatever orjson refuses
(an integer beyond 64 bits, a type DRF's encoder turns into something else) and pretty-printing
on request (``Accept: application/json; indent=4``) fall back to DRF's renderer.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import orjson
from rest_framework.renderers import JSONRenderer
from rest_framework.utils.encoders import JSONEncoder

_OPTIONS = (orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME
            | orjson.OPT_PASSTHROUGH_DATACLASS)


_encoder = JSONEncoder()


def _default(value: Any) -> Any:
    return _encoder.default(value)


def dumps(data: Any) -> bytes:
    """Compact UTF-8 JSON of ``data`` as DRF would render it (raises ``TypeError`` or
    ``orjson.JSONEncodeError`` where orjson cannot)."""
    rendered = orjson.dumps(data, default=_default, option=_OPTIONS)
    if b"\xe2\x80\xa8" in rendered or b"\xe2\x80\xa9" in rendered:
        rendered = rendered.replace(b"\xe2\x80\xa8", b"\\u2028").replace(b"\xe2\x80\xa9",
                                                                         b"\\u2029")
    return rendered


class FastJSONRenderer(JSONRenderer):
    def render(self, data: Any, accepted_media_type: str | None = None,
               renderer_context: Mapping[str, Any] | None = None) -> bytes:
        if data is None:
            return b""
        try:
            rendered = dumps(data)
        except (TypeError, orjson.JSONEncodeError):
            return super().render(data, accepted_media_type, renderer_context)
        if self.get_indent(accepted_media_type or "", renderer_context or {}) is None:
            return rendered
        # Pretty-printing on request: DRF's renderer, from the parsed compact JSON (so stored
        # JSON embedded as ``orjson.Fragment`` by list bodies is printed too).
        return super().render(json.loads(rendered), accepted_media_type, renderer_context)
