"""The checker: facts, rules, acknowledgements and verdict for one regimen."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace

from interactions.datafile import DataError
from interactions.knowledge_base import RuleSpec
from regimen.class_usage import check_classes_used
from regimen.facts import RegimenFacts, build_facts
from regimen.knowledge import Knowledge
from regimen.model import (
    Acknowledgement,
    CheckResult,
    Finding,
    FiredInteraction,
    RegimenRequest,
    RegimenSummary,
    Severity,
    Verdict,
)
from regimen.rules import RULES
from regimen.rules.base import Rule, RuleCheck


class RegimenChecker:
    """Built once at start-up; ``check`` is then safe to call from many threads."""

    def __init__(self, knowledge: Knowledge, rules: Mapping[str, Rule] = RULES) -> None:
        catalogue = {spec.rule_id for spec in knowledge.rules}
        missing, extra = catalogue - set(rules), set(rules) - catalogue
        if missing or extra:
            raise DataError(
                f"rules.csv and the rule registry disagree: no function for {sorted(missing)}, "
                f"no catalogue row for {sorted(extra)}"
            )
        self.knowledge = knowledge
        self._rules: tuple[tuple[RuleSpec, RuleCheck, frozenset[str]], ...] = tuple(
            (spec, rules[spec.rule_id].check, rules[spec.rule_id].triggers(knowledge, spec.rule_id))
            for spec in knowledge.rules
        )
        self._position = {spec.rule_id: position for position, spec in enumerate(knowledge.rules)}
        check_classes_used(knowledge, (node for _, _, nodes in self._rules for node in nodes))

    @property
    def rule_ids(self) -> frozenset[str]:
        return frozenset(self._position)

    def check(self, request: RegimenRequest) -> CheckResult:
        facts = build_facts(request, self.knowledge)
        present = facts.present
        findings = [
            finding
            for spec, check, triggers in self._rules
            if not triggers.isdisjoint(present)
            for finding in check(facts, spec)
        ]
        findings = self._acknowledge(findings, request.acknowledgements)
        # The verdict weighs every finding; the site's minimum severity only trims the report.
        overall = verdict(findings)
        minimum = self.knowledge.settings.minimum_severity
        findings = sorted(
            (finding for finding in findings if finding.severity >= minimum),
            key=lambda f: (-f.severity, self._position[f.rule_id], f.drugs, f.message),
        )
        return CheckResult(
            request_id=request.request_id,
            verdict=overall,
            findings=tuple(findings),
            summary=summary(facts),
            knowledge_base_version=self.knowledge.version,
        )

    def _acknowledge(
        self, findings: list[Finding], acknowledgements: Iterable[Acknowledgement]
    ) -> list[Finding]:
        """Mark WARNING and INFO findings an acknowledgement covers; CRITICAL ones never are.

        An acknowledgement naming drugs covers a finding only when every drug of the finding is
        among them, so a new drug joining an acknowledged combination is reviewed afresh.
        """
        covers = [(ack.rule_id, self._canonical(ack.drugs)) for ack in acknowledgements]
        if not covers:
            return findings
        marked = []
        for finding in findings:
            acknowledged = finding.severity < Severity.CRITICAL and any(
                rule_id == finding.rule_id and (not drugs or set(finding.drugs) <= drugs)
                for rule_id, drugs in covers
            )
            marked.append(replace(finding, acknowledged=True) if acknowledged else finding)
        return marked

    def _canonical(self, names: Iterable[str]) -> frozenset[str]:
        canonical: set[str] = set()
        for name in names:
            match = self.knowledge.resolver.resolve(name)
            if match is None:
                canonical.add(name)
            else:
                canonical.update(ingredient for ingredient, _ in match.ingredients)
        return frozenset(canonical)


def verdict(findings: Iterable[Finding]) -> Verdict:
    """REJECT on any CRITICAL; REVIEW on an unacknowledged WARNING; otherwise ACCEPT."""
    result = Verdict.ACCEPT
    for finding in findings:
        if finding.severity is Severity.CRITICAL:
            return Verdict.REJECT
        if finding.severity is Severity.WARNING and not finding.acknowledged:
            result = Verdict.REVIEW
    return result


def summary(facts: RegimenFacts) -> RegimenSummary:
    return RegimenSummary(
        acetaminophen_mg_per_day=facts.acetaminophen_mg_per_day,
        acetaminophen_limit_mg_per_day=facts.acetaminophen_limit_mg_per_day,
        morphine_mg_equivalents_per_day=facts.mme_per_day,
        serotonergic_agents=len(facts.serotonergic),
        orders=facts.orders,
        interactions=tuple(
            FiredInteraction(
                hit.edge.node_a, hit.edge.node_b, hit.edge.rule_id, hit.edge.severity, hit.drugs
            )
            for hit in facts.edge_hits
        ),
    )
