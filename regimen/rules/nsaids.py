"""NSAIDs: patient risks, course limits, and continuing one that does not help."""

from __future__ import annotations

from collections.abc import Iterable

from regimenguard.interactions.knowledge_base import RuleSpec
from regimenguard.regimen.facts import RegimenFacts
from regimenguard.regimen.model import Finding
from regimenguard.regimen.rules.base import SYSTEMIC_ROUTES, course_days, make_finding, rule_finding
from regimenguard.regimen.rules.interaction_edges import edge_findings
from regimenguard.regimen.vocabulary import NSAID


def nsaid_risk(facts: RegimenFacts, spec: RuleSpec) -> Iterable[Finding]:
    """A systemic NSAID with a risk factor, or beyond its course limit.

    The risk factors are interaction edges (GI bleeding history, renal impairment,
    cardiovascular disease, an anticoagulant: WARNING; an older adult alone: INFO); the course
    limit is data (ketorolac at most 5 days in total, with its NCPDP code MX).
    """
    findings = edge_findings(facts, spec)  # a new list
    limited = facts.knowledge.dosing.drug_course_limits.get(spec.rule_id)
    if not limited or limited.keys().isdisjoint(facts.ingredients):
        return findings  # no active ingredient with a course limit
    as_of = facts.request.as_of
    for order in facts.active_orders:
        if order.order.route not in SYSTEMIC_ROUTES:
            continue
        for ingredient in order.ingredients:
            limit = limited.get(ingredient.name)
            if limit is None:
                continue
            days = course_days(order, as_of)
            if days is None or days <= limit.max_days:
                continue
            findings.append(
                make_finding(
                    spec,
                    drugs=[ingredient.name],
                    message=(
                        f"{ingredient.name.capitalize()} course of {days} days exceeds its "
                        f"{limit.max_days:g}-day limit (serious GI, renal and bleeding risk)."
                    ),
                    recommendation=f"Stop {ingredient.name} by day {limit.max_days:g}; switch to another NSAID if needed.",
                    section=limit.section,
                    ncpdp_reason_code=limit.ncpdp_reason_code,
                )
            )
    return findings


def nsaid_previously_ineffective(facts: RegimenFacts, spec: RuleSpec) -> Iterable[Finding]:
    """An NSAID continued for back pain although marked as giving no benefit.

    Guideline, "Nonopioid analgesics": NSAIDs are not used for chronic therapy when they were
    ineffective. Whether a drug is an NSAID is judged on the whole regimen (aspirin only above
    its antiplatelet dose); a topical NSAID is not judged.
    """
    findings = []
    ingredients = facts.ingredients
    for order in facts.back_pain_no_benefit:  # active, for back pain, NO_BENEFIT
        if order.order.route not in SYSTEMIC_ROUTES:
            continue
        for ingredient in order.ingredients:
            # the regimen's classes: aspirin is an NSAID only at analgesic daily doses
            if NSAID in ingredients[ingredient.name].nodes:
                findings.append(
                    rule_finding(
                        spec,
                        spec.default_severity,
                        (ingredient.name,),
                        f"{ingredient.name.capitalize()} continues although it has not helped.",
                        f"Stop {ingredient.name}; consider duloxetine or a tricyclic antidepressant "
                        "for longer-term therapy.",
                    )
                )
    return findings
