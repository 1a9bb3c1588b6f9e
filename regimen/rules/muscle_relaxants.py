"""Skeletal muscle relaxants: course length and choice of agent."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from regimenguard.interactions.knowledge_base import RuleSpec
from regimenguard.regimen.facts import RegimenFacts
from regimenguard.regimen.knowledge import Knowledge
from regimenguard.regimen.model import Finding, ResolvedIngredient, ResolvedOrder, TherapyResponse
from regimenguard.regimen.rules.base import (
    BENEFIT,
    INFO,
    NO_BENEFIT,
    NOT_TOLERATED,
    START,
    WARNING,
    course_days,
    join,
    kept_value,
    rule_finding,
)
from regimenguard.regimen.vocabulary import MISUSE_RISK_MODERATE as MISUSE
from regimenguard.regimen.vocabulary import MUSCLE_RELAXANT
from regimenguard.regimen.vocabulary import PREFERRED_MUSCLE_RELAXANT as PREFERRED


def muscle_relaxant_duration(facts: RegimenFacts, spec: RuleSpec) -> Iterable[Finding]:
    """A muscle relaxant course longer than its limit (28 days; carisoprodol 21, label).

    The course runs from ``started_on`` to ``as_of`` for a current order, or is
    ``planned_days`` for a new one; an open-ended new order or an unknown start is not judged.
    Long-term use is accepted (INFO) when the order's response is BENEFIT (so it is tolerated)
    and the patient has refractory symptoms, as the guideline's long-term section allows.
    Judged on back-pain orders only: long-term baclofen for spasticity is not this guideline's.
    """
    findings = []
    as_of = facts.request.as_of
    for order, ingredient in _relaxants(facts):
        found = kept_value(order, _course_limits, facts.knowledge, spec).get(ingredient.name)
        if found is None:
            continue  # no limit, or a new course planned within it
        limit, section = found
        days = course_days(order, as_of)
        if days is None or days <= limit:
            continue
        refractory = facts.request.patient.refractory_symptoms
        missing = _missing_long_term_criteria(order.order.response, refractory)
        long_term_ok = not missing
        over = days - limit
        if order.order.action is START:
            course = f"is planned for {days} days"
        else:
            course = f"has run {days} days (since {order.order.started_on})"
        course += f", {over:g} day{'s' if over != 1 else ''} over its limit of {limit:g} days"
        if long_term_ok:
            message_end = (
                " Long-term criteria are met: it helps, is tolerated, and symptoms are refractory."
            )
            advice = (
                "Continue only while it keeps helping and is well tolerated; reassess regularly."
            )
        else:
            message_end = f" Long-term use needs all three criteria; {join(missing)}."
            taper = facts.knowledge.context.taper_reason(ingredient.nodes)
            if taper:
                ending = (
                    f"Taper {ingredient.name} over days to weeks rather than stopping it "
                    f"abruptly ({taper}), aiming to finish by day {limit:g}"
                )
            else:
                ending = f"Stop {ingredient.name} by day {limit:g}"
            advice = (
                f"{ending}, or continue only if it helps, is tolerated and symptoms are "
                "refractory; for longer-term therapy consider duloxetine."
            )
        findings.append(
            rule_finding(
                spec,
                INFO if long_term_ok else WARNING,
                (ingredient.name,),
                f"{ingredient.name.capitalize()} {course}.{message_end}",
                advice,
                section,
            )
        )
    return findings


def _course_limits(
    order: ResolvedOrder, knowledge: Knowledge, spec: RuleSpec
) -> Mapping[str, tuple[float, str]]:
    """Each muscle relaxant of the order that has a course limit (and its source) and whose
    course can run over it: a new order planned within its limit (or open-ended) cannot."""
    limits: dict[str, tuple[float, str]] = {}
    medication = order.order
    new = medication.action is START or medication.started_on is None
    for ingredient in order.ingredients:
        if MUSCLE_RELAXANT not in ingredient.nodes:
            continue
        limit, section = _course_limit(knowledge, ingredient.name, spec)
        if limit is None or (new and medication.planned_days <= limit):
            continue
        limits[ingredient.name] = (limit, section)
    return limits


def _relaxants(facts: RegimenFacts) -> list[tuple[ResolvedOrder, ResolvedIngredient]]:
    """The back-pain orders' muscle relaxants (both rules ask: once per request)."""
    key = ("ingredients in", MUSCLE_RELAXANT)
    found = facts.memo.get(key)
    if found is None:
        found = facts.memo[key] = facts.ingredients_in(MUSCLE_RELAXANT)
    return found  # type: ignore[return-value]  # the memo holds this key's list


def _missing_long_term_criteria(response: TherapyResponse, refractory: bool) -> list[str]:
    """Which of the guideline's long-term criteria (helps, tolerated, refractory) are not met."""
    missing = []
    if response is NOT_TOLERATED:
        missing.append("it is not tolerated")
    elif response is NO_BENEFIT:
        missing.append("it has not helped")
    elif response is not BENEFIT:
        missing.append("benefit (and so tolerability) is not documented")
    if not refractory:
        missing.append("symptoms are not documented as refractory")
    return missing


def _course_limit(knowledge: Knowledge, name: str, spec: RuleSpec) -> tuple[float | None, str]:
    """The longest course for this relaxant, and where that limit comes from.

    A site's limit for the drug by name wins. Otherwise the stricter of the drug's own row
    (carisoprodol 21 days, label) and the limit for every relaxant (the site's, or the
    guideline's 28 days) applies.
    """
    settings = knowledge.settings
    limits = knowledge.dosing.course_limits
    if name in settings.muscle_relaxant_max_days_by_drug:
        return settings.muscle_relaxant_max_days_by_drug[name], spec.guideline_section
    candidates: list[tuple[float, str]] = []
    drug_row = limits.get(f"drug:{name}")
    if drug_row is not None and drug_row.rule_id == spec.rule_id:
        candidates.append((drug_row.max_days, drug_row.section))
    class_row = limits.get(MUSCLE_RELAXANT)
    if settings.muscle_relaxant_max_days is not None:
        candidates.append((settings.muscle_relaxant_max_days, spec.guideline_section))
    elif class_row is not None:
        candidates.append((class_row.max_days, spec.guideline_section))
    if not candidates:
        return None, spec.guideline_section
    return min(candidates)


def nonpreferred_muscle_relaxant(facts: RegimenFacts, spec: RuleSpec) -> Iterable[Finding]:
    """A back-pain muscle relaxant other than the preferred cyclobenzaprine or tizanidine.

    INFO; WARNING when the agent has misuse potential (carisoprodol).
    """
    chosen = {
        ingredient.name: ingredient
        for _, ingredient in _relaxants(facts)
        if PREFERRED not in ingredient.nodes
    }
    if not chosen:
        return ()
    preferred = facts.knowledge.index.class_members.get(PREFERRED, ())
    findings = []
    for name, ingredient in sorted(chosen.items()):
        misuse = MISUSE in ingredient.nodes
        findings.append(
            rule_finding(
                spec,
                WARNING if misuse else INFO,
                (name,),
                f"{name.capitalize()} is not a preferred muscle relaxant for back pain"
                + (" and carries misuse potential." if misuse else "."),
                f"Prefer {join(preferred)} (better studied, no misuse potential).",
            )
        )
    return findings
