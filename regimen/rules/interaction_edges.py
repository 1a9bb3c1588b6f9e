"""Findings from interaction-graph edges: one mechanism for every pairwise rule.

NSAID + acetaminophen, benzodiazepine + opioid, MAOI + serotonergic agent, tizanidine + a
CYP1A2 inhibitor, drug + patient condition: each is an ``interacts`` edge in the data; the
facts already hold the edges that fired. This module turns them into findings:

- each pair (two drugs, or a drug and a condition) is reported once, under the most severe
  edge of the rule that joins it (an opioid with carisoprodol is the carisoprodol WARNING, not
  also the muscle-relaxant INFO);
- edges of the same severity over the same drugs become one finding (an NSAID with a history of
  GI bleeding and renal impairment);
- a finding whose drugs are all covered by a more severe finding of the same rule is dropped
  (no INFO "older adult on an NSAID" beside a WARNING for the same NSAID).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from regimenguard.interactions.knowledge_base import InteractionEdge, RuleSpec
from regimenguard.interactions.severity import Severity
from regimenguard.regimen.facts import EdgeHit, RegimenFacts
from regimenguard.regimen.model import Finding
from regimenguard.regimen.rules.base import join, make_finding, sentence

Pair = tuple[str, str]
# A rule's own recommendation for one fired edge and its pairs (default: the edge's).
Advice = Callable[[EdgeHit, list[Pair]], str]


def edge_findings(
    facts: RegimenFacts, spec: RuleSpec, advice: Advice | None = None
) -> list[Finding]:
    """Every finding of this rule's edges that fired for the regimen.

    ``advice`` gives a rule's own recommendation for a hit and its pairs.
    """
    hits = facts.edge_hits_by_rule.get(spec.rule_id, ())
    if not hits:
        return []
    if len(hits) == 1:  # the common case: one edge of the rule, every pair its own
        hit = hits[0]
        pairs = list(dict.fromkeys(_pairs(hit)))
        return [_finding(facts, spec, [(hit, pairs)], advice)] if pairs else []
    best: dict[Pair, EdgeHit] = {}
    for hit in hits:
        for pair in _pairs(hit):
            current = best.get(pair)
            if current is None or hit.edge.severity > current.edge.severity:
                best[pair] = hit
    won: dict[int, list[Pair]] = {}
    for pair, hit in best.items():
        won.setdefault(id(hit), []).append(pair)

    grouped: dict[tuple[Severity, tuple[str, ...]], list[tuple[EdgeHit, list[Pair]]]] = {}
    for hit in hits:
        hit_pairs = won.get(id(hit))
        if hit_pairs:
            drugs = tuple(sorted({drug for pair in hit_pairs for drug in pair if ":" not in drug}))
            grouped.setdefault((hit.edge.severity, drugs), []).append((hit, hit_pairs))

    findings = [_finding(facts, spec, group, advice) for group in grouped.values()]
    if len(findings) < 2:
        return findings
    drug_sets = [frozenset(finding.drugs) for finding in findings]
    return [
        finding
        for finding, drugs in zip(findings, drug_sets, strict=True)
        if not any(
            other.severity > finding.severity and drugs <= other_drugs
            for other, other_drugs in zip(findings, drug_sets, strict=True)
        )
    ]


def _pairs(hit: EdgeHit) -> Iterable[Pair]:
    edge = hit.edge
    if not hit.drugs_a:
        return ((drug, edge.node_a) for drug in hit.drugs_b)
    if not hit.drugs_b:
        return ((drug, edge.node_b) for drug in hit.drugs_a)
    return ((min(a, b), max(a, b)) for a in hit.drugs_a for b in hit.drugs_b if a != b)


def _finding(
    facts: RegimenFacts,
    spec: RuleSpec,
    group: list[tuple[EdgeHit, list[Pair]]],
    advice: Advice | None = None,
) -> Finding:
    first_edge: InteractionEdge = group[0][0].edge
    parts = [sentence(_describe(facts, hit, pairs)) for hit, pairs in group]
    recommendations = list(
        dict.fromkeys(
            (advice(hit, pairs) if advice else "") or hit.edge.recommendation
            for hit, pairs in group
        )
    )
    sections = list(dict.fromkeys(hit.edge.section or spec.guideline_section for hit, _ in group))
    drugs = {drug for _, pairs in group for pair in pairs for drug in pair if ":" not in drug}
    drugs.update(drug for hit, _ in group for _, witnesses in hit.witnesses for drug in witnesses)
    stated = dict.fromkeys(
        sentence(_presence(facts, node, present))
        for hit, _ in group
        for node, present in hit.presence
    )
    parts.extend(stated)
    return make_finding(
        spec,
        drugs=drugs,
        severity=first_edge.severity,
        message=" ".join(parts),
        recommendation=" ".join(recommendations),
        section="; ".join(sections),
        ncpdp_reason_code=first_edge.ncpdp_reason_code,
    )


def _describe(facts: RegimenFacts, hit: EdgeHit, pairs: list[Pair]) -> str:
    edge = hit.edge
    label = facts.knowledge.index.label
    in_pairs = {drug for pair in pairs for drug in pair}
    side_a = [drug for drug in hit.drugs_a if drug in in_pairs]
    side_b = [drug for drug in hit.drugs_b if drug in in_pairs]
    confirm = " (interaction awaiting pharmacist confirmation)" if edge.needs_confirmation else ""
    rationale = edge.rationale
    if hit.witnesses:
        rationale = f"{rationale.rstrip('.')}, here with {_witness_text(facts, hit)}."
    if not side_a or not side_b:  # a drug and a patient condition
        drugs, condition = (side_b, edge.node_a) if not side_a else (side_a, edge.node_b)
        return f"{join(drugs)} in a patient {label(condition)}: {rationale}{confirm}"
    return f"{_side(label(edge.node_a), side_a)} with {_side(label(edge.node_b), side_b)}: {rationale}{confirm}"


def _witness_text(facts: RegimenFacts, hit: EdgeHit) -> str:
    """What met an escalation: ``clopidogrel (antiplatelet agents)``, ``age 65 or older``."""
    label = facts.knowledge.index.label
    texts = []
    for node, drugs in hit.witnesses:
        if drugs:
            texts.append(f"{join(list(drugs))} ({label(node)})")
        else:
            texts.append(f"a patient {label(node)}")
    return join(texts)


def _presence(facts: RegimenFacts, node: str, present: tuple[str, ...]) -> str:
    """``gastroprotective agents ...: omeprazole in the regimen`` or ``no ... in the regimen``."""
    label = facts.knowledge.index.label(node)
    if present:
        return f"{label} in the regimen: {join(list(present))}."
    return f"no {label} in the regimen."


def _side(label: str, drugs: list[str]) -> str:
    if not drugs:
        return label  # a patient condition
    if drugs == [label]:
        return label
    return f"{label} ({join(drugs)})"
