"""The sig reader's product catalog over the knowledge base's names and products.

Every answer comes from the knowledge base: a name the resolver reads as a product carries its
content per unit, dose form, route and release (``Tylenol ES``, ``Voltaren gel``, ``Norco
10/325``); a brand sold in several strengths (``Duragesic``, ``OxyContin``) carries what all of
its products share (a transdermal system dosed by rate, extended release, a route); an
ingredient is rate-dosed on a patch when one of its products is a transdermal system with a
delivery rate (fentanyl, buprenorphine).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from regimenguard.interactions.products import Product as KnowledgeProduct
from regimenguard.interactions.resolver import NameMatch, NameResolver, normalize_name
from regimenguard.regimen.knowledge import Knowledge
from regimenguard.regimen.sig.grammar import name_pattern
from regimenguard.regimen.sig.products import Product, ProductStrength

_HAS_DIGIT = re.compile(r"\d")
_ENDS_IN_A_COUNT = re.compile(r"\s\d+$")  # "Tylenol 3": a name that would swallow "3 tabs"
# The last word of an RxNorm dose form, as a sig names the unit: "Oral Tablet" -> "tab".
_FORM_WORDS = {
    "tablet": "tab",
    "capsule": "cap",
    "system": "patch",
    "patch": "patch",
    "gel": "gel",
    "cream": "cream",
    "ointment": "ointment",
    "lotion": "lotion",
    "film": "film",
    "spray": "spray",
    "suppository": "suppository",
    "lozenge": "lozenge",
    "solution": "solution",
}
_PER_GRAM = "MG/G"


def form_word(dose_form: str) -> str:
    """``Extended Release Oral Tablet`` -> ``tab``; ``Transdermal System`` -> ``patch``."""
    last = dose_form.split()[-1].lower() if dose_form.strip() else ""
    return _FORM_WORDS.get(last, last or "unit")


class KnowledgeCatalog:
    """Answers the reader's product questions from a loaded knowledge base; lookups only."""

    def __init__(self, knowledge: Knowledge) -> None:
        self._resolver: NameResolver = knowledge.resolver
        products = knowledge.data.products
        self._by_name = {product.product: product for product in products}
        by_brand: dict[str, list[KnowledgeProduct]] = {}
        rate_dosed: set[str] = set()
        for product in products:
            for brand in product.brands:
                by_brand.setdefault(normalize_name(brand), []).append(product)
            if product.route == "transdermal" and any(
                part.rate_mcg_per_hour for part in product.parts
            ):
                rate_dosed.update(part.ingredient for part in product.parts)
        self._brands = {key: _shared(group) for key, group in by_brand.items()}
        self._rate_dosed = frozenset(rate_dosed)
        self.names = name_pattern(_whole_names(products))

    def product(self, names: Sequence[str]) -> Product | None:
        for name in names:
            match = self._resolver.resolve(name)
            if match is not None and match.is_product:
                return self._known(name, match)
        return self._brands.get(normalize_name(names[0])) if names else None

    def _known(self, name: str, match: NameMatch) -> Product:
        product = self._by_name.get(match.product)
        parts = product.parts if product is not None else ()
        strengths = (
            tuple(
                ProductStrength(
                    ingredient,
                    mg,
                    stated=part.value if part.unit in ("MG", _PER_GRAM) else None,
                    salt=match.salt(position),
                )
                for position, ((ingredient, mg), part) in enumerate(
                    zip(match.ingredients, parts or [None] * len(match.ingredients), strict=True)
                )
            )
            if parts
            else tuple(ProductStrength(i, mg) for i, mg in match.ingredients)
        )
        rates = [rate for rate in match.rates if rate]
        per_gram = bool(parts) and all(part.unit == _PER_GRAM for part in parts)
        return Product(
            name=name,
            strengths=strengths,
            unit="mcg/h" if rates else ("mg/g" if per_gram else "mg"),
            dose_form=form_word(match.dose_form),
            route=match.route,
            extended_release=match.extended_release,
            known_content=True,
            rate=rates[0] if len(rates) == 1 else None,
        )

    def ingredients(self, name: str) -> tuple[str, ...]:
        match = self._resolver.resolve(name)
        return () if match is None else tuple(ingredient for ingredient, _ in match.ingredients)

    def strengths_sold(self, name: str) -> tuple[str, ...]:
        match = self._resolver.resolve(name)
        return match.candidates if match is not None else ()

    def rate_dosed_when_transdermal(self, name: str) -> bool:
        return any(ingredient in self._rate_dosed for ingredient in self.ingredients(name))


def _shared(products: list[KnowledgeProduct]) -> Product | None:
    """What every product of a brand has in common, when it settles route and form."""
    routes = {product.route for product in products}
    forms = {form_word(product.dose_form) for product in products}
    if len(routes) != 1 or len(forms) != 1:
        return None
    first = products[0]
    rate = all(any(part.rate_mcg_per_hour for part in p.parts) for p in products)
    ingredients = dict.fromkeys(part.ingredient for part in first.parts)
    return Product(
        name=first.brands[0] if first.brands else first.product,
        strengths=tuple(ProductStrength(ingredient, None) for ingredient in ingredients),
        unit="mcg/h" if rate else "mg",
        dose_form=forms.pop(),
        route=routes.pop(),
        extended_release=all(product.extended_release for product in products),
    )


def _whole_names(products: Iterable[KnowledgeProduct]) -> list[str]:
    """Brand and extra names with a number in them, read whole ("Tylenol 8 HR Arthritis")."""
    names = set()
    for product in products:
        for name in (*product.brands, *product.extra_names):
            if _HAS_DIGIT.search(name) and not _ENDS_IN_A_COUNT.search(name):
                names.add(name)
    return sorted(names)
