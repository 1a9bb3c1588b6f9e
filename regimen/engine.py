"""The checker: facts, rules, acknowledgements and verdict for one regimen."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from regimenguard.interactions.datafile import DataError
from regimenguard.interactions.knowledge_base import RuleSpec
from regimenguard.regimen.cache import OrderRecords
from regimenguard.regimen.class_usage import check_classes_used
from regimenguard.regimen.facts import RegimenFacts, build_facts
from regimenguard.regimen.knowledge import Knowledge
from regimenguard.regimen.model import (
    Acknowledgement,
    CheckResult,
    Finding,
    FiredInteraction,
    RegimenRequest,
    RegimenSummary,
    Severity,
    Verdict,
)
from regimenguard.regimen.rules import RULES
from regimenguard.regimen.rules.base import Rule, RuleCheck


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
        # the one cache: order records by content (regimenguard.regimen.cache), its counts in the metrics
        self.order_records: OrderRecords = OrderRecords()
        # each rule with the mask of its triggers (a DataError names a trigger node the
        # knowledge base does not have: the rule could never fire)
        self._rules: tuple[tuple[RuleSpec, RuleCheck, int], ...] = tuple(
            (
                spec,
                rules[spec.rule_id].check,
                knowledge.compiled.mask(rules[spec.rule_id].triggers(knowledge, spec.rule_id)),
            )
            for spec in knowledge.rules
        )
        self._position = {spec.rule_id: position for position, spec in enumerate(knowledge.rules)}
        compiled = knowledge.compiled
        check_classes_used(
            knowledge, (node for _, _, mask in self._rules for node in compiled.nodes_in(mask))
        )

    @property
    def rule_ids(self) -> frozenset[str]:
        return frozenset(self._position)

    def check(self, request: RegimenRequest) -> CheckResult:
        facts = build_facts(request, self.knowledge, self.order_records)
        present = facts.present
        findings = [
            finding
            for spec, check, triggers in self._rules
            if triggers & present
            for finding in check(facts, spec)
        ]
        findings = cap_for_context(findings, facts)
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
        if not acknowledgements:
            return findings
        # rule id -> the drug sets its acknowledgements name (empty: every finding of the rule)
        covers: dict[str, list[frozenset[str]]] = {}
        for ack in acknowledgements:
            covers.setdefault(ack.rule_id, []).append(self._canonical(ack.drugs))
        marked = []
        for finding in findings:
            named = covers.get(finding.rule_id)
            if named is not None and finding.severity < _CRITICAL:
                for drugs in named:
                    if not drugs or drugs.issuperset(finding.drugs):
                        finding = _acknowledged(finding)
                        break
            marked.append(finding)
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


def _acknowledged(finding: Finding) -> Finding:
    """``finding``, marked acknowledged."""
    return finding._replace(acknowledged=True)


# enum members read once (a class attribute read of an Enum member is slow on Python 3.11)
_CRITICAL, _WARNING = Severity.CRITICAL, Severity.WARNING
_ACCEPT, _REVIEW, _REJECT = Verdict.ACCEPT, Verdict.REVIEW, Verdict.REJECT


def verdict(findings: Iterable[Finding]) -> Verdict:
    """REJECT on any CRITICAL; REVIEW on an unacknowledged WARNING; otherwise ACCEPT."""
    result = _ACCEPT
    for finding in findings:
        severity = finding.severity
        if severity is _CRITICAL:
            return _REJECT
        if severity is _WARNING and not finding.acknowledged:
            result = _REVIEW
    return result


def cap_for_context(findings: list[Finding], facts: RegimenFacts) -> list[Finding]:
    """Lower findings to the severity a patient context allows (context_severity.csv).

    The CDC 2022 guideline does not cover pain of active cancer treatment or palliative care,
    so its MME thresholds and the opioid restriction become advice there; the finding says why.
    """
    caps = facts.knowledge.context.severity_caps
    if not caps:
        return findings
    patient = facts.patient
    capped = []
    for finding in findings:
        if finding.rule_id not in caps:
            capped.append(finding)
            continue
        applicable = [
            cap
            for cap in caps.get(finding.rule_id, ())
            if getattr(patient, cap.condition, False) and cap.severity < finding.severity
        ]
        if not applicable:
            capped.append(finding)
            continue
        cap = min(applicable, key=lambda c: c.severity)
        label = facts.knowledge.index.label(f"condition:{cap.condition}")
        capped.append(
            finding._replace(
                severity=cap.severity,
                message=(
                    f"{finding.message} Advice only for a patient {label}: the CDC 2022 opioid "
                    "guideline does not cover this pain."
                ),
            )
        )
    return capped


def summary(facts: RegimenFacts) -> RegimenSummary:
    hits = facts.edge_hits
    if facts.washout_hits_by_rule:
        washouts = facts.washout_hits_by_rule.values()
        hits = (*hits, *(washout.hit for found in washouts for washout in found))
    interactions = []
    for hit in hits:
        edge = hit.edge
        interactions.append(
            FiredInteraction(edge.node_a, edge.node_b, edge.rule_id, edge.severity, hit.drugs)
        )
    return RegimenSummary(
        acetaminophen_mg_per_day=facts.acetaminophen_mg_per_day,
        acetaminophen_limit_mg_per_day=facts.acetaminophen_limit_mg_per_day,
        morphine_mg_equivalents_per_day=facts.mme_per_day,
        serotonergic_agents=len(facts.serotonergic),
        orders=facts.orders,
        interactions=tuple(interactions),
        oud_treatment_drugs=facts.oud_treatment_drugs,
        mme_uncounted_drugs=tuple(sorted({name for _, name in facts.mme_uncounted})),
    )
