"""Interactions of a drug stopped within its washout (washouts.csv).

An MAOI stopped today still interacts with duloxetine started today: the labels ask for 14 days
between them (5 weeks after fluoxetine before an MAOI). The facts hold the edges that join such
a stopped drug to an active one; each becomes a finding of the edge's rule and severity that
says when the drug was stopped and when the window ends.
"""

from __future__ import annotations

import datetime as dt

from regimenguard.interactions.knowledge_base import RuleSpec
from regimenguard.regimen.facts import RegimenFacts, WashoutHit
from regimenguard.regimen.model import Finding
from regimenguard.regimen.rules.base import join, make_finding


def washout_findings(facts: RegimenFacts, spec: RuleSpec) -> list[Finding]:
    return [_finding(facts, spec, hit) for hit in facts.washout_hits_by_rule.get(spec.rule_id, ())]


def _when(hit: WashoutHit) -> str:
    if hit.days_ago > 0:
        return f"was stopped {hit.days_ago} day{'s' if hit.days_ago != 1 else ''} ago ({hit.stopped_on.isoformat()})"
    if hit.days_ago == 0:
        return f"is stopped today ({hit.stopped_on.isoformat()})"
    return f"is to be stopped on {hit.stopped_on.isoformat()}"


def _finding(facts: RegimenFacts, spec: RuleSpec, hit: WashoutHit) -> Finding:
    edge = hit.hit.edge
    label = facts.knowledge.index.label
    others = [drug for drug in hit.hit.drugs if drug != hit.stopped_drug]
    washout = hit.washout
    clear_on = hit.stopped_on + dt.timedelta(days=int(washout.days))
    confirm = " (washout awaiting pharmacist confirmation)" if washout.needs_confirmation else ""
    return make_finding(
        spec,
        drugs=hit.hit.drugs,
        severity=edge.severity,
        message=(
            f"{hit.stopped_drug.capitalize()} {_when(hit)}, within its {washout.days:g}-day washout "
            f"before {label(washout.other)} ({join(others)}){confirm}: {edge.rationale}"
        ),
        recommendation=(
            f"Do not start {join(others)} before {clear_on.isoformat()} ({washout.days:g} days after "
            f"{hit.stopped_drug} is stopped), or choose an alternative without this interaction."
        ),
        section="; ".join(dict.fromkeys([edge.section or spec.guideline_section, washout.source])),
        ncpdp_reason_code=edge.ncpdp_reason_code,
    )
