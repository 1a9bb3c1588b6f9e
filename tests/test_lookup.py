"""regimenguard.interactions.lookup: drug search finds what a check resolves."""

from __future__ import annotations

import pytest

from regimenguard.interactions.lookup import DrugLookup


@pytest.fixture(scope="module")
def lookup(knowledge) -> DrugLookup:  # type: ignore[no-untyped-def]
    return DrugLookup(knowledge.resolver)


@pytest.fixture(scope="module")
def entries(knowledge) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return [(i.name.casefold(), i.name) for i in knowledge.data.ingredients]


def search(lookup: DrugLookup, entries: list[tuple[str, str]], query: str) -> list[str]:
    found = lookup.search(query, entries, key_of=lambda e: e[0], name_of=lambda e: e[1])
    return [name for _, name in found]


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ("Norco", {"acetaminophen", "hydrocodone"}),
        ("Norco 10/325", {"acetaminophen", "hydrocodone"}),
        ("rxcui:856999", {"acetaminophen", "hydrocodone"}),
        ("856999", {"acetaminophen", "hydrocodone"}),
        ("Tylenol ES", {"acetaminophen"}),
        ("Duragesic", {"fentanyl"}),
    ],
)
def test_finds_what_a_check_resolves(lookup, entries, query: str, names: set[str]) -> None:  # type: ignore[no-untyped-def]
    assert set(search(lookup, entries, query)) == names


def test_a_typo_gets_close_matches(lookup, entries) -> None:  # type: ignore[no-untyped-def]
    found = search(lookup, entries, "tizanidne")
    assert "tizanidine" in found and len(found) <= 3


def test_text_matches_keep_listing_order(lookup, entries) -> None:  # type: ignore[no-untyped-def]
    found = search(lookup, entries, "codone")
    assert {"hydrocodone", "oxycodone"} <= set(found)
    assert found == sorted(found, key=[name for _, name in entries].index)


def test_empty_query_lists_everything_and_nonsense_nothing(lookup, entries) -> None:  # type: ignore[no-untyped-def]
    assert len(search(lookup, entries, "")) == len(entries)
    assert search(lookup, entries, "zzzz-not-a-drug-qqq") == []
