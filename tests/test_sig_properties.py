"""Whatever is typed, the sig reader answers with a reading or a SigParseError quoting the
order, never another exception, and a reading's numbers are finite and not negative."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from regimenguard.regimen.sig import SigParseError, read_sig
from regimenguard.regimen.sig.knowledge_catalog import KnowledgeCatalog

TOKENS = [
    "Norco",
    "10/325",
    "Tylenol",
    "ES",
    "Duragesic",
    "Voltaren",
    "gel",
    "Lidoderm",
    "fentanyl",
    "ibuprofen",
    "400",
    "mg",
    "0",
    "1-2",
    "2",
    "tabs",
    "tab",
    "patch",
    "25",
    "mcg",
    "mcg/h",
    "q4-6h",
    "q6h",
    "q0h",
    "q72h",
    "bid",
    "tid",
    "t.i.d.",
    "prn",
    "pain",
    "max",
    "8/day",
    "0/day",
    "max",
    "0",
    "g/day",
    "x",
    "7",
    "days",
    "for",
    "0",
    "days",
    "12h",
    "on",
    "12h",
    "off",
    "0h",
    "1%",
    "0%",
    "g",
    "4",
    "g",
    "(",
    ")",
    ",",
    ";",
    ":",
    "then",
    "and",
    "to",
    "lower",
    "back",
    "with",
    "food",
    "start",
    "stop",
    "increase",
    "from",
    "1/2",
    "#",
    "#30",
    "qam",
    "qhs",
    "in",
    "each",
    "nostril",
    "spray",
    "every",
    "0",
    "hours",
    "weekly",
    "5-10",
    "mg",
    "10-5",
    "mg",
    "ER",
    "rxcui:856999",
    "1",
    "or",
    "2",
    "1e9",
    "999999999999",
    "mg/day",
    "x",
    "0",
    "weeks",
]


@pytest.fixture(scope="module")
def catalog(knowledge) -> KnowledgeCatalog:  # type: ignore[no-untyped-def]
    return KnowledgeCatalog(knowledge)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(words=st.lists(st.sampled_from(TOKENS), min_size=1, max_size=10), noise=st.text(max_size=6))
def test_any_text_is_read_or_refused_in_its_words(catalog, words: list[str], noise: str) -> None:  # type: ignore[no-untyped-def]
    text = " ".join(words) + noise
    try:
        reading = read_sig(text, catalog)
    except SigParseError as error:
        assert str(error).startswith(("could not read", "no frequency in"))
        return
    order = reading.order
    for value in (
        order.dose_mg,
        order.doses_per_day,
        order.rate_mcg_per_hour,
        order.units_per_dose,
    ):
        assert math.isfinite(value) and value >= 0
