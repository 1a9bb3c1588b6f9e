"""The sig reader's product catalog over the knowledge base: names, combinations, product forms."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from interactions.datafile import DataError
from interactions.product_forms import FILENAME, ProductForm, load_product_forms
from interactions.resolver import normalize_name
from regimen.knowledge import Knowledge
from regimen.sig.grammar import name_pattern
from regimen.sig.products import Product, ProductStrength

_HAS_DIGIT = re.compile(r"\d")


class KnowledgeCatalog:
    """Answers the reader's product questions from the knowledge base; built once, then lookups."""

    def __init__(self, knowledge: Knowledge, forms: Sequence[ProductForm] | None = None) -> None:
        resolver = knowledge.resolver
        self._resolver = resolver
        rows = load_product_forms() if forms is None else tuple(forms)
        products: dict[str, Product] = {}
        canonical_by_name: dict[str, tuple[str, ...]] = {}
        rate_dosed: set[str] = set()
        for row in rows:
            canonical = []
            for ingredient, _ in row.ingredients:
                match = resolver.resolve(ingredient)
                if match is None or match.is_combination:
                    raise DataError(f"{FILENAME}: {row.name}: unknown ingredient {ingredient!r}")
                canonical.append(match.ingredients[0][0])
            products[normalize_name(row.name)] = Product(
                name=row.name,
                strengths=tuple(ProductStrength(name, amount) for name, amount in row.ingredients),
                unit=row.unit,
                dose_form=row.dose_form,
                route=row.route,
                extended_release=row.extended_release,
                mg_per_unit=row.mg_per_unit,
                source=row.source,
            )
            canonical_by_name[normalize_name(row.name)] = tuple(canonical)
            if row.unit == "mcg/h" and row.route == "transdermal":
                rate_dosed.update(canonical)
        self._products = products
        self._canonical = canonical_by_name
        self._rate_dosed = frozenset(rate_dosed)
        self.names = name_pattern(row.name for row in rows if _HAS_DIGIT.search(row.name))

    def product(self, name: str, form: str | None) -> Product | None:
        if form:
            found = self._products.get(normalize_name(f"{name} {form}"))
            if found is not None:
                return found
        return self._products.get(normalize_name(name))

    def is_combination(self, name: str) -> bool:
        match = self._resolver.resolve(name)
        return match is not None and match.is_combination and not match.is_ambiguous

    def ingredients(self, name: str) -> tuple[str, ...]:
        known = self._canonical.get(normalize_name(name))
        if known is not None:
            return known
        match = self._resolver.resolve(name)
        return () if match is None else tuple(ingredient for ingredient, _ in match.ingredients)

    def strengths_sold(self, name: str) -> tuple[str, ...]:
        match = self._resolver.resolve(name)
        return match.candidates if match is not None else ()

    def rate_dosed_when_transdermal(self, name: str) -> bool:
        return any(ingredient in self._rate_dosed for ingredient in self.ingredients(name))


def catalog_for(knowledge: Knowledge, data_dir: Path | None = None) -> KnowledgeCatalog:
    """The catalog of a loaded knowledge base (product forms from ``data_dir`` if given)."""
    forms = load_product_forms(data_dir) if data_dir is not None else None
    return KnowledgeCatalog(knowledge, forms)
