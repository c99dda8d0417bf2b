"""The ``filter`` grammar (contract §7.1) as a pure parser: no database involved."""

from __future__ import annotations

import pytest

from tasks.search.expressions import containment_candidates, sqlite_path
from tasks.search.grammar import Clause, PathStep, parse_filter, parse_path, split_clause


@pytest.mark.parametrize(("text", "expected"), [
    ("task_name:x", ("task_name", "=", "x")),
    ("task_name:=:x", ("task_name", "=", "x")),
    ("task_name:!=:x", ("task_name", "!=", "x")),
    ("created_at:>=:2026-01-01T10:00:00Z", ("created_at", ">=", "2026-01-01T10:00:00Z")),
    ("created_at:2026-01-01T10:00:00Z", ("created_at", "=", "2026-01-01T10:00:00Z")),
    ("task_name:=x", ("task_name", "=", "=x")),
    ("task_name:a:b:c", ("task_name", "=", "a:b:c")),
    ("task_name:~:", ("task_name", "~", "")),
    ("task_name:==:x", ("task_name", "==", "x")),
    ("  task_name  :  ~:  x  ", ("task_name", "~", "x")),
    ("task_name:~ :x", ("task_name", "=", "~ :x")),
    ("task_name", None),
])
def test_split_clause(text: str, expected: tuple | None) -> None:
    assert split_clause(text) == expected


def test_parse_filter_keeps_understood_clauses_in_order() -> None:
    clauses = parse_filter("status:RUNNING,, bogus:1,param.a.b[2].c:>:3,asset.m.x:~:y,"
                           "task_name:==:z,status:>:a")
    assert clauses == [
        Clause("core", "status", "=", "running"),
        Clause("param", "param", ">", "3",
               (PathStep("a"), PathStep("b", 2), PathStep("c"))),
        Clause("asset", "asset", "~", "y", (PathStep("x"),), "m"),
    ]


@pytest.mark.parametrize("text", [
    "", "a..b", ".a", "a.", "a-b", "a[", "a[x]", "a[1][2]", "a[]", "[0]", "a b", "ä",
    "a[1234567890]", ".".join(["a"] * 33),
])
def test_invalid_paths(text: str) -> None:
    assert parse_path(text) is None


def test_valid_paths() -> None:
    assert parse_path("__name") == (PathStep("__name"),)
    assert parse_path("x[0].Y_1.2") == (PathStep("x", 0), PathStep("Y_1"), PathStep("2"))
    assert sqlite_path(parse_path("x[0].2")) == '$."x"[0]."2"'


@pytest.mark.parametrize(("value", "expected"), [
    ("hello", ["hello"]),
    ("true", ["true", True]),
    ("5", ["5", 5]),
    ("-0.5", ["-0.5", -0.5]),
    ("1e3", ["1e3", 1000.0]),
    ("0.1000000000000000000001", None),
    ("NaN", ["NaN"]),
    ("Infinity", ["Infinity"]),
    ("1e999", None),
    ('"quoted"', ['"quoted"']),
    ("{}", None),
    ("[1]", None),
    ("null", ["null"]),
])
def test_containment_candidates_cover_every_json_value_rendering_as_the_text(
    value: str, expected: list | None
) -> None:
    assert containment_candidates(value) == expected
