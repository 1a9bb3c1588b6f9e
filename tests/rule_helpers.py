"""Small helpers the rule-by-rule test files share."""

from __future__ import annotations

from regimenguard.regimen.model import CheckResult, Finding, MedicationOrder


def only(result: CheckResult, rule_id: str) -> Finding:
    """The one finding of a rule (fails, listing every finding, if there is not exactly one)."""
    found = [f for f in result.findings if f.rule_id == rule_id]
    assert len(found) == 1, [(f.rule_id, f.severity.name, f.drugs) for f in result.findings]
    return found[0]


def fired(result: CheckResult, rule_id: str) -> bool:
    return any(f.rule_id == rule_id for f in result.findings)


def order(drug: str, dose: float, per_day: float, **kwargs) -> MedicationOrder:  # type: ignore[no-untyped-def]
    """``order("naproxen", 500, 2)``: a single-ingredient order, mg per dose and doses a day."""
    return MedicationOrder(drug, dose, doses_per_day=per_day, **kwargs)
