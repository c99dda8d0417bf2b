"""``ExactFloatJSONEncoder``: its fast path (``json.dumps``) writes exactly what the exact walk
writes, and leaves every float that needs an exponent to the walk."""

from __future__ import annotations

import json
import random
import uuid
from decimal import Decimal

from stardag_site.json_numbers import ExactFloatJSONEncoder

ENCODER = ExactFloatJSONEncoder()


def _walk(value: object) -> str:
    return "".join(ENCODER._parts(value))


def _random_value(rng: random.Random, depth: int = 0) -> object:
    kind = rng.randrange(9 if depth < 4 else 6)
    if kind == 0:
        return rng.choice([0, 1, -7, 10**20, True, False, None])
    if kind == 1:
        return rng.choice([0.5, -2.25, 1.0, 123456.789, 0.1, 1e15, 1e16, 1.5e-5, 1.7e308,
                           5e-324, -2.5e-7])
    if kind == 2:
        return rng.choice(["", "plain", "1e5", "x9E+3y", 'ünïcode "q"', "tab\t"])
    if kind == 3:
        return Decimal(rng.choice(["1.10", "-0.001", "3"]))
    if kind == 4:
        return uuid.UUID(int=rng.getrandbits(128))
    if kind == 5:
        return rng.uniform(-1e6, 1e6)
    if kind in (6, 7):
        return {rng.choice(["a", "b_1", "1e9", "key"]) + str(i): _random_value(rng, depth + 1)
                for i in range(rng.randrange(4))}
    return [_random_value(rng, depth + 1) for _ in range(rng.randrange(4))]


def test_fast_path_writes_what_the_exact_walk_writes() -> None:
    rng = random.Random(20261201)
    fast = slow = 0
    for _ in range(3000):
        value = {"doc": _random_value(rng)}
        text = ENCODER.encode(value)
        assert text == _walk(value)
        if json.dumps(value, default=str) == text:
            fast += 1
        else:
            slow += 1
    assert fast > 100 and slow > 100  # both paths were exercised


def test_floats_needing_an_exponent_are_written_positionally() -> None:
    text = ENCODER.encode({"big": 1.7e308, "tiny": 1.5e-5, "name": "1e5", 1.5e-7: [2.5e20]})
    assert "e" not in text.replace('"name"', "").replace('"1e5"', "")
    decoded = json.loads(text)
    assert decoded["big"] == 1.7e308 and decoded["tiny"] == 1.5e-5
    assert decoded["0.00000015"] == [2.5e20]


def test_keys_json_dumps_refuses_still_encode() -> None:
    assert ENCODER.encode({(1, 2): 1.5}) == '{"[1, 2]": 1.5}'
