"""Drug products: what one unit (tablet, patch, mL, actuation, gram of gel) contains.

A product row of products.csv names its substances as RxNorm does (``hydrocodone bitartrate:10
MG``); at start-up each substance is resolved to an ingredient of the knowledge base (a product
whose ingredient is unknown stops start-up) and each strength becomes counted mg per unit, or a
delivery rate in mcg/h for a transdermal system. The same conversion serves a name read by the
RxNorm grammar without a code (interactions/rxnorm_names.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from regimenguard.interactions.rxnorm_names import Component, RxNormName
from regimenguard.interactions.substances import SubstanceNames

# mg per unit for a stated strength, by RxNorm unit (MG/ML: per mL, or per container when the
# name gives its volume; MG/G: per gram of gel or cream; %: 10 mg per g or mL)
_MASS_FACTORS = {
    "MG": 1.0,
    "MCG": 0.001,
    "MG/ML": 1.0,
    "MCG/ML": 0.001,
    "MG/ACTUAT": 1.0,
    "MCG/ACTUAT": 0.001,
    "MG/G": 1.0,
    "%": 10.0,
}
_PER_VOLUME = frozenset({"MG/ML", "MCG/ML"})
_RATE_FACTORS = {"MG/HR": 1000.0, "MCG/HR": 1.0}  # to mcg/h
DIGITS = 6
# Products and their parts are plain named tuples: there are thousands, built at every start-up.


class ProductPart(NamedTuple):
    """One ingredient of a product and what a unit of the product holds of it."""

    substance: str  # as the product states it, salt included: "naproxen sodium"
    ingredient: str
    value: float | None  # the stated strength, in ``unit``
    unit: str
    factor: float  # counted mg of the ingredient per stated mg of the substance
    mg_per_unit: float | None  # counted mg per unit (None: a rate, or not stated)
    rate_mcg_per_hour: float | None = None  # a transdermal system's delivery rate

    @property
    def salt(self) -> str:
        """The salt whose weight is stated, when it is not counted as is."""
        return self.substance if self.factor != 1 else ""


class Product(NamedTuple):
    rxcui: str
    product: str  # the name: RxNorm's normalized name, or the label's own
    parts: tuple[ProductPart, ...]
    dose_form: str
    route: str  # "" = as the order says
    extended_release: bool
    release_hours: float | None
    brands: tuple[str, ...]
    extra_names: tuple[str, ...]
    needs_confirmation: tuple[str, ...]
    source: str

    @property
    def ingredients(self) -> tuple[tuple[str, float | None], ...]:
        """``(ingredient, counted mg per unit)`` for each part, in the product's order."""
        return tuple((part.ingredient, part.mg_per_unit) for part in self.parts)

    @property
    def is_combination(self) -> bool:
        return len({part.ingredient for part in self.parts}) > 1


def part_for(
    substances: SubstanceNames,
    component: Component,
    *,
    quantity: float | None = None,
    quantity_unit: str = "",
) -> ProductPart | None:
    """A product part from a stated substance and strength; None if the substance is unknown."""
    substance = substances.resolve(component.substance)
    if substance is None:
        return None
    mg: float | None = None
    rate: float | None = None
    value: float | None = component.value if component.unit else None
    if value is not None and component.unit == "MG":
        mg = value if substance.factor == 1 else round(value * substance.factor, DIGITS)
    elif value is not None and component.unit in _RATE_FACTORS:
        rate = round(value * _RATE_FACTORS[component.unit], DIGITS)
    elif value is not None and component.unit in _MASS_FACTORS:
        mg = value * _MASS_FACTORS[component.unit]
        if component.unit in _PER_VOLUME and quantity and quantity_unit == "ML":
            mg *= quantity
        mg = (
            mg * substance.factor if substance.factor == 1 else round(mg * substance.factor, DIGITS)
        )
    return ProductPart(
        substance=component.substance,
        ingredient=substance.ingredient,
        value=value,
        unit=component.unit,
        factor=substance.factor,
        mg_per_unit=mg,
        rate_mcg_per_hour=rate,
    )


def product_from_name(
    parsed: RxNormName,
    name: str,
    substances: SubstanceNames,
    routes_by_dose_form: Mapping[str, str],
) -> Product | None:
    """A product read from an RxNorm name alone (no row, no code); None if a substance is unknown."""
    parts = []
    for component in parsed.components:
        part = part_for(
            substances, component, quantity=parsed.quantity, quantity_unit=parsed.quantity_unit
        )
        if part is None:
            return None
        parts.append(part)
    return Product(
        rxcui="",
        product=name,
        parts=tuple(parts),
        dose_form=parsed.dose_form,
        route=routes_by_dose_form.get(parsed.dose_form, ""),
        extended_release=parsed.extended_release,
        release_hours=parsed.release_hours,
        brands=(parsed.brand,) if parsed.brand else (),
        extra_names=(),
        needs_confirmation=(),
        source="RxNorm normalized name",
    )
