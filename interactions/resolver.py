"""Resolving what a prescriber typed or a system sent to ingredients and per-unit amounts.

Names the knowledge base lists (generic names, brands, salts, ``rxcui:NNNN``, ``ndc:NNNN`` from a
site crosswalk, RxNorm product names, ``Norco 10/325``, ``Tylenol ES``) are put in one dictionary
at start-up, keyed by a normalized form; resolving such a name is one normalization and one
lookup. A name not listed is then read by two grammars, both pure string work: RxNorm's
normalized names (``acetaminophen 325 MG / oxycodone hydrochloride 5 MG Oral Tablet``) and
combination names as people write them (``hydrocodone/APAP 10/325``, ``acetaminophen-codeine
300/30``). Only a name that still does not resolve pays for the close-match search.

The close-match search is kept cheap: it compares the name only with known names that begin
with the same letter and whose length could reach the similarity cutoff (difflib's ratio is at
most 2*min/(a+b)), and names longer than ``SUGGESTION_MAX_CHARS`` get none. Callers cap how
many names of one request are searched at all (``SUGGESTED_NAMES_PER_REQUEST``).
"""

from __future__ import annotations

import difflib
import itertools
import re
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import NamedTuple

from regimenguard.interactions.datafile import DataError
from regimenguard.interactions.knowledge_base import InteractionData
from regimenguard.interactions.products import Product, product_from_name
from regimenguard.interactions.rxnorm_names import parse_rxnorm_name
from regimenguard.interactions.substances import Substance, SubstanceNames

_SPACES = re.compile(r"\s+")
_STRENGTH = re.compile(r"(\d+(?:\.\d+)?)(?:\s*mg)?\s*[/-]\s*(\d+(?:\.\d+)?)(?:\s*mg)?")
_DOSE_FORM = re.compile(r"\s+(?:tablets?|tabs?|caps(?:ules?)?)$")
_SLASHED = re.compile(r"\d\s*(?:mg)?\s*[/-]")


def _slashed(match: re.Match[str]) -> str:
    return f"{match[1]}/{match[2]}"


_FORM_WORDS = ("tablet", "tablets", "tab", "tabs", "cap", "caps", "capsule", "capsules")
_NUMBER = r"\d+(?:\.\d+)?"
# "hydrocodone/APAP 10/325mg tab", "acetaminophen-codeine 300/30", "APAP/codeine 300 mg/30 mg"
_WRITTEN_COMBINATION = re.compile(
    rf"^(?P<names>[a-z][a-z0-9 .'&/+-]*?[a-z.])"
    rf"(?:\s*(?P<strengths>{_NUMBER}(?:\s*mg)?(?:\s*[/-]\s*{_NUMBER}(?:\s*mg)?)*))?"
    rf"(?:\s+(?:tablets?|tabs?|caps(?:ules?)?|oral tablet))?$"
)
_JOINERS = re.compile(r"\s*(?:/|\+|-| and | with | & )\s*")
_NUMBERS = re.compile(_NUMBER)
SUGGESTION_LIMIT = 3
SUGGESTION_CUTOFF = 0.7
# Close matches for the first this many unknown names of a request; the rest get none (a
# request of 2,000 unknown names must not cost 2,000 searches).
SUGGESTED_NAMES_PER_REQUEST = 5
# No known name is longer than about 40 characters; a longer typed name gets no suggestions.
SUGGESTION_MAX_CHARS = 64


# A name match not looked up yet: a caller that has one passes it on, one that has not passes
# this, and the callee looks the name up itself (regimen resolution and validation).
LOOK_UP = object()


