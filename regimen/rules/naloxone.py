"""NALOXONE_NOT_PRESCRIBED: an opioid with an overdose risk factor and no naloxone on hand.

CDC 2022 recommendation 8: offer naloxone when the risk of overdose is higher: 50 MME/day or
more, a benzodiazepine taken with the opioid, a history of substance use disorder, or treatment
of opioid use disorder. An opioid with a muscle relaxant alone, below 50 MME/day, is not such a
risk factor. The MME threshold is data (opioid_thresholds.csv).
"""

from __future__ import annotations

from collections.abc import Iterable

from regimenguard.interactions.knowledge_base import RuleSpec
from regimenguard.regimen.compiled import REVERSAL_AGENT_ALONE
from regimenguard.regimen.facts import OPIOID, RegimenFacts
from regimenguard.regimen.model import Finding
from regimenguard.regimen.rules.base import amount, join, make_finding, sentence
from regimenguard.regimen.vocabulary import BENZODIAZEPINE


def has_naloxone(facts: RegimenFacts) -> bool:
    """An active order of a reversal agent alone (naloxone in Suboxone does not reverse): the
    facts mark it (regimenguard.regimen.compiled.REVERSAL_AGENT_ALONE)."""
    return bool(facts.present >> facts.knowledge.compiled.bit[REVERSAL_AGENT_ALONE] & 1)


def naloxone_not_prescribed(facts: RegimenFacts, spec: RuleSpec) -> Iterable[Finding]:
    members = facts.members  # (facts.members_of, read directly)
    opioids = members.get(OPIOID, ())
    if not opioids or has_naloxone(facts):
        return ()
    threshold = facts.knowledge.context.thresholds["naloxone_mme_per_day"]
    risks = []
    mme = facts.mme_per_day
    if mme >= threshold:
        risks.append(f"{amount(mme, 'MME')}/day (at or above {amount(threshold, 'MME')}/day)")
    benzodiazepines = members.get(BENZODIAZEPINE, ())
    if benzodiazepines:
        risks.append(f"a benzodiazepine taken with it ({join(benzodiazepines)})")
    if facts.request.patient.substance_use_disorder:
        risks.append("a history of substance use disorder")
    if facts.oud_orders:
        risks.append(f"treatment of opioid use disorder ({join(facts.oud_treatment_drugs)})")
    if not risks:
        return ()
    return (
        make_finding(
            spec,
            drugs=[*opioids, *benzodiazepines],
            message=(
                f"{sentence(join(opioids))} with a higher risk of overdose ({'; '.join(risks)}), "
                "and no naloxone in the regimen."
            ),
            recommendation=(
                "Offer naloxone (for example a 4 mg nasal spray) and teach the patient and the "
                "people they live with when and how to use it."
            ),
        ),
    )
