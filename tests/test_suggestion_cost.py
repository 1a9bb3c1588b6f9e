"""Cost per request is bounded: close matches are searched for the first few unknown names of a
request only, and each search compares the name with a small part of the known names."""

from __future__ import annotations

import pytest

from regimenguard.interactions.resolver import (
    SUGGESTED_NAMES_PER_REQUEST,
    NameResolver,
    normalize_name,
)
from regimenguard.regimen.knowledge import Knowledge
from regimenguard.regimen.model import IngredientDose, MedicationOrder

UNKNOWN = "UNKNOWN_DRUG"


def unknown_findings(result):  # type: ignore[no-untyped-def]
    return [finding for finding in result.findings if finding.rule_id == UNKNOWN]


ORDERS, NAMES_PER_ORDER = 100, 20  # the request limits: 2,000 unknown names in one request


@pytest.fixture
def searches(knowledge: Knowledge, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every close-match search the resolver runs (the memo answers repeats without one)."""
    resolver = knowledge.resolver
    seen: list[str] = []
    original = NameResolver._close_matches

    def counting(self: NameResolver, key: str) -> tuple[str, ...]:
        seen.append(key)
        return original(self, key)

    monkeypatch.setattr(NameResolver, "_close_matches", counting)
    assert resolver is knowledge.resolver
    return seen


def test_2000_unknown_names_cost_at_most_a_few_searches(check, searches: list[str]) -> None:  # type: ignore[no-untyped-def]
    orders = [
        MedicationOrder(
            "",
            ingredients=tuple(
                IngredientDose(f"ibuprofin-{n}-{i}", 10.0) for i in range(NAMES_PER_ORDER)
            ),
            doses_per_day=1,
        )
        for n in range(ORDERS)
    ]
    findings = unknown_findings(check(*orders))
    names = [name for finding in findings for name in finding.drugs]
    assert len(names) == ORDERS * NAMES_PER_ORDER  # every unknown name is still reported
    assert len(searches) == SUGGESTED_NAMES_PER_REQUEST
    with_suggestions = [f for f in findings if "Did you mean" in f.recommendation]
    assert len(with_suggestions) == SUGGESTED_NAMES_PER_REQUEST
    # The rest still say how to name the drug.
    assert all("rxcui" in f.recommendation for f in findings)


def test_a_search_compares_with_a_small_share_of_the_known_names(knowledge: Knowledge) -> None:
    resolver = knowledge.resolver
    known = resolver._display_keys
    for typed in ("ibuprofin", "tizanadine", "cymbalt", "hydrocodone 10/300"):
        candidates = resolver.candidates(normalize_name(typed))
        assert 0 < len(candidates) <= len(known) // 5, (typed, len(candidates), len(known))
    assert resolver.candidates("x" * 65) == ()  # longer than any known name: no search


def test_suggestions_still_found_within_the_cap(check) -> None:  # type: ignore[no-untyped-def]
    findings = unknown_findings(
        check(
            MedicationOrder("ibuprofin", 400, doses_per_day=3),
            MedicationOrder("tizanadine", 2, doses_per_day=3),
        )
    )
    advice = " ".join(f.recommendation for f in findings)
    assert "ibuprofen" in advice and "tizanidine" in advice