class NameMatch(NamedTuple):
    """What a name stands for.

    ``ingredients`` pairs each ingredient with its counted mg per unit of a product (None when the
    amount comes from the order, or is a rate). ``candidates`` is set, and ``ingredients`` carry no
    amounts, when the name is a brand or combination sold in several strengths. For a product,
    ``rates`` holds each ingredient's delivery rate in mcg/h per unit (transdermal systems),
    ``route`` and ``extended_release`` what its dose form says. ``salts`` and ``factors`` say, per
    ingredient, which salt a stated weight is of and how it counts (550 mg naproxen sodium counts
    as 500 mg naproxen).
    """

    ingredients: tuple[tuple[str, float | None], ...]
    product: str = ""
    candidates: tuple[str, ...] = ()
    rxcui: str = ""
    salts: tuple[str, ...] = ()
    factors: tuple[float, ...] = ()
    rates: tuple[float | None, ...] = ()
    route: str = ""
    extended_release: bool = False
    dose_form: str = ""

    @property
    def is_ambiguous(self) -> bool:
        return bool(self.candidates)

    @property
    def is_combination(self) -> bool:
        return len(self.ingredients) > 1

    @property
    def is_product(self) -> bool:
        """A product whose unit's content is known: an order counts units, not mg."""
        return bool(self.product) and not self.candidates

    def factor(self, position: int) -> float:
        return self.factors[position] if position < len(self.factors) else 1.0

    def salt(self, position: int) -> str:
        return self.salts[position] if position < len(self.salts) else ""


def normalize_name(text: str) -> str:
    """Case, spacing and strength notation folded: ``NORCO 10 / 325 mg tab`` -> ``norco 10/325``."""
    key = " ".join(text.casefold().split())
    if _SLASHED.search(key):
        key = _STRENGTH.sub(_slashed, key)
    return _DOSE_FORM.sub("", key) if key.endswith(_FORM_WORDS) else key


def _substance_match(substance: Substance) -> NameMatch:
    return NameMatch(
        ((substance.ingredient, None),),
        salts=(substance.salt,) if substance.salt else (),
        factors=(substance.factor,) if substance.factor != 1 else (),
    )


def product_match(product: Product) -> NameMatch:
    """A product's match; parts of one ingredient (two salts of oxycodone) are added up."""
    parts = product.parts
    if len(parts) == 1:  # most products: built positionally, once each at start-up
        part = parts[0]
        return NameMatch(
            ((part.ingredient, part.mg_per_unit),),
            product.product,
            (),
            product.rxcui,
            (part.salt,),
            (part.factor,),
            (part.rate_mcg_per_hour,),
            product.route,
            product.extended_release,
            product.dose_form,
        )
    if len({part.ingredient for part in parts}) == len(parts):
        return NameMatch(
            ingredients=tuple((part.ingredient, part.mg_per_unit) for part in parts),
            product=product.product,
            rxcui=product.rxcui,
            salts=tuple(part.salt for part in parts),
            factors=tuple(part.factor for part in parts),
            rates=tuple(part.rate_mcg_per_hour for part in parts),
            route=product.route,
            extended_release=product.extended_release,
            dose_form=product.dose_form,
        )
    merged: dict[str, list] = {}  # type: ignore[type-arg]
    for part in product.parts:
        entry = merged.get(part.ingredient)
        if entry is None:
            merged[part.ingredient] = [
                part.mg_per_unit,
                part.rate_mcg_per_hour,
                part.salt,
                part.factor,
            ]
            continue
        entry[0] = (
            None if entry[0] is None or part.mg_per_unit is None else entry[0] + part.mg_per_unit
        )
        if part.rate_mcg_per_hour is not None:
            entry[1] = (entry[1] or 0.0) + part.rate_mcg_per_hour
        if (entry[2], entry[3]) != (part.salt, part.factor):
            entry[2], entry[3] = "", 1.0  # mixed salts: a stated dose cannot be converted
    return NameMatch(
        ingredients=tuple(
            (name, None if mg is None else round(mg, 6)) for name, (mg, _, _, _) in merged.items()
        ),
        product=product.product,
        rxcui=product.rxcui,
        salts=tuple(salt for _, _, salt, _ in merged.values()),
        factors=tuple(factor for _, _, _, factor in merged.values()),
        rates=tuple(rate for _, rate, _, _ in merged.values()),
        route=product.route,
        extended_release=product.extended_release,
        dose_form=product.dose_form,
    )


