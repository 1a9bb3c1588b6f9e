"""Morphine milligram equivalents (MME) per day.

CDC Clinical Practice Guideline for Prescribing Opioids for Pain, 2022, conversion table:
MME/day = mg/day x factor; for transdermal fentanyl, mcg/h x 2.4. Buprenorphine is excluded
(no factor: its partial agonism makes a conversion misleading). The factors are versioned data
(dosing/data/mme_factors.csv); the 2016 table's values (hydromorphone 4, tramadol 0.1, tiered
methadone) are not used.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from regimenguard.dosing.tables import MmeFactor


class MmeTable:
    """Conversion factors by ingredient and by whether the order is a transdermal system."""

    def __init__(self, factors: tuple[MmeFactor, ...]) -> None:
        by_route: dict[tuple[str, bool], MmeFactor] = {}
        for factor in factors:
            by_route[(factor.ingredient, factor.route == "transdermal")] = factor
        self._factors: Mapping[tuple[str, bool], MmeFactor] = MappingProxyType(by_route)
        self.ingredients = frozenset(ingredient for ingredient, _ in by_route)

    def factor(self, ingredient: str, *, transdermal: bool) -> MmeFactor | None:
        """The factor for this form, or None (no CDC factor: excluded from MME)."""
        return self._factors.get((ingredient, transdermal))


def mme_per_day(factor: MmeFactor, *, mg_per_day: float, rate_mcg_per_hour: float) -> float:
    """MME/day for one order: amount per day (or delivery rate) times the CDC factor."""
    if factor.unit == "mcg_per_hour":
        return rate_mcg_per_hour * factor.factor
    return mg_per_day * factor.factor
