"""NSAIDs: patient risks, course limits, and continuing one that does not help."""

from __future__ import annotations

from collections.abc import Iterable

from regimenguard.dosing.tables import CourseLimit
from regimenguard.interactions.knowledge_base import RuleSpec
from regimenguard.regimen.facts import RegimenFacts
from regimenguard.regimen.model import Finding, TherapyResponse
from regimenguard.regimen.rules.base import course_days, make_finding
from regimenguard.regimen.rules.interaction_edges import edge_findings
from regimenguard.regimen.vocabulary import NSAID


def nsaid_risk(facts: RegimenFacts, spec: RuleSpec) -> Iterable[Finding]:
    """A systemic NSAID with a risk factor, or beyond its course limit.

    The risk factors are interaction edges (GI bleeding history, renal impairment,
    cardiovascular disease, an anticoagulant: WARNING; an older adult alone: INFO); the course
    limit is data (ketorolac at most 5 days in total, with its NCPDP code MX).
    """
    findings = list(edge_findings(facts, spec))
    limited = _course_limits(facts, spec.rule_id)
    if not limited:
        return findings
    for order in facts.active_orders:
        if not order.order.route.is_systemic:
            continue
        for ingredient in order.ingredients:
            limit = limited.get(ingredient.name)
            if limit is None:
                continue
            days = course_days(order, facts.as_of)
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


def _course_limits(facts: RegimenFacts, rule_id: str) -> dict[str, CourseLimit]:
    """The regimen's ingredients with a course limit of this rule, with the limit."""
    limits = facts.knowledge.dosing.course_limits
    found = {}
    for name in facts.ingredients:
        limit = limits.get(f"drug:{name}")
        if limit is not None and limit.rule_id == rule_id:
            found[name] = limit
    return found


def nsaid_previously_ineffective(facts: RegimenFacts, spec: RuleSpec) -> Iterable[Finding]:
    """An NSAID continued for back pain although marked as giving no benefit.

    Guideline, "Nonopioid analgesics": NSAIDs are not used for chronic therapy when they were
    ineffective. Whether a drug is an NSAID is judged on the whole regimen (aspirin only above
    its antiplatelet dose); a topical NSAID is not judged.
    """
    findings = []
    for order in facts.active_orders:
        if (
            order.order.response is not TherapyResponse.NO_BENEFIT
            or not order.order.is_back_pain_therapy
        ):
            continue
        for ingredient in order.ingredients:
            # the regimen's classes: aspirin is an NSAID only at analgesic daily doses
            if NSAID in facts.ingredients[ingredient.name].nodes and order.order.route.is_systemic:
                findings.append(
                    make_finding(
                        spec,
                        drugs=[ingredient.name],
                        message=f"{ingredient.name.capitalize()} continues although it has not helped.",
                        recommendation=(
                            f"Stop {ingredient.name}; consider duloxetine or a tricyclic antidepressant "
                            "for longer-term therapy."
                        ),
                    )
                )
    return findings
