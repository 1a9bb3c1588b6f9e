"""The number and list texts every finding message is built from (regimenguard.regimen.rules.base).

``amount`` and ``times_a_day`` take shortcuts around Python's slow float formatting; whatever
the value, their text must be the one the format specs give (``{:,.0f}`` for a whole amount,
``{:,.2f}`` less trailing zeros otherwise, ``{:g}`` for a count), or answers change.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from regimenguard.regimen.rules.base import amount, join, times_a_day


def _amount_by_format(value: float, unit: str = "mg") -> str:
    whole = -1e-9 < value - round(value) < 1e-9
    text = f"{value:,.0f}" if whole else f"{value:,.2f}".rstrip("0")
    return f"{text} {unit}" if unit else text


def _times_by_format(doses_per_day: float) -> str:
    if doses_per_day == 1:
        return "once a day"
    if doses_per_day == 2:
        return "twice a day"
    return f"{doses_per_day:g} times a day"


def test_amounts_as_prescribers_read_them() -> None:
    assert amount(3900) == "3,900 mg"
    assert amount(4000.0) == "4,000 mg"
    assert amount(325.0) == "325 mg"
    assert amount(7.5) == "7.5 mg"
    assert amount(1234.56) == "1,234.56 mg"
    assert amount(1_500_000.0) == "1,500,000 mg"
    assert amount(22.5, "MME") == "22.5 MME"
    assert amount(90, "") == "90"
    assert amount(999.9999999999) == "1,000 mg"  # within 1e-9 of a whole number
    assert amount(0.0) == "0 mg"


@given(
    st.one_of(
        st.floats(min_value=-2e6, max_value=2e7, allow_nan=False),
        st.integers(min_value=0, max_value=10**7).map(float),
        st.integers(min_value=0, max_value=10**7).map(lambda n: n / 8),
        st.sampled_from([-0.0, 1e-10, -1e-10, 998.999, 999.0, 999.995, 999999.9999999999]),
    ),
    st.sampled_from(["mg", "MME", "mcg/h", ""]),
)
def test_amount_is_its_format(value: float, unit: str) -> None:
    assert amount(value, unit) == _amount_by_format(value, unit)


def test_times_a_day() -> None:
    assert times_a_day(1) == "once a day"
    assert times_a_day(2.0) == "twice a day"
    assert times_a_day(4.0) == "4 times a day"
    assert times_a_day(0.5) == "0.5 times a day"
    assert times_a_day(1e6) == "1e+06 times a day"


@given(
    st.one_of(
        st.floats(min_value=-10, max_value=2e6, allow_nan=False),
        st.integers(min_value=0, max_value=2 * 10**6).map(float),
        st.integers(min_value=-5, max_value=50),
    )
)
def test_times_a_day_is_its_format(doses_per_day: float) -> None:
    assert times_a_day(doses_per_day) == _times_by_format(doses_per_day)


def test_join() -> None:
    assert join([]) == ""
    assert join(("ibuprofen",)) == "ibuprofen"
    assert join(["ibuprofen", "naproxen"]) == "ibuprofen and naproxen"
    assert join(["a", "b", "c"], "or") == "a, b or c"
    assert join(name for name in ("a", "b")) == "a and b"  # type: ignore[arg-type]
