"""The orjson renderer gives the JSON DRF's renderer gives (issue 10: fast JSON rendering)."""

from __future__ import annotations

import datetime
import decimal
import json
import uuid

from django.utils.functional import lazy
from rest_framework.renderers import JSONRenderer

from stardag_site.api.renderers import FastJSONRenderer


def _both(data):
    return FastJSONRenderer().render(data), JSONRenderer().render(data)


def test_same_json_for_the_types_responses_carry():
    lazy_text = lazy(lambda: "lazy text", str)()
    data = {
        "id": uuid.UUID("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"),
        "at": datetime.datetime(2025, 1, 2, 3, 4, 5, 678901, tzinfo=datetime.UTC),
        "naive": datetime.datetime(2025, 1, 2, 3, 4, 5),
        "day": datetime.date(2025, 1, 2),
        "price": decimal.Decimal("1.5"),
        "lazy": lazy_text,
        "nested": [{"a": 1, "b": [True, None, 0.1, -2, "ü"]}, {1: "int key"}],
        "separators": "line\u2028para\u2029end",
        "empty": {},
    }
    fast, reference = _both(data)
    assert json.loads(fast) == json.loads(reference)
    assert b"\\u2028" in fast and b"\\u2029" in fast  # JavaScript-safe like DRF's
    assert b'"2025-01-02T03:04:05.678901Z"' in fast  # datetimes through DRF's encoder
    assert b", " not in fast and b": " not in fast  # compact


def test_integers_beyond_64_bits_fall_back_to_drf():
    data = {"big": 2**70, "small": 1}
    fast, reference = _both(data)
    assert fast == reference


def test_indent_on_request_falls_back_to_drf():
    data = {"a": [1, 2]}
    fast = FastJSONRenderer().render(data, "application/json; indent=2")
    assert fast == JSONRenderer().render(data, "application/json; indent=2")
    assert FastJSONRenderer().render(None) == b""
