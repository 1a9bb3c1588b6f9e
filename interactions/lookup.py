"""Drug search for ``ListDrugs``: finds what a check resolves, and close matches for a typo.

A query is tried, in order, as a name the resolver knows (generic, brand, brand with strength
``Norco 10/325``, ``rxcui:NNNN`` of an ingredient or a product, a bare product code), as a brand
sold in several strengths (``Norco``: every ingredient of its products), as text contained in an
entry's searchable key (name, brands, synonyms, classes, RxCUI), and last as a close match.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from regimenguard.interactions.resolver import NameResolver

T = TypeVar("T")


class DrugLookup:
    """Searches listing entries ``(searchable key, entry)`` by what the resolver knows."""

    def __init__(self, resolver: NameResolver) -> None:
        self._resolver = resolver

    def ingredients(self, query: str) -> tuple[str, ...]:
        """The ingredients a query names, as a check would resolve it; () if none."""
        text = query.strip()
        if not text:
            return ()
        for candidate in (text, f"rxcui:{text}" if text.isdigit() else ""):
            match = self._resolver.resolve(candidate) if candidate else None
            if match is not None:
                return tuple(name for name, _ in match.ingredients)
        return ()

    def search(
        self,
        query: str,
        entries: Sequence[T],
        *,
        key_of: Callable[[T], str],
        name_of: Callable[[T], str],
    ) -> list[T]:
        """Entries the query finds, in listing order; close matches when nothing else does.

        ``key_of`` gives an entry's casefolded searchable text, ``name_of`` its ingredient name.
        """
        key = query.strip().casefold()
        if not key:
            return list(entries)
        named = set(self.ingredients(query))
        found = [entry for entry in entries if key in key_of(entry) or name_of(entry) in named]
        if found:
            return found
        close = {
            ingredient
            for suggestion in self._resolver.suggest(query)
            for ingredient in self.ingredients(suggestion)
        }
        return [entry for entry in entries if name_of(entry) in close]
