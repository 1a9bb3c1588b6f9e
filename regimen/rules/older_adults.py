"""OLDER_ADULT_CAUTION: TCAs (guideline) and AGS Beers Criteria 2023 for patients 65 or older."""

from __future__ import annotations

from collections.abc import Iterable

from regimenguard.interactions.knowledge_base import RuleSpec
from regimenguard.regimen.facts import EdgeHit, RegimenFacts
from regimenguard.regimen.model import Finding
from regimenguard.regimen.rules.base import join, rule_finding
from regimenguard.regimen.rules.interaction_edges import edge_findings
from regimenguard.regimen.vocabulary import CNS_ACTIVE

BEERS = "AGS Beers Criteria 2023"


def older_adult_caution(facts: RegimenFacts, spec: RuleSpec) -> Iterable[Finding]:
    """An older adult on a TCA or a Beers avoid-list drug (edges), or on 3+ CNS-active drugs.

    The advice speaks of the drugs concerned: a muscle relaxant gets muscle-relaxant advice, a
    benzodiazepine benzodiazepine advice (older_adult_advice.csv, by class); an edge without a
    matching row keeps its own recommendation.
    """
    notes = facts.knowledge.context.older_adult_advice
    nodes = facts.knowledge.index.systemic_nodes

    def advice(hit: EdgeHit, pairs: list[tuple[str, str]]) -> str:
        drugs = {drug for pair in pairs for drug in pair if ":" not in drug}
        if len(drugs) == 1:  # the common case: one drug (with the older-adult condition)
            (drug,) = drugs
            own = nodes.get(drug, ())
            texts = [note.text for note in notes if note.node in own]
        else:
            texts = [
                note.text
                for note in notes
                if any(note.node in nodes.get(drug, ()) for drug in drugs)
            ]
        return " ".join(dict.fromkeys(texts)) if len(texts) > 1 else "".join(texts)

    findings = list(edge_findings(facts, spec, advice))
    if not facts.older_adult:
        return findings
    thresholds = facts.knowledge.thresholds
    active = facts.members.get(CNS_ACTIVE, ())  # (facts.members_of, read directly)
    if len(active) >= thresholds.cns_active_drugs_older_adult:
        findings.append(
            rule_finding(  # the drugs: members, sorted without repeats
                spec,
                spec.default_severity,
                active,
                f"{len(active)} CNS-active drugs together ({join(active)}) in a patient "
                f"{thresholds.older_adult_age_years} or older raise the risk of falls and fracture.",
                "Reduce the number of CNS-active drugs; taper those with the least benefit.",
                BEERS,
            )
        )
    return findings
