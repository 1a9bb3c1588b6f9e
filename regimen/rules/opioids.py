"""Opioids: restricted use for back pain, and the daily morphine-equivalent dose."""

from __future__ import annotations

from collections.abc import Iterable

from regimenguard.interactions.knowledge_base import RuleSpec
from regimenguard.regimen.facts import RegimenFacts
from regimenguard.regimen.model import Finding
from regimenguard.regimen.rules.base import (
    CRITICAL,
    INFO,
    START,
    TRANSDERMAL,
    WARNING,
    amount,
    form_label,
    join,
    make_finding,
    order_label,
    rule_finding,
    sentence,
)
from regimenguard.regimen.vocabulary import RESTRICTED_OPIOID


def opioid_not_first_line(facts: RegimenFacts, spec: RuleSpec) -> Iterable[Finding]:
    """An opioid other than tramadol started for back pain; advice for long-term opioids.

    Guideline, "Restricted use of opioids": not routinely used; reserved for persistent,
    disabling symptoms despite all other attempts. A start is a WARNING, INFO when the patient
    has refractory symptoms. A continuing long-term opioid gets INFO advice to lower the
    morphine-equivalent dose with first-line therapies.
    """
    started, continued = set(), set()
    uses = facts.ingredients
    for order, ingredient in facts.ingredients_in(RESTRICTED_OPIOID):
        name = ingredient.name
        if order.order.action is START and uses[name].is_new:
            started.add(name)
        else:
            continued.add(name)
    findings = []
    if started:
        refractory = facts.request.patient.refractory_symptoms
        names = tuple(sorted(started))
        findings.append(
            rule_finding(
                spec,
                INFO if refractory else WARNING,
                names,
                f"{(names[0] if len(names) == 1 else join(names)).capitalize()} is started for "
                "back pain; opioids are not routine therapy"
                + (" (the patient has refractory symptoms)." if refractory else "."),
                "Reserve opioids for persistent, disabling symptoms despite all other therapies, "
                "in patients not at risk of misuse; use the lowest dose and monitor closely.",
            )
        )
    long_term = sorted(continued - started) if continued else ()
    if long_term:
        findings.append(
            make_finding(
                spec,
                drugs=long_term,
                severity=INFO,
                message=f"Long-term {join(long_term)} continues for back pain.",
                recommendation=(
                    "Work toward a lower morphine-equivalent dose by optimising nonpharmacologic and "
                    "first-line therapies."
                ),
            )
        )
    return findings


def opioid_daily_mme(facts: RegimenFacts, spec: RuleSpec) -> Iterable[Finding]:
    """Total MME/day at or above 50 (WARNING) or 90 (CRITICAL), CDC 2022 factors.

    Counts every opioid order whatever its indication, except treatment of opioid use disorder
    (methadone or buprenorphine for OUD: the thresholds are for pain); buprenorphine (excluded
    by the CDC) and opioids without a factor are named as not counted. Thresholds are
    site-configurable.
    """
    settings = facts.knowledge.settings
    total = facts.mme_per_day
    if total < settings.mme_warning_per_day:
        return ()
    critical = total >= settings.mme_critical_per_day
    threshold = settings.mme_critical_per_day if critical else settings.mme_warning_per_day
    parts = [
        f"{name} {amount(mme, 'MME')}" for name, mme in sorted(facts.mme_by_ingredient.items())
    ]
    uncounted = (
        f" Not counted (no CDC factor or amount): {join(facts.mme_excluded)}."
        if facts.mme_excluded
        else ""
    )
    if facts.oud_orders:
        uncounted += (
            f" {join(facts.oud_treatment_drugs).capitalize()} for opioid use disorder is not part "
            "of this pain total."
        )
    return (
        make_finding(
            spec,
            drugs=list(facts.mme_by_ingredient),
            severity=CRITICAL if critical else WARNING,
            message=(
                f"Opioids total {amount(total, 'MME')}/day ({'; '.join(parts)}), at or above "
                f"{amount(threshold, 'MME')}/day.{uncounted}"
            ),
            recommendation=(
                "Taper toward a lower dose or justify and document the need; offer naloxone and "
                "reassess benefits and harms."
                if critical
                else "Pause and reassess benefits and harms before going higher; offer naloxone."
            ),
        ),
    )


def mme_incomplete(facts: RegimenFacts, spec: RuleSpec) -> Iterable[Finding]:
    """Opioids the MME total cannot count: it is then a lower bound, and the finding says so.

    No CDC factor for the order's route or product (buccal, nasal or sublingual fentanyl;
    meperidine), or no amount (a brand without its strength, a patch without its rate).
    Buprenorphine, which the CDC deliberately does not convert, is not reported here.
    """
    if not facts.mme_uncounted:
        return ()
    table = facts.knowledge.dosing.mme
    reasons = []
    for order, name in facts.mme_uncounted:
        transdermal = order.order.route is TRANSDERMAL
        form = form_label(order, name)
        if table.factor(name, transdermal=transdermal) is None:
            reasons.append(f"{form} has no CDC conversion factor for this route or product")
        else:
            reasons.append(f"{form} ({order_label(order)}) has no known amount")
    names = sorted({name for _, name in facts.mme_uncounted})
    counted = facts.mme_per_day
    settings = facts.knowledge.settings
    thresholds = (
        f"{amount(settings.mme_warning_per_day, '')} and "
        f"{amount(settings.mme_critical_per_day, '')} MME/day"
    )
    return (
        make_finding(
            spec,
            drugs=names,
            message=(
                f"{sentence('; '.join(dict.fromkeys(reasons)))}. The opioid total of "
                f"{amount(counted, 'MME')}/day leaves {join(names)} out and is a lower bound."
            ),
            recommendation=(
                f"Work out the morphine equivalent of {join(names)} from its label or with a "
                "pharmacist (give the dose, strength or patch rate), then judge the whole total "
                f"against {thresholds}."
            ),
        ),
    )
