"""Which ingredient a substance name is, and how its stated weight counts (salts).

A substance is what a product or an order names: ``naproxen sodium``, ``hydrocodone bitartrate``,
``APAP``, ``oxycodone HCl``. It resolves to an ingredient of the knowledge base plus the factor
that turns the stated weight into the weight the knowledge base counts (salts.csv): 550 mg of
naproxen sodium counts as 500 mg of naproxen. A salt word without a row of its own
(``hydrochloride``, ``bitartrate``, ...: salt_words.csv) keeps the weight as labelled, which is
how the labels and the CDC conversion factors state those drugs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType


@dataclass(frozen=True, slots=True)
class Substance:
    """An ingredient as named, with the salt (if any) whose weight a strength states."""

    ingredient: str
    salt: str = ""  # e.g. "naproxen sodium"; empty when the weight is the ingredient's own
    factor: float = 1.0  # counted mg of the ingredient per stated mg


def fold(text: str) -> str:
    return " ".join(text.casefold().split())


class SubstanceNames:
    """Ingredient names, synonyms and salts, looked up case- and spacing-insensitively."""

    def __init__(
        self,
        ingredients: Iterable[str],
        synonyms: Mapping[str, str],
        salts: Mapping[str, tuple[str, float]],
        salt_words: Iterable[str],
    ) -> None:
        names: dict[str, Substance] = {}
        for name in ingredients:
            names[fold(name)] = Substance(name)
        for salt, (ingredient, factor) in salts.items():
            names[fold(salt)] = Substance(ingredient, salt if factor != 1 else "", factor)
        for synonym, target in synonyms.items():
            key = fold(target)
            if key in names:
                names.setdefault(fold(synonym), names[key])
        self._names: Mapping[str, Substance] = MappingProxyType(names)
        self._salt_words = frozenset(fold(word) for word in salt_words)

    def resolve(self, text: str) -> Substance | None:
        """The substance a name stands for, or None.

        ``oxycodone hydrochloride`` is oxycodone (weight as labelled) unless salts.csv gives
        the salt a factor of its own.
        """
        key = fold(text)
        found = self._names.get(key)
        if found is not None:
            return found
        words = key.split(" ")
        while len(words) > 1 and words[-1] in self._salt_words:
            words.pop()
            found = self._names.get(" ".join(words))
            if found is not None:
                return found
        return None

    def known(self, text: str) -> bool:
        return self.resolve(text) is not None
