"""PATIENT_UNDER_18: the guideline and the CDC 2022 opioid guideline are for adults."""

from __future__ import annotations

from collections.abc import Iterable

from regimenguard.interactions.knowledge_base import RuleSpec
from regimenguard.regimen.facts import RegimenFacts
from regimenguard.regimen.model import Finding
from regimenguard.regimen.rules.base import make_finding


def patient_under_18(facts: RegimenFacts, spec: RuleSpec) -> Iterable[Finding]:
    """One WARNING for a patient known to be under 18; every adult check still runs."""
    if not facts.minor or not facts.active_orders:
        return ()
    return (
        make_finding(
            spec,
            drugs=[name for order in facts.active_orders for name in order.ingredient_names],
            message=(
                f"The patient is {facts.patient.age_years}: the guideline, its doses and the CDC "
                "opioid thresholds are written for adults. The adult limits were applied and may "
                "be too high for this patient."
            ),
            recommendation=(
                "Check each drug and dose against its label's pediatric use (dosing by weight, age "
                "limits and contraindications) with a pharmacist or a pediatric reference."
            ),
        ),
    )
