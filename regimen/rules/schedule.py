"""How a drug must be scheduled: DOSING_SCHEDULE and TRAMADOL_EXTENDED_RELEASE_START.

The constraints are data (schedule_constraints.csv), attached to a drug or a class:
duloxetine is taken every day, not as needed; a TCA once daily at bedtime; extended-release
tramadol is not an as-needed drug, and is not how tramadol is started. Judged on back-pain
orders only.
"""

from __future__ import annotations

from collections.abc import Iterable

from regimenguard.dosing.tables import ScheduleConstraint
from regimenguard.interactions.knowledge_base import RuleSpec
from regimenguard.regimen.facts import SCHEDULE_BREAKS, RegimenFacts
from regimenguard.regimen.model import Finding, ResolvedIngredient, ResolvedOrder
from regimenguard.regimen.rules.base import START, rule_finding

_ADVICE = {
    "not_as_needed": (
        "is ordered as needed; it works only when taken every day",
        "Order it once daily, every day.",
    ),
    "at_most_once_daily": (
        "is ordered {times:g} times a day; it is taken once daily at bedtime",
        "Give the whole daily dose once, at bedtime.",
    ),
    "extended_release_not_as_needed": (
        "is an extended-release form ordered as needed",
        "Use the short-acting form for as-needed dosing, or schedule the extended-release form.",
    ),
}


def _constraints(
    facts: RegimenFacts, rule_id: str
) -> list[tuple[ResolvedOrder, ResolvedIngredient, ScheduleConstraint]]:
    dosing = facts.knowledge.dosing
    constrained = dosing.schedule_nodes.get(rule_id)
    if not constrained:
        return []
    table = dosing.schedule_constraints
    found = []
    for order in facts.back_pain_orders():
        for ingredient in order.ingredients:
            nodes = ingredient.nodes
            if constrained.isdisjoint(nodes):
                continue
            for node in nodes:
                for constraint in table.get(node, ()):
                    if constraint.rule_id == rule_id:
                        found.append((order, ingredient, constraint))
    return found


def dosing_schedule(facts: RegimenFacts, spec: RuleSpec) -> Iterable[Finding]:
    """An order whose schedule breaks its drug's constraint."""
    findings = []
    judged = SCHEDULE_BREAKS.get(spec.rule_id, {})
    for order, ingredient, constraint in _constraints(facts, spec.rule_id):
        broken = judged.get(constraint.constraint)
        if broken is None or not broken(order):
            continue
        problem, advice = _ADVICE[constraint.constraint]
        findings.append(
            rule_finding(
                spec,
                spec.default_severity,
                (ingredient.name,),
                f"{ingredient.name.capitalize()} {problem.format(times=order.order.doses_per_day)}.",
                advice,
                constraint.section,
            )
        )
    return findings


def extended_release_start(facts: RegimenFacts, spec: RuleSpec) -> Iterable[Finding]:
    """An extended-release form started in a patient not already on the short-acting form.

    "Already on it" means the request also holds a CONTINUE, CHANGE_DOSE or STOP order of the
    same ingredient that is not extended-release (the stable short-acting regimen being
    converted).
    """
    findings = []
    judged = SCHEDULE_BREAKS.get(spec.rule_id, {})
    for order, ingredient, constraint in _constraints(facts, spec.rule_id):
        broken = judged.get(constraint.constraint)
        if broken is None or not broken(order):  # an extended-release start
            continue
        on_short_acting = any(
            other.order.action is not START
            and not other.order.extended_release
            and ingredient.name in other.ingredient_names
            for other in facts.orders
        )
        if on_short_acting:
            continue
        findings.append(
            rule_finding(
                spec,
                spec.default_severity,
                (ingredient.name,),
                f"Extended-release {ingredient.name} is started without a stable short-acting "
                f"{ingredient.name} regimen; a long-acting form complicates titration.",
                f"Start short-acting {ingredient.name} at the lowest dose as needed; consider "
                "the extended-release form only once a stable standing dose is established.",
                constraint.section,
            )
        )
    return findings
