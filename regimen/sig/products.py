"""What the sig reader needs to know about products: a small interface over the knowledge base.

The reader never holds product facts itself (that Tylenol ES is 500 mg, that Duragesic's
strength is a rate, that Voltaren gel is 1%): it asks a ``ProductCatalog``. ``NO_PRODUCTS``
knows nothing, so every fact must then be written in the order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class ProductStrength:
    """One ingredient of a product and its strength per unit (None: the order states it)."""

    ingredient: str
    amount: float | None


@dataclass(frozen=True, slots=True)
class Product:
    """A named product line or dosage form: ``Tylenol ES``, ``Duragesic``, ``fentanyl patch``.

    ``unit`` says what a strength means: ``mg`` per unit (tablet, patch), ``mcg/h`` a delivery
    rate (a transdermal system), ``%`` a concentration (a gel, a patch).
    """

    name: str
    strengths: tuple[ProductStrength, ...]
    unit: str  # "mg" | "mcg/h" | "%"
    dose_form: str  # "tab", "cap", "patch", "gel", "film", ...
    route: str  # "oral", "topical", "transdermal", "sublingual", ...
    extended_release: bool = False
    mg_per_unit: float | None = None  # for a % product: mg of drug per unit (Lidoderm: 700)
    source: str = ""

    @property
    def is_rate(self) -> bool:
        return self.unit == "mcg/h"


class ProductCatalog(Protocol):
    """Product knowledge the sig reader consults; every answer comes from the knowledge base."""

    def product(self, name: str, form: str | None) -> Product | None:
        """The product a drug name (with the dosage-form word written after it) stands for."""
        ...

    def is_combination(self, name: str) -> bool:
        """A fixed-dose combination whose strengths the name carries (``Norco 10/325``)."""
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

    def product(self, name: str, form: str | None) -> Product | None:
        return None

    def is_combination(self, name: str) -> bool:
        return False

    def ingredients(self, name: str) -> tuple[str, ...]:
        return ()

    def strengths_sold(self, name: str) -> tuple[str, ...]:
        return ()

    def rate_dosed_when_transdermal(self, name: str) -> bool:
        return False


NO_PRODUCTS: ProductCatalog = _NoProducts()
