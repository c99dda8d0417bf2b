"""A JSON encoder that keeps floats floats through PostgreSQL's ``jsonb``.

``jsonb`` stores numbers as ``numeric`` and prints them back without an exponent, keeping only
the decimal places the input had: ``1.7e308`` is stored from Python's text ``1.7e+308`` and comes
back as a 309-digit integer literal, which Python then reads as an ``int``. Writing every float
that Python would print with an exponent in positional notation with at least one decimal place
(``1700...000.0``) makes ``jsonb`` keep a decimal place, so it is read back as the same float.
Integers, and floats Python already prints positionally (``1.5``, ``2.0``), are written as
``json.dumps`` writes them.
"""

from __future__ import annotations

import json
import math
import re
from decimal import Decimal
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder


def float_text(value: float) -> str:
    """JSON text of a finite float that a ``numeric`` keeps as a non-integer."""
    text = repr(value)
    if "e" not in text and "E" not in text:
        return text
    positional = format(Decimal(text), "f")
    return positional if "." in positional else f"{positional}.0"


# A number in exponent notation as ``json.dumps`` writes one (``1e-05``, ``1.7e+308``).
_EXPONENT = re.compile(r"[0-9][eE][-+]?[0-9]")


class ExactFloatJSONEncoder(DjangoJSONEncoder):
    """``encoder=`` for ``JSONField``s whose numbers must round-trip with their type.

    Fast path: ``json.dumps`` (C) writes the same text as ``_parts`` unless a float needs an
    exponent, and every such float shows in its output as a digit, ``e``, a digit. Text
    without that pattern anywhere (strings included, so the test errs only towards the slow
    path) is used as is; the walk in Python, ~10x slower, runs only for the rest (issue 10: a
    registered task's ``task_data`` is encoded on every registration).
    """

    def encode(self, o: Any) -> str:
        try:
            text: str | None = json.dumps(o, cls=DjangoJSONEncoder)
        except TypeError:  # a key json.dumps refuses (a tuple, say): ``_key`` writes it
            text = None
        if text is not None and _EXPONENT.search(text) is None:
            return text
        return "".join(self._parts(o))

    def iterencode(self, o: Any, _one_shot: bool = False) -> Any:
        return iter(self._parts(o))

    def _parts(self, value: Any) -> list[str]:
        # Iterative (an explicit stack), so deep values cannot exhaust the recursion limit.
        parts: list[str] = []
        stack: list[Any] = [value]
        while stack:
            item = stack.pop()
            if isinstance(item, _Literal):
                parts.append(item.text)
            elif isinstance(item, float) and math.isfinite(item):
                parts.append(float_text(item))
            elif isinstance(item, dict):
                pending: list[Any] = [_Literal("{")]
                for index, (key, child) in enumerate(item.items()):
                    prefix = ", " if index else ""
                    pending += [_Literal(prefix + json.dumps(self._key(key)) + ": "), child]
                pending.append(_Literal("}"))
                stack.extend(reversed(pending))
            elif isinstance(item, list | tuple):
                pending = [_Literal("[")]
                for index, child in enumerate(item):
                    if index:
                        pending.append(_Literal(", "))
                    pending.append(child)
                pending.append(_Literal("]"))
                stack.extend(reversed(pending))
            else:
                parts.append(json.dumps(item, cls=DjangoJSONEncoder))
        return parts

    @staticmethod
    def _key(key: Any) -> str:
        if isinstance(key, str):
            return key
        if isinstance(key, float):
            return float_text(key)
        return json.dumps(key)


class _Literal:
    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text
