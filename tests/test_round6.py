"""regimenguard.regimen.resolution.round6: exactly ``round(value, 6)``, float for float.

Every amount of a resolved ingredient is rounded to six places; ``round6`` takes a shortcut
for most values and must give the very same float as ``round`` for every value: amounts of
every magnitude, values a few units in the last place from a six-decimal number or from
half-way between two, exact ties (odd multiples of 1/128 are half-way at the sixth place),
and the values it leaves to ``round`` (zero, negative, huge, NaN, infinite, integers).
"""

from __future__ import annotations

import math
import random
import struct

from regimenguard.regimen.resolution import round6


def _same(value: float) -> bool:
    got, want = round6(value), round(value, 6)
    if isinstance(want, float) and math.isnan(want):
        return isinstance(got, float) and math.isnan(got)
    return type(got) is type(want) and struct.pack("<d", got) == struct.pack("<d", want)


def _ulps_around(value: float, count: int = 3) -> list[float]:
    around = [value]
    below = above = value
    for _ in range(count):
        below, above = math.nextafter(below, -math.inf), math.nextafter(above, math.inf)
        around += [below, above]
    return around


def test_round6_is_round_to_six_places_for_amounts_of_every_magnitude() -> None:
    rng = random.Random(20261202)
    values = [10 ** rng.uniform(-12, 12) for _ in range(100_000)]
    values += [rng.uniform(0, 5000) for _ in range(100_000)]
    values += [
        rng.randrange(1, 10**8) / 1e6 * rng.choice((1, 3, 0.9091, 24 / 1000)) for _ in range(50_000)
    ]
    assert all(_same(value) for value in values)


def test_round6_near_six_decimal_numbers_and_half_way_between_them() -> None:
    rng = random.Random(7)
    values = []
    for _ in range(5_000):
        k = rng.randrange(0, 10**11)
        values += _ulps_around(k / 1e6) + _ulps_around((k + 0.5) / 1e6)
    for k in range(1, 2_000):  # exact ties: odd / 128 is k + 0.5 millionths exactly
        values += _ulps_around((2 * k + 1) / 128)
    assert all(_same(value) for value in values)
    assert round6(0.0078125) == 0.007812 and round6(0.0234375) == 0.023438  # half to even


def test_round6_leaves_what_it_cannot_shortcut_to_round() -> None:
    values = [0.0, -0.0, -1.2345678, 1e11, 1e11 + 0.5, 1e15, 1e300, 5e-324]
    values += [math.inf, -math.inf, math.nan]
    assert all(_same(value) for value in values)
    assert round6(600) == 600 and type(round6(600)) is int  # an int stays an int, as round's
    assert round6(600.0000004) == 600.0 and round6(5.0250070000000004) == 5.025007
