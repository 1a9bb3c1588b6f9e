"""ACETAMINOPHEN_DAILY_MAX: acetaminophen from every order, combination products included."""

from __future__ import annotations

from collections.abc import Iterable

from regimenguard.dosing.acetaminophen import ACETAMINOPHEN, reduced_limit_reasons
from regimenguard.interactions.knowledge_base import RuleSpec
from regimenguard.regimen.facts import RegimenFacts
from regimenguard.regimen.model import Finding
from regimenguard.regimen.rules.base import (
    amount,
    daily_amounts,
    join,
    order_label,
    plural,
    rule_finding,
)


def acetaminophen_daily_max(facts: RegimenFacts, spec: RuleSpec) -> Iterable[Finding]:
    """Fires when the daily total exceeds the limit (equal to the limit is within it).

    The total counts as-needed orders at their maximum and every product that contains
    acetaminophen; the limit is 3,000 mg/day, or 2,000 mg/day for an older adult or with
    hepatic impairment or alcohol use disorder (site-configurable).
    """
    total = facts.acetaminophen_mg_per_day
    limit = facts.acetaminophen_limit_mg_per_day
    if total <= limit:
        return ()
    # the total (the ingredient's: this very amount) and each order's daily amount (the known
    # ones summed: an unknown one adds nothing)
    total_text, orders, sources = daily_amounts(facts, ACETAMINOPHEN)
    if not sources:  # an order whose amount is unknown adds nothing
        sources = "; ".join(
            [text or f"{order_label(order)} {amount(0.0)}/day" for order, text in orders]
        )
    patient = facts.request.patient
    reasons = reduced_limit_reasons(
        older_adult=facts.older_adult,
        older_adult_age_years=facts.knowledge.thresholds.older_adult_age_years,
        hepatic_impairment=patient.hepatic_impairment,
        alcohol_use_disorder=patient.alcohol_use_disorder,
    )
    why = f" ({join(reasons)})" if reasons else ""
    limit_text = amount(limit)
    return (
        rule_finding(
            spec,
            spec.default_severity,
            _DRUGS,
            f"Acetaminophen totals {total_text}/day from {plural(len(orders), 'order')} "
            f"({sources}); the limit for this patient is {limit_text}/day{why}.",
            f"Bring total acetaminophen to {limit_text}/day or less across every product, "
            "including combination opioid tablets and over-the-counter sources: lower the "
            "dose or frequency, or use one acetaminophen-containing product only.",
        ),
    )


_DRUGS = (ACETAMINOPHEN,)
