"""What the sig reader needs to know about products: a small interface over the knowledge base.

The reader never holds product facts itself (that Tylenol ES is 500 mg, that Duragesic's
strength is a rate, that Voltaren gel is 1%): it asks a ``ProductCatalog``. ``NO_PRODUCTS``
knows nothing, so every fact must then be written in the order.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class ProductStrength:
    """One ingredient of a product and what a unit holds of it (None: the order states it)."""

    ingredient: str
    mg_per_unit: float | None  # counted mg of the ingredient per unit (salt converted)
    stated: float | None = None  # the strength as labelled, in mg (or mg per g of a gel)
    salt: str = ""  # the substance a stated weight is of, when it is a salt

    @property
    def substance(self) -> str:
        return self.salt or self.ingredient


@dataclass(frozen=True, slots=True)
class Product:
    """A product as a sig names it: ``Tylenol ES``, ``Voltaren gel``, ``Duragesic``.

    ``known_content``: the knowledge base knows what one unit holds, so an order counts units
    (the server resolves the name). Otherwise the product only settles form, route, release and
    whether a strength is a rate (a brand sold in several strengths). ``unit`` says what a
    written strength means: ``mg`` per unit, ``mg/g`` of a gel, ``mcg/h`` a delivery rate.
    """

    name: str  # the name to send: the one the knowledge base resolves
    strengths: tuple[ProductStrength, ...]
    unit: str  # "mg" | "mg/g" | "mcg/h"
    dose_form: str  # "tab", "cap", "patch", "gel", "film", "spray", ...
    route: str  # "oral", "topical", "transdermal", "sublingual", ...
    extended_release: bool = False
    known_content: bool = False
    rate: float | None = None  # a transdermal system's own rate, in mcg/h

    @property
    def is_rate(self) -> bool:
        return self.unit == "mcg/h"


class ProductCatalog(Protocol):
    """Product knowledge the sig reader consults; every answer comes from the knowledge base."""

    def product(self, names: Sequence[str]) -> Product | None:
        """The product the first of these names that is one stands for; the names are the drug
        name as written, then with the strength and form written after it ("Voltaren gel",
        "lidocaine 5% patch")."""
        ...

    def ingredients(self, name: str) -> tuple[str, ...]:
        """The ingredients a name resolves to; () when the knowledge base does not know it."""
        ...

    def strengths_sold(self, name: str) -> tuple[str, ...]:
        """For a brand sold in several strengths without one named (``Norco``): each one."""
        ...

    def rate_dosed_when_transdermal(self, name: str) -> bool:
        """Whether the ingredient's transdermal strength is a mcg/h rate (fentanyl)."""
        ...

    @property
    def names(self) -> re.Pattern[str] | None:
        """Product names read whole as the drug name (``Tylenol 8 HR Arthritis``)."""
        ...


class _NoProducts:
    """A catalog that knows nothing: every amount, form and route must be written."""

    names: re.Pattern[str] | None = None

    def product(self, names: Sequence[str]) -> Product | None:
        return None

    def ingredients(self, name: str) -> tuple[str, ...]:
        return ()

    def strengths_sold(self, name: str) -> tuple[str, ...]:
        return ()

    def rate_dosed_when_transdermal(self, name: str) -> bool:
        return False


NO_PRODUCTS: ProductCatalog = _NoProducts()
