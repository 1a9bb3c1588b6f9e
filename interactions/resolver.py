"""Resolving what a prescriber typed (generic, brand, ``rxcui:NNNN``, ``Norco 10/325``) to ingredients.

Every name the knowledge base knows is put in one dictionary at start-up, keyed by a normalized
form; resolving a name is then one normalization and one lookup. Only a name that does not
resolve pays for the close-match search that produces suggestions, and that search is kept
cheap: it compares the name only with known names that begin with the same letter and whose
length could reach the similarity cutoff (difflib's ratio is at most 2*min/(a+b)), and names
longer than ``SUGGESTION_MAX_CHARS`` get none. Callers cap how many names of one request are
searched at all (``SUGGESTED_NAMES_PER_REQUEST``).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from interactions.knowledge_base import CombinationProduct, InteractionData

_SPACES = re.compile(r"\s+")
_STRENGTH = re.compile(r"(\d+(?:\.\d+)?)\s*(?:mg)?\s*[/-]\s*(\d+(?:\.\d+)?)\s*(?:mg)?")
_DOSE_FORM = re.compile(r"\s+(?:tablets?|tabs?|caps(?:ules?)?)$")
_COMBINATION_JOINERS = ("/", "-", " and ", " with ")
SUGGESTION_LIMIT = 3
SUGGESTION_CUTOFF = 0.7
SUGGESTION_CACHE_SIZE = 4096
# Close matches for the first this many unknown names of a request; the rest get none (a
# request of 2,000 unknown names must not cost 2,000 searches).
SUGGESTED_NAMES_PER_REQUEST = 5
# No known name is longer than about 40 characters; a longer typed name gets no suggestions.
SUGGESTION_MAX_CHARS = 64


@dataclass(frozen=True, slots=True)
class NameMatch:
    """What a name stands for.

    ``ingredients`` pairs each ingredient with its mg per unit for a combination product (None for
    a single ingredient, whose amount comes from the order). ``candidates`` is set, and
    ``ingredients`` carry no amounts, when the name is a brand sold in several strengths.
    """

    ingredients: tuple[tuple[str, float | None], ...]
    product: str = ""
    candidates: tuple[str, ...] = ()

    @property
    def is_ambiguous(self) -> bool:
        return bool(self.candidates)

    @property
    def is_combination(self) -> bool:
        return len(self.ingredients) > 1


def normalize_name(text: str) -> str:
    """Case, spacing and strength notation folded: ``NORCO 10 / 325 mg tab`` -> ``norco 10/325``."""
    key = _SPACES.sub(" ", text.strip().casefold())
    key = _STRENGTH.sub(r"\1/\2", key)
    return _DOSE_FORM.sub("", key)


class NameResolver:
    """Case-insensitive name lookup over ingredients, aliases, RxCUIs and combination products."""

    def __init__(self, data: InteractionData) -> None:
        names: dict[str, NameMatch] = {}
        display: dict[str, str] = {}

        def add(name: str, match: NameMatch, *, shown: bool = True) -> None:
            key = normalize_name(name)
            names[key] = match
            if shown:
                display.setdefault(key, name)

        for ingredient in data.ingredients:
            match = NameMatch(((ingredient.name, None),))
            add(ingredient.name, match)
            if ingredient.rxcui:
                add(f"rxcui:{ingredient.rxcui}", match, shown=False)
        for alias in data.aliases:
            add(alias.alias, NameMatch(((alias.ingredient, None),)))

        strengths_by_name: dict[str, list[CombinationProduct]] = {}
        for product in data.products:
            match = NameMatch(product.ingredients, product=product.product)
            add(product.product, match, shown=False)
            add(f"rxcui:{product.rxcui}", match, shown=False)
            for name in product.extra_names:
                add(name, match)
            for name in (*product.brands, *_generic_names(product)):
                add(f"{name} {product.strength}", match, shown=name in product.brands)
                strengths_by_name.setdefault(name, []).append(product)
        for name, products in strengths_by_name.items():
            if len(products) == 1:
                add(name, NameMatch(products[0].ingredients, product=products[0].product))
            else:
                candidates = tuple(f"{name} {p.strength}" for p in products)
                ingredients = tuple((ingredient, None) for ingredient, _ in products[0].ingredients)
                add(name, NameMatch(ingredients, candidates=candidates), shown=False)

        self._names: Mapping[str, NameMatch] = MappingProxyType(names)
        self._display: Mapping[str, str] = MappingProxyType(display)
        self._display_keys: tuple[str, ...] = tuple(display)
        by_initial: dict[str, list[str]] = {}
        for key in display:
            by_initial.setdefault(key[:1], []).append(key)
        self._by_initial: Mapping[str, tuple[str, ...]] = MappingProxyType(
            {initial: tuple(keys) for initial, keys in by_initial.items()}
        )
        self._suggestions: dict[str, tuple[str, ...]] = {}

    def resolve(self, text: str) -> NameMatch | None:
        """The match for a name, or None when the knowledge base does not know it."""
        match = self._names.get(text.casefold())
        return match if match is not None else self._names.get(normalize_name(text))

    def suggest(self, text: str) -> tuple[str, ...]:
        """Known names close to an unknown one, best first (memoized: the names never change)."""
        key = normalize_name(text)
        suggestions = self._suggestions.get(key)
        if suggestions is None:
            if len(self._suggestions) >= SUGGESTION_CACHE_SIZE:
                self._suggestions.clear()
            suggestions = self._suggestions[key] = self._close_matches(key)
        return suggestions

    def candidates(self, key: str) -> tuple[str, ...]:
        """The known names a close-match search for ``key`` compares it with: same first
        letter, and a length that can reach SUGGESTION_CUTOFF."""
        if not key or len(key) > SUGGESTION_MAX_CHARS:
            return ()
        cutoff = SUGGESTION_CUTOFF
        shortest = len(key) * cutoff / (2 - cutoff)
        longest = len(key) * (2 - cutoff) / cutoff
        return tuple(k for k in self._by_initial.get(key[:1], ()) if shortest <= len(k) <= longest)

    def _close_matches(self, key: str) -> tuple[str, ...]:
        candidates = self.candidates(key)
        close = difflib.get_close_matches(
            key, candidates, n=SUGGESTION_LIMIT, cutoff=SUGGESTION_CUTOFF
        )
        if not close and len(key) <= SUGGESTION_MAX_CHARS:
            # "hydrocodone 10/300", "norco 10": fall back to the name without its strength.
            stem = key.split(" ")[0]
            close = [k for k in self._by_initial.get(key[:1], ()) if k.startswith(stem + " ")]
            close = close[:SUGGESTION_LIMIT]
        return tuple(self._display[k] for k in close)


def _generic_names(product: CombinationProduct) -> tuple[str, ...]:
    """``hydrocodone/acetaminophen``, ``hydrocodone-acetaminophen``, ... for a two-part product."""
    parts = [name for name, _ in product.ingredients]
    return tuple(joiner.join(parts) for joiner in _COMBINATION_JOINERS)
