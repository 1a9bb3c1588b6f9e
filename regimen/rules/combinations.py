"""Rules over the mix of agents: serotonergic load, duplicates, and the pairwise edge rules."""

from __future__ import annotations

from collections.abc import Iterable

from regimenguard.interactions.knowledge_base import RuleSpec
from regimenguard.regimen.facts import RegimenFacts
from regimenguard.regimen.model import Finding
from regimenguard.regimen.rules.base import (
    CRITICAL,
    SYSTEMIC_ROUTES,
    WARNING,
    join,
    order_amount,
    rule_finding,
)
from regimenguard.regimen.rules.interaction_edges import edge_findings
from regimenguard.regimen.rules.washout import washout_findings
from regimenguard.regimen.vocabulary import SEROTONERGIC


def serotonergic_combination(facts: RegimenFacts, spec: RuleSpec) -> Iterable[Finding]:
    """Two distinct serotonergic ingredients: WARNING; three or more: CRITICAL.

    Counts every active order, whatever its indication (an SSRI for depression adds to the
    load). The recommendation carries each agent's advice from the knowledge base: with
    cyclobenzaprine and a serotonergic antidepressant, tizanidine (not serotonergic); with
    tramadol, serotonin syndrome and the lowered seizure threshold.
    """
    members = facts.members  # (facts.members_of, read directly)
    agents = members.get(SEROTONERGIC, ())
    if len(agents) < 2:
        return ()
    knowledge = facts.knowledge
    severity = (
        CRITICAL if len(agents) >= knowledge.thresholds.serotonergic_critical_agents else WARNING
    )
    advice_by_agent = knowledge.index.serotonergic_advice
    specific = []
    sources = []
    for agent in agents:
        advice = advice_by_agent.get(agent)
        if advice is None:
            continue
        if advice.with_node:
            with_members = members.get(advice.with_node, ())
            if with_members.count(agent) == len(with_members):
                continue  # no drug but this agent realises the node
        specific.append(advice.recommendation)
        sources.append(advice.source)
    general = (
        "Keep only the serotonergic agents that are needed; if they must be combined, monitor "
        "closely for serotonin syndrome (agitation, tremor, clonus, hyperthermia)."
    )
    return (
        rule_finding(  # the agents: members, sorted without repeats
            spec,
            severity,
            agents,
            f"{len(agents)} serotonergic agents together ({join(agents)}) add to the risk "
            "of serotonin syndrome.",
            " ".join([*specific, general]),
            "; ".join(dict.fromkeys(sources)) or _first_section(spec),
        ),
    )


def _first_section(spec: RuleSpec) -> str:
    """The catalogue's primary section (the later ones are drug-specific)."""
    return spec.guideline_section.split(";")[0].strip()


def duplicate_therapy(facts: RegimenFacts, spec: RuleSpec) -> Iterable[Finding]:
    """Two different ingredients of one class that should not be doubled.

    The classes and severities are data (classes.csv ``duplicate_severity``): CRITICAL for two
    systemic NSAIDs; WARNING for two muscle relaxants, TCAs, benzodiazepines or opioids. The
    same ingredient in two orders (scheduled + PRN) is one ingredient, not a duplicate; aspirin
    at antiplatelet doses is not an NSAID.
    """
    index = facts.knowledge.index
    present = facts.members  # (facts.members_of, read directly)
    findings = []
    for node, severity in index.duplicate_severity.items():
        members = present.get(node)
        if members is None or len(members) < 2:
            continue
        label = index.label(node)
        named = join(members)
        findings.append(
            rule_finding(  # the members: sorted without repeats
                spec,
                severity,
                members,
                f"{len(members)} {label} together ({named}): same class, added harm without added benefit.",
                f"Choose one of {named} and stop the other{'s' if len(members) > 2 else ''}.",
            )
        )
    return findings


def pairwise(facts: RegimenFacts, spec: RuleSpec) -> Iterable[Finding]:
    """A rule that is nothing but interaction edges in the graph (see interaction_edges).

    Used for CONTRAINDICATED_COMBINATION, CNS_DEPRESSANT_COMBINATION, SEIZURE_RISK, MISUSE_RISK
    and DRUG_CONDITION (NSAID_WITH_ACETAMINOPHEN and BENZODIAZEPINE_WITH_OPIOID reword the same
    edge findings with the amounts, see their modules): which pairs and
    conditions, with what severity, is entirely the data's. A drug stopped within its washout
    (washouts.csv) still counts for the edges of its rule, and says so.
    """
    findings = edge_findings(facts, spec)
    if facts.washout_hits_by_rule:
        findings.extend(washout_findings(facts, spec))
    return findings


def duplicate_ingredient(facts: RegimenFacts, spec: RuleSpec) -> Iterable[Finding]:
    """Two or more scheduled systemic orders of one ingredient (NCPDP ID).

    A scheduled order with an as-needed one for breakthrough is a common, deliberate pattern
    and is not reported; the daily totals already count every order.
    """
    findings = []
    for use in facts.ingredients.values():
        if len(use.orders) < 2:
            continue
        scheduled = [
            order
            for order in use.orders
            if not order.order.as_needed and order.order.route in SYSTEMIC_ROUTES
        ]
        if len(scheduled) < 2:
            continue
        amounts = [order_amount(order, use.name) for order in scheduled]
        findings.append(
            rule_finding(
                spec,
                spec.default_severity,
                (use.name,),
                f"{use.name.capitalize()} is in {len(scheduled)} scheduled orders "
                f"({'; '.join(amounts)}): the same ingredient twice is easily taken twice.",
                f"Keep one scheduled order of {use.name} (with an as-needed order for "
                "breakthrough if one is wanted), and stop or merge the others.",
            )
        )
    return findings
