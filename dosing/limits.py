"""Which label maximum applies to an order.

Label maxima (drug-reference.md, rule DOSE_ABOVE_MAX) depend on route, release form and age:
tramadol is limited to 400 mg/day, 300 mg/day over age 75 and 300 mg/day for extended-release;
immediate-release per-dose limits do not bind extended-release forms. Oral limits never apply
to topical products. Where several rows apply, the strictest number wins.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from dosing.tables import DoseLimit


@dataclass(frozen=True, slots=True)
class ApplicableLimit:
    max_mg_per_dose: float | None
    max_mg_per_day: float | None
    needs_confirmation: bool
    sources: tuple[str, ...]


def applicable_limit(
    rows: Iterable[DoseLimit], *, route: str, extended_release: bool, age_years: int
) -> ApplicableLimit | None:
    """The strictest per-dose and per-day maxima among the rows that apply, or None."""
    per_dose: float | None = None
    per_day: float | None = None
    confirm = False
    sources: list[str] = []
    for row in rows:
        if not row.applies_to(route, extended_release, age_years):
            continue
        if row.max_mg_per_dose is not None:
            per_dose = (
                row.max_mg_per_dose if per_dose is None else min(per_dose, row.max_mg_per_dose)
            )
        if row.max_mg_per_day is not None:
            per_day = row.max_mg_per_day if per_day is None else min(per_day, row.max_mg_per_day)
        confirm = confirm or row.needs_confirmation
        sources.append(row.source)
    if not sources:
        return None
    return ApplicableLimit(per_dose, per_day, confirm, tuple(dict.fromkeys(sources)))