def _number(value: float) -> str:
    return f"{value:g}"


def _content(product: Product) -> tuple[tuple[str, float | None, float | None], ...]:
    """What a unit holds, for telling two products apart."""
    return tuple(sorted((p.ingredient, p.mg_per_unit, p.rate_mcg_per_hour) for p in product.parts))


def _written_strengths(product: Product) -> tuple[str, ...]:
    """How an order writes a product's strength: ``10/325`` (either order), ``75 mcg/h``, ``0.5``."""
    parts = product.parts
    if any(part.unit in ("MG/ML", "MCG/ML") or part.value is None for part in parts):
        return ()
    if len(parts) == 1:
        part = parts[0]
        if part.rate_mcg_per_hour is not None:
            rate = _number(part.rate_mcg_per_hour)
            return (rate, f"{rate} mcg/h", f"{rate} mcg/hr")
        value = _number(part.value * (1000 if part.unit.startswith("MCG") else 1))  # type: ignore[operator]
        return (value, f"{value} mg")
    values = [
        _number(part.value * (0.001 if part.unit.startswith("MCG") else 1))  # type: ignore[operator]
        for part in parts
    ]
    ascending = sorted(values, key=float)
    return tuple(
        dict.fromkeys(["/".join(ascending), "/".join(reversed(ascending)), "/".join(values)])
    )


def _strength_in_order(product: Product, names: Sequence[str]) -> str:
    """``product``'s strengths in the order of ``names`` (its ingredients): ``10/325``."""
    by_name = {part.ingredient: part.value for part in product.parts}
    return "/".join(_number(by_name[name]) for name in names)  # type: ignore[arg-type]


def _strengths_in_order(products: Sequence[Product], names: Sequence[str]) -> tuple[str, ...]:
    """The distinct strengths of ``products`` (each made of ``names``) written in the order
    of ``names``, first sold first; a product measured per mL has none."""
    return tuple(
        dict.fromkeys(
            _strength_in_order(product, names)
            for product in products
            if "MG/ML" not in {part.unit for part in product.parts}
        )
    )


