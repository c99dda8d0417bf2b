"""The task search ``filter`` grammar (contract §7.1) as plain data, with no database in sight;
layer 1 of ``tasks.search``.

``parse_filter("task_name:train,param.lr:>:0.1")`` returns the clauses the database layer turns
into ORM conditions (``conditions``). Everything that cannot be understood is dropped here,
silently, as the contract asks: empty clauses, unknown operators, unknown keys, invalid paths.
Keeping the parser pure lets it be tested exhaustively and reused by the suggestion endpoints.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Operator = Literal["=", "!=", ">", "<", ">=", "<=", "~"]
OPERATORS: frozenset[str] = frozenset({"=", "!=", ">", "<", ">=", "<=", "~"})
NUMERIC_OPERATORS: frozenset[str] = frozenset({">", "<", ">=", "<="})
STATUS_OPERATORS: frozenset[str] = frozenset({"=", "!=", "~"})

CORE_KEYS: tuple[str, ...] = (
    "task_name", "task_namespace", "task_id", "version", "created_at", "build_id", "build_name",
    "status",
)

# One path segment: a JSON object key, optionally indexing a list held by that key.
_SEGMENT = re.compile(r"([A-Za-z0-9_]+)(?:\[([0-9]{1,9})\])?")
_OPERATOR_RUN = re.compile(r"([=!<>~]+):")
MAX_PATH_SEGMENTS = 32


@dataclass(frozen=True)
class PathStep:
    """``key`` of a JSON object, then (optionally) element ``index`` of the list found there."""

    key: str
    index: int | None = None


JsonPath = tuple[PathStep, ...]


@dataclass(frozen=True)
class Clause:
    """One understood clause. ``kind`` says which of the key families of §7.1 it addresses."""

    kind: Literal["core", "param", "asset"]
    key: str  # the core key, or "param"/"asset"
    op: Operator
    value: str
    path: JsonPath = ()
    asset_name: str = ""


def parse_path(text: str) -> JsonPath | None:
    """``a.items[0].b`` → steps; ``None`` when any segment is not ``[A-Za-z0-9_]+([digits])?``."""
    segments = text.split(".")
    if not text or len(segments) > MAX_PATH_SEGMENTS:
        return None
    steps: list[PathStep] = []
    for segment in segments:
        match = _SEGMENT.fullmatch(segment)
        if match is None:
            return None
        index = match.group(2)
        steps.append(PathStep(match.group(1), int(index) if index is not None else None))
    return tuple(steps)


def split_clause(text: str) -> tuple[str, str, str] | None:
    """``key:op:value`` or ``key:value`` → (key, op, value), trimmed; ``None`` without a colon.

    The operator is recognised only as a run of ``=!<>~`` immediately followed by ``:``; in any
    other case the whole rest is the value (so values may contain ``:``) and the operator is ``=``.
    """
    key, colon, rest = text.partition(":")
    if not colon:
        return None
    rest = rest.lstrip()
    match = _OPERATOR_RUN.match(rest)
    if match is not None:
        return key.strip(), match.group(1), rest[match.end():].strip()
    return key.strip(), "=", rest.strip()


def parse_clause(text: str) -> Clause | None:
    parts = split_clause(text)
    if parts is None:
        return None
    key, op, value = parts
    if op not in OPERATORS or not key:
        return None
    if key in CORE_KEYS:
        if key == "status":
            if op not in STATUS_OPERATORS:
                return None
            value = value.lower()
        return Clause("core", key, op, value)  # type: ignore[arg-type]
    family, dot, remainder = key.partition(".")
    if not dot:
        return None
    if family == "param":
        path = parse_path(remainder)
        return Clause("param", "param", op, value, path) if path else None  # type: ignore[arg-type]
    if family == "asset":
        asset_name, dot, path_text = remainder.partition(".")
        path = parse_path(path_text) if dot else None
        if not asset_name or not path:
            return None
        return Clause("asset", "asset", op, value, path, asset_name)  # type: ignore[arg-type]
    return None


def parse_filter(text: str | None) -> list[Clause]:
    """All understood clauses of a ``filter`` string, in order, each once.

    Clauses are ANDed, so a repeat changes nothing; dropping it keeps a filter made of many
    copies of one expensive clause from costing the database anything extra.
    """
    if not text:
        return []
    clauses = (parse_clause(part) for part in text.split(","))
    return list(dict.fromkeys(clause for clause in clauses if clause is not None))
