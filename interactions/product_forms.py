"""Products as they are written in orders: strength per unit, dosage form, route, release.

``product_forms.csv`` holds the facts a sig needs beyond the ingredient: that ``Tylenol ES`` is
a 500 mg acetaminophen tablet, that a ``Duragesic`` strength is a mcg/h delivery rate, that
``Voltaren gel`` is 1% diclofenac sodium. Each row names its source.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from interactions.datafile import Row, load_table
from interactions.knowledge_base import DATA_DIR

FILENAME = "product_forms.csv"
COLUMNS = (
    "name",
    "ingredients",
    "unit",
    "dose_form",
    "route",
    "extended_release",
    "mg_per_unit",
    "needs_confirmation",
    "source",
)
UNITS = ("mg", "mcg/h", "%")
ROUTES = ("oral", "topical", "transdermal", "sublingual", "intranasal", "rectal", "injection")


@dataclass(frozen=True, slots=True)
class ProductForm:
    name: str
    ingredients: tuple[tuple[str, float | None], ...]  # amount per unit in ``unit``, or None
    unit: str
    dose_form: str
    route: str
    extended_release: bool
    mg_per_unit: float | None
    needs_confirmation: bool
    source: str


def _product_form(row: Row) -> ProductForm:
    unit = row.text("unit")
    if unit not in UNITS:
        raise ValueError(f"unit must be one of {', '.join(UNITS)}, not {unit!r}")
    route = row.text("route")
    if route not in ROUTES:
        raise ValueError(f"route must be one of {', '.join(ROUTES)}, not {route!r}")
    ingredients: list[tuple[str, float | None]] = []
    for item in row.items("ingredients"):
        name, separator, amount = item.partition(":")
        if not separator:
            ingredients.append((name.strip(), None))
            continue
        try:
            value = float(amount)
        except ValueError:
            raise ValueError(f"ingredient {item!r} must be name or name:amount") from None
        if value <= 0:
            raise ValueError(f"ingredient {item!r}: the amount must be > 0")
        ingredients.append((name.strip(), value))
    if not ingredients:
        raise ValueError("a product needs at least one ingredient")
    return ProductForm(
        name=row.text("name"),
        ingredients=tuple(ingredients),
        unit=unit,
        dose_form=row.text("dose_form"),
        route=route,
        extended_release=row.flag("extended_release"),
        mg_per_unit=row.number("mg_per_unit"),
        needs_confirmation=row.flag("needs_confirmation"),
        source=row.text("source"),
    )


def load_product_forms(directory: Path = DATA_DIR) -> tuple[ProductForm, ...]:
    """Every row of ``product_forms.csv``; DataError (file and row named) on a bad one."""
    return tuple(form for _, form in load_table(directory / FILENAME, COLUMNS, _product_form))
