"""Which label maximum applies to an order.

Label maxima (drug-reference.md, rule DOSE_ABOVE_MAX) depend on route, release form and age:
tramadol is limited to 400 mg/day, 300 mg/day over age 75 and 300 mg/day for extended-release;
immediate-release per-dose limits do not bind extended-release forms. Oral limits never apply
to topical products. Where several rows apply, the strictest number wins.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from regimenguard.dosing.tables import DoseLimit


@dataclass(frozen=True, slots=True)
class ApplicableLimit:
    max_mg_per_dose: float | None
    max_mg_per_day: float | None
    needs_confirmation: bool
    sources: tuple[str, ...]
    # the rows that set each maximum (the strictest that applied)
    dose_row: DoseLimit | None = None
    day_row: DoseLimit | None = None


def applicable_limit(
    rows: Iterable[DoseLimit], *, route: str, extended_release: bool, age_years: int
) -> ApplicableLimit | None:
    """The strictest per-dose and per-day maxima among the rows that apply, or None."""
    dose_row: DoseLimit | None = None
    day_row: DoseLimit | None = None
    applied = [row for row in rows if row.applies_to(route, extended_release, age_years)]
    for row in applied:
        if row.max_mg_per_dose is not None and (
            dose_row is None or row.max_mg_per_dose < (dose_row.max_mg_per_dose or 0)
        ):
            dose_row = row
        if row.max_mg_per_day is not None and (
            day_row is None or row.max_mg_per_day < (day_row.max_mg_per_day or 0)
        ):
            day_row = row
    if not applied:
        return None
    sources = (item.strip() for row in applied for item in row.source.split(";"))
    return ApplicableLimit(
        max_mg_per_dose=dose_row.max_mg_per_dose if dose_row else None,
        max_mg_per_day=day_row.max_mg_per_day if day_row else None,
        needs_confirmation=any(row.needs_confirmation for row in applied),
        sources=tuple(dict.fromkeys(source for source in sources if source)),
        dose_row=dose_row,
        day_row=day_row,
    )