class NameResolver:
    """Case-insensitive name lookup over the knowledge base's names, codes and products."""

    def __init__(
        self, data: InteractionData, *, ndc_crosswalk: Mapping[str, str] | None = None
    ) -> None:
        self._substances: SubstanceNames = data.substance_names()
        self._routes = MappingProxyType({form.dose_form: form.route for form in data.dose_forms})
        names: dict[str, NameMatch] = {}
        display: dict[str, str] = {}
        codes: dict[str, NameMatch] = {}

        def add(name: str, match: NameMatch, *, shown: bool = True) -> None:
            key = normalize_name(name)
            names[key] = match
            if shown:
                display.setdefault(key, name)

        def add_code(code: str, match: NameMatch) -> None:
            current = codes.get(code)
            if current is not None and current != match:
                raise DataError(f"{code} resolves to two different things")
            codes[code] = match

        for ingredient in data.ingredients:
            match = NameMatch(((ingredient.name, None),))
            add(ingredient.name, match)
            if ingredient.rxcui:
                add_code(f"rxcui:{ingredient.rxcui}", match)
        salts = {}
        for salt in data.salts:
            substance = self._substances.resolve(salt.salt)
            assert substance is not None
            salts[salt.salt] = _substance_match(substance)
            add(salt.salt, salts[salt.salt])
        for alias in data.aliases:
            add(alias.alias, salts.get(alias.ingredient) or NameMatch(((alias.ingredient, None),)))

        # a product's NameMatch is made on its first lookup (see _match): thousands of products,
        # a few of which a given site ever sees
        written: dict[int, tuple[str, ...]] = {}  # product -> its written strengths

        def strengths_of(product: Product) -> tuple[str, ...]:
            found = written.get(id(product))
            if found is None:
                found = written[id(product)] = _written_strengths(product)
            return found

        by_written: dict[str, list[Product]] = {}
        by_brand: dict[str, list[Product]] = {}
        by_content: dict[frozenset[tuple[str, float]], Product] = {}
        by_ingredients: dict[frozenset[str], list[Product]] = {}
        for product in data.products:
            names[" ".join(product.product.casefold().split())] = product  # type: ignore[assignment]
            if product.rxcui:
                add_code(f"rxcui:{product.rxcui}", product)  # type: ignore[arg-type]
            for name in product.extra_names:
                add(name, product)  # type: ignore[arg-type]
            for brand in product.brands:
                by_brand.setdefault(brand, []).append(product)
                for strength in strengths_of(product):
                    by_written.setdefault(f"{brand} {strength}", []).append(product)
            if (
                len(product.parts) > 1
                and product.is_combination
                and all(p.value is not None for p in product.parts)
            ):
                key = frozenset((p.ingredient, p.value) for p in product.parts)  # type: ignore[misc]
                by_content.setdefault(key, product)
                by_ingredients.setdefault(
                    frozenset(p.ingredient for p in product.parts), []
                ).append(product)
        for name, products in (*by_written.items(), *by_brand.items()):
            # brand and strength keys are already in normal form but for case and spacing
            key = " ".join(name.casefold().split())
            if key in names:
                continue  # a brand that is also an ingredient's alias keeps that meaning
            distinct = (
                {_content(p): p for p in products} if len(products) > 1 else {(): products[0]}
            )
            if len(distinct) == 1:
                names[key] = products[0]  # type: ignore[assignment]
                if name in by_written:
                    display.setdefault(key, name)
            else:
                candidates = tuple(
                    dict.fromkeys(
                        f"{name} {strengths[0]}"
                        for p in distinct.values()
                        if (strengths := strengths_of(p))
                    )
                )
                ingredients = tuple(dict.fromkeys((i, None) for i, _ in products[0].ingredients))
                names[key] = NameMatch(ingredients, candidates=candidates)
        if ndc_crosswalk:
            for ndc, rxcui in ndc_crosswalk.items():
                target = codes.get(f"rxcui:{rxcui}")
                if target is None:
                    raise DataError(f"ndc:{ndc} maps to rxcui {rxcui}, which is not known")
                add_code(f"ndc:{ndc}", target)
        for code, match in codes.items():
            names[code] = match
        # every product listed by name, brand or code becomes its match here, once per product:
        # a lookup is then one dict access, with nothing remembered between calls
        product_matches: dict[int, NameMatch] = {}

        def match_of(product: Product) -> NameMatch:
            found = product_matches.get(id(product))
            if found is None:
                found = product_matches[id(product)] = product_match(product)
            return found

        for key, value in names.items():
            if type(value) is not NameMatch:
                names[key] = match_of(value)  # type: ignore[arg-type]

        self._names: Mapping[str, NameMatch] = MappingProxyType(names)
        self._display: Mapping[str, str] = MappingProxyType(display)
        self._display_keys: tuple[str, ...] = tuple(display)
        by_initial: dict[str, list[str]] = {}
        for key in display:
            by_initial.setdefault(key[:1], []).append(key)
        self._by_initial: Mapping[str, tuple[str, ...]] = MappingProxyType(
            {initial: tuple(keys) for initial, keys in by_initial.items()}
        )
        self._by_content: Mapping[frozenset[tuple[str, float]], NameMatch] = MappingProxyType(
            {content: match_of(product) for content, product in by_content.items()}
        )
        self._by_ingredients = MappingProxyType(by_ingredients)
        # the strengths a combination is sold in, written in each order its ingredients can be
        # named in (hydrocodone, acetaminophen: "10/325", ...), first sold first, compiled once
        # for _written_combination ("hydrocodone/APAP" without strengths)
        self._strengths_in_order: Mapping[tuple[str, ...], tuple[str, ...]] = MappingProxyType(
            {
                order: _strengths_in_order(products, order)
                for ingredients, products in by_ingredients.items()
                for order in itertools.permutations(sorted(ingredients))
            }
        )

    def resolve(self, text: str) -> NameMatch | None:
        """The match for a name, or None when the knowledge base does not know it.

        Nothing is remembered between calls: the checker keeps what it resolved in its order
        records (regimenguard.regimen.cache), the one cache, keyed by the whole order.
        """
        match = self._names.get(text.casefold())
        if match is not None:
            return match
        key = normalize_name(text)
        match = self._names.get(key)
        if match is not None:
            return match
        if key.startswith("ndc:"):
            return self._names.get("ndc:" + re.sub(r"\D", "", key[4:]))
        return self._read_name(text, key)

    def _read_name(self, text: str, key: str) -> NameMatch | None:
        parsed = parse_rxnorm_name(text)
        if parsed is not None:
            product = product_from_name(parsed, text.strip(), self._substances, self._routes)
            return None if product is None else product_match(product)
        return self._written_combination(key)

    def _written_combination(self, key: str) -> NameMatch | None:
        """``hydrocodone/APAP 10/325``: ingredients in the order written, strengths in that order."""
        written = _WRITTEN_COMBINATION.match(key)
        if written is None:
            return None
        parts = [part for part in _JOINERS.split(written["names"].strip()) if part]
        substances = [self._substances.resolve(part) for part in parts]
        if len(parts) < 2 or any(s is None for s in substances):
            return None
        names = [s.ingredient for s in substances]  # type: ignore[union-attr]
        if len(set(names)) != len(names):
            return None
        values = [float(v) for v in _NUMBERS.findall(written["strengths"] or "")]
        if not values:
            strengths = self._strengths_in_order.get(tuple(names), ())
            if not strengths:
                return None
            stem = written["names"].strip()
            return NameMatch(
                tuple((name, None) for name in names),
                candidates=tuple(f"{stem} {strength}" for strength in strengths),
            )
        if len(values) != len(names):
            return None
        known = self._by_content.get(frozenset(zip(names, values, strict=True)))
        if known is not None:
            return known
        if frozenset(names) in self._by_ingredients:
            return None  # sold, but not in this strength: a typo must not count as written
        factors = [s.factor for s in substances]  # type: ignore[union-attr]
        return NameMatch(
            ingredients=tuple(
                (name, round(value * factor, 6))
                for name, value, factor in zip(names, values, factors, strict=True)
            ),
            product=" / ".join(
                f"{name} {_number(value)} mg" for name, value in zip(names, values, strict=True)
            ),
            salts=tuple(s.salt for s in substances),  # type: ignore[union-attr]
            factors=tuple(factors),
        )

    def suggest(self, text: str) -> tuple[str, ...]:
        """Known names close to an unknown one, best first.

        Not memoized here: the checker keeps them in its order records (regimenguard.regimen.cache),
        by name.
        """
        return self._close_matches(normalize_name(text))

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
        if not key or len(key) > SUGGESTION_MAX_CHARS:
            return ()
        written = _WRITTEN_COMBINATION.match(key)
        if written is not None and written["strengths"]:
            # "hydrocodone/APAP 10/300": the strengths the same combination is sold in
            same = self._written_combination(written["names"].strip())
            if same is not None and same.candidates:
                ranked = sorted(
                    same.candidates,
                    key=lambda c: -difflib.SequenceMatcher(None, key, c.casefold()).ratio(),
                )
                return tuple(ranked[:SUGGESTION_LIMIT])
        close = difflib.get_close_matches(
            key, self.candidates(key), n=SUGGESTION_LIMIT, cutoff=SUGGESTION_CUTOFF
        )
        if not close:
            # "norco 10": fall back to the name without its strength.
            stem = key.split(" ")[0]
            close = [k for k in self._by_initial.get(key[:1], ()) if k.startswith(stem + " ")]
            close = close[:SUGGESTION_LIMIT]
        return tuple(self._display[k] for k in close)
