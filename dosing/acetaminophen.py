"""Daily acetaminophen limit for a patient.

Guideline, "Nonopioid analgesics" (Acetaminophen): 650 mg every six hours as needed, at most
3 g per 24 hours for most adults, and a lower total daily dose for older adults and for any
hepatic impairment; every source of acetaminophen counts, prescription and over the counter.
The catalogue (ACETAMINOPHEN_DAILY_MAX) sets the lower limit at 2 g/day and extends it to
alcohol use disorder, where the label warns of severe liver injury. Both limits are site
configuration; these are the defaults.
"""

from __future__ import annotations

from dataclasses import dataclass

ACETAMINOPHEN = "acetaminophen"
STANDARD_LIMIT_MG_PER_DAY = 3000.0
REDUCED_LIMIT_MG_PER_DAY = 2000.0


@dataclass(frozen=True, slots=True)
class AcetaminophenLimits:
    standard_mg_per_day: float = STANDARD_LIMIT_MG_PER_DAY
    reduced_mg_per_day: float = REDUCED_LIMIT_MG_PER_DAY


def acetaminophen_limit_mg_per_day(
    limits: AcetaminophenLimits,
    *,
    older_adult: bool,
    hepatic_impairment: bool,
    alcohol_use_disorder: bool,
) -> float:
    """The reduced limit when any liver-risk factor applies, else the standard one."""
    if older_adult or hepatic_impairment or alcohol_use_disorder:
        return limits.reduced_mg_per_day
    return limits.standard_mg_per_day


def reduced_limit_reasons(
    *,
    older_adult: bool,
    older_adult_age_years: int,
    hepatic_impairment: bool,
    alcohol_use_disorder: bool,
) -> tuple[str, ...]:
    """Why the reduced limit applies, in words, for messages."""
    reasons = (
        (f"age {older_adult_age_years} or older", older_adult),
        ("hepatic impairment", hepatic_impairment),
        ("alcohol use disorder", alcohol_use_disorder),
    )
    return tuple(text for text, applies in reasons if applies)
