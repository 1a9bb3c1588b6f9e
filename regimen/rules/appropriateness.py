"""Agents the guideline does not recommend for back pain, or not yet."""

from __future__ import annotations

from collections.abc import Iterable

from regimenguard.interactions.knowledge_base import RuleSpec
from regimenguard.interactions.severity import Severity
from regimenguard.regimen.facts import RegimenFacts
from regimenguard.regimen.model import Finding
from regimenguard.regimen.rules.base import INFO, START, WARNING, join, make_finding
from regimenguard.regimen.vocabulary import BENZODIAZEPINE, SNRI
from regimenguard.regimen.vocabulary import NOT_RECOMMENDED_FOR_BACK_PAIN as NOT_RECOMMENDED


def not_recommended_for_back_pain(facts: RegimenFacts, spec: RuleSpec) -> Iterable[Finding]:
    """A back-pain order of an agent the guideline does not recommend (INFO; benzodiazepines WARNING).

    Only orders with no indication are judged: sertraline for depression is not back-pain
    therapy. Which agents is data (class ``not_recommended_for_back_pain``).
    """
    by_severity: dict[Severity, set[str]] = {}
    for _, ingredient in facts.ingredients_in(NOT_RECOMMENDED):
        severity = WARNING if BENZODIAZEPINE in ingredient.nodes else INFO
        by_severity.setdefault(severity, set()).add(ingredient.name)
    findings = []
    for severity, names in sorted(by_severity.items(), reverse=True):
        drugs = sorted(names)
        benzo = severity is WARNING
        findings.append(
            make_finding(
                spec,
                drugs=drugs,
                severity=severity,
                message=(
                    f"{join(drugs).capitalize()} ordered for back pain: "
                    + (
                        "benzodiazepines are not approved for it and risk dependence and misuse."
                        if benzo
                        else "trials show no benefit or mixed results for back pain."
                    )
                ),
                recommendation=(
                    "Use a nonbenzodiazepine muscle relaxant if spasm needs treatment."
                    if benzo
                    else "Prefer an NSAID, a muscle relaxant for a short course, or duloxetine."
                ),
            )
        )
    return findings


def duloxetine_subacute(facts: RegimenFacts, spec: RuleSpec) -> Iterable[Finding]:
    """An SNRI started for back pain of 12 weeks or less (pain duration known).

    Guideline, "Duloxetine": its slow onset limits its role in acute or subacute pain; it is a
    therapy for chronic low back pain.
    """
    weeks = facts.request.patient.pain_duration_weeks
    subacute_max = facts.knowledge.thresholds.subacute_max_weeks
    if not weeks or weeks > subacute_max:
        return ()
    uses = facts.ingredients
    started = sorted(
        {
            ingredient.name
            for order, ingredient in facts.ingredients_in(SNRI)
            if order.order.action is START and uses[ingredient.name].is_new
        }
    )
    if not started:
        return ()
    return (
        make_finding(
            spec,
            drugs=started,
            message=(
                f"{join(started).capitalize()} is started for back pain of {weeks} weeks; its slow "
                f"onset suits chronic (over {subacute_max} weeks) rather than subacute pain."
            ),
            recommendation=(
                "For subacute pain, prefer an NSAID with a short muscle-relaxant course; keep "
                "duloxetine for chronic pain."
            ),
        ),
    )
