"""The checker: facts, rules, acknowledgements and verdict for one regimen."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from operator import itemgetter

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
    assemble_result,
    assemble_summary,
)
from regimenguard.regimen.rules import RULES
from regimenguard.regimen.rules.base import Rule, RuleCheck
from regimenguard.regimen.vocabulary import SEROTONERGIC


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
        # the patient conditions under which a finding's severity is capped (cap_for_context)
        self._cap_conditions: tuple[str, ...] = tuple(
            sorted(
                {cap.condition for caps in knowledge.context.severity_caps.values() for cap in caps}
            )
        )
        # a finding's sort key: its rule's position less its severity shifted past every position
        self._severity_shift = len(knowledge.rules).bit_length()
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
        # each rule's findings in catalogue order, those of one rule by drugs then message (a
        # stable sort: equals keep the rule's order); a rule gives a list or a tuple
        findings: list[Finding] = []
        for spec, check, triggers in self._rules:
            if triggers & present:
                found = check(facts, spec)
                if found:
                    kind = type(found)
                    if kind is not list and kind is not tuple:
                        found = list(found)
                    if len(found) > 1:
                        found = sorted(found, key=_DRUGS_MESSAGE)
                    findings += found
        capped = False
        patient = request.patient
        for condition in self._cap_conditions:  # a cap applies only if its condition holds
            if getattr(patient, condition, False):
                findings = cap_for_context(findings, facts)
                capped = True
                break
        findings = self._acknowledge(findings, request.acknowledgements)
        # The verdict weighs every finding; the site's minimum severity only trims the report.
        overall = verdict(findings)
        minimum = self.knowledge.settings.minimum_severity
        if minimum > _INFO:
            findings = [finding for finding in findings if finding.severity >= minimum]
        # most severe first, then in catalogue order, by drugs, by message, equals in the order
        # found: the findings are in that order but for their severity, so a stable sort by
        # severity alone orders them (a cap changes severities and messages: sorted by them all)
        if capped:
            findings = self._sorted(findings)
        else:
            findings.sort(key=_SEVERITY, reverse=True)  # stable, reversed or not
        return assemble_result(  # CheckResult(...), its fields in order, faster
            request.request_id,
            overall,
            tuple(findings),
            summary(facts),
            self.knowledge.version,
        )

    def _sorted(self, findings: list[Finding]) -> list[Finding]:
        """Most severe first, then in catalogue order, by drugs, by message; equals in their
        order (one key per finding: severity and position as one integer, its index last so
        that the finding itself is never compared)."""
        rank, shift = self._position, self._severity_shift
        keyed = [
            (
                rank[finding.rule_id] - (finding.severity << shift),
                finding.drugs,
                finding.message,
                i,
                finding,
            )
            for i, finding in enumerate(findings)
        ]
        keyed.sort()
        return [item[-1] for item in keyed]

    def _acknowledge(
        self, findings: list[Finding], acknowledgements: Iterable[Acknowledgement]
    ) -> list[Finding]:
        """Mark WARNING and INFO findings an acknowledgement covers; CRITICAL ones never are.

        An acknowledgement naming drugs covers a finding only when every drug of the finding is
        among them, so a new drug joining an acknowledged combination is reviewed afresh.
        ``findings`` itself when none is covered (it is never changed).
        """
        if not acknowledgements:
            return findings
        # rule id -> the drug sets its acknowledgements name (empty: every finding of the rule)
        covers: dict[str, list[frozenset[str]]] = {}
        for ack in acknowledgements:
            drugs = self._canonical(ack.drugs) if ack.drugs else _NO_DRUGS
            named = covers.get(ack.rule_id)
            if named is None:
                covers[ack.rule_id] = [drugs]
            else:
                named.append(drugs)
        marked: list[Finding] | None = None  # a copy of ``findings``, once one is covered
        for position, finding in enumerate(findings):
            named = covers.get(finding.rule_id)
            if named is None or finding.severity >= _CRITICAL:
                continue
            for drugs in named:
                if not drugs or drugs.issuperset(finding.drugs):
                    if marked is None:
                        marked = list(findings)
                    marked[position] = _acknowledged(finding)
                    break
        return findings if marked is None else marked

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
    """``finding``, marked acknowledged (``finding._replace(acknowledged=True)``: its last
    field, built as the tuple it is at a fraction of ``_replace``'s cost)."""
    return _tuple_new(Finding, (*finding[:_ACKNOWLEDGED], True))


_tuple_new = tuple.__new__
# ``acknowledged`` is Finding's last field: a finding acknowledged is its fields before, then True
if Finding._fields[-1] != "acknowledged":
    raise TypeError("engine._acknowledged: Finding.acknowledged must be its last field")
_ACKNOWLEDGED = len(Finding._fields) - 1
_NO_DRUGS: frozenset[str] = frozenset()


# enum members read once (a class attribute read of an Enum member is slow on Python 3.11)
_CRITICAL, _WARNING, _INFO = Severity.CRITICAL, Severity.WARNING, Severity.INFO
_ACCEPT, _REVIEW, _REJECT = Verdict.ACCEPT, Verdict.REVIEW, Verdict.REJECT
# a finding's fields read in C (Finding is a named tuple), for the sort
_SEVERITY = itemgetter(Finding._fields.index("severity"))
_DRUGS_MESSAGE = itemgetter(Finding._fields.index("drugs"), Finding._fields.index("message"))


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
    """What the answer says of the regimen as a whole: totals, orders, fired interactions."""
    hits = facts.edge_hits
    if facts.washout_hits_by_rule:
        washouts = facts.washout_hits_by_rule.values()
        hits = (*hits, *(washout.hit for found in washouts for washout in found))
    # each FiredInteraction built as its tuple (FiredInteraction(...) is a Python-level
    # __new__), from its edge's fields compiled at start-up and the hit's drugs (EdgeHit.drugs)
    knowledge = facts.knowledge
    edges, prefixes = knowledge.index.edges, knowledge.compiled.edge_summaries
    interactions = []
    count = len(edges)
    for hit in hits:
        drugs_a, drugs_b = hit.drugs_a, hit.drugs_b
        if not drugs_a:
            drugs = drugs_b
        elif not drugs_b:
            drugs = drugs_a
        elif len(drugs_a) == 1 and len(drugs_b) == 1:  # the common case: one drug a side
            a, b = drugs_a[0], drugs_b[0]
            drugs = (a, b) if a < b else (b, a) if b < a else drugs_a
        else:
            drugs = tuple(sorted({*drugs_a, *drugs_b}))
        position, edge = hit.position, hit.edge
        if position < count and edges[position] is edge:  # a hit of this knowledge base
            interactions.append(_tuple_new(FiredInteraction, prefixes[position] + (drugs,)))
        else:
            fields = (edge.node_a, edge.node_b, edge.rule_id, edge.severity, drugs)
            interactions.append(_tuple_new(FiredInteraction, fields))
    uncounted = facts.mme_uncounted
    return assemble_summary(  # RegimenSummary(...), its fields in order, faster
        facts.acetaminophen_mg_per_day,
        facts.acetaminophen_limit_mg_per_day,
        facts.mme_per_day,
        len(facts.members.get(SEROTONERGIC, ())),  # facts.serotonergic
        facts.orders,
        tuple(interactions),
        facts.oud_treatment_drugs if facts.oud_orders else (),
        tuple(sorted({name for _, name in uncounted})) if uncounted else (),
    )
