"""The order of a check's findings: most severe first, then in catalogue order, by drugs, by
message, equals in the order their rule gave them; whatever order a rule gives them in, with
or without a context cap, with or without a site's minimum severity."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

import pytest

from bench.bulkgen import Generator
from regimenguard.interactions.knowledge_base import RuleSpec
from regimenguard.regimen.engine import RegimenChecker
from regimenguard.regimen.facts import RegimenFacts
from regimenguard.regimen.knowledge import Knowledge
from regimenguard.regimen.model import Finding, RegimenRequest, Severity
from regimenguard.regimen.rules import RULES
from regimenguard.regimen.rules.base import Rule
from regimenguard.regimen.validation import RequestInvalid, normalized, request_error
from regimenguard.server.convert import decode_request
from regimenguard.v1 import regimen_checker_pb2 as pb

SAMPLE = 400


def _requests(knowledge: Knowledge) -> list[RegimenRequest]:
    generator = Generator(unique_orders=False)
    requests = []
    for i in range(SAMPLE):
        decoded = decode_request(pb.CheckRegimenRequest.FromString(generator.regimen(i)), knowledge)
        if (
            not isinstance(decoded, RequestInvalid)
            and request_error(decoded, knowledge.settings, knowledge) is None
        ):
            requests.append(normalized(decoded))
    return requests


def _reference(findings: Iterable[Finding], knowledge: Knowledge) -> list[Finding]:
    position = {spec.rule_id: i for i, spec in enumerate(knowledge.rules)}
    return sorted(findings, key=lambda f: (-f.severity, position[f.rule_id], f.drugs, f.message))


def _reversed_rules() -> dict[str, Rule]:
    """Every rule, giving its findings in the reverse of its own order (a generator for one)."""

    def reversed_check(rule: Rule, as_generator: bool) -> Rule:
        def check(facts: RegimenFacts, spec: RuleSpec) -> Iterable[Finding]:
            found = list(rule.check(facts, spec))[::-1]
            return (finding for finding in found) if as_generator else found

        return Rule(check, rule.triggers)

    return {
        rule_id: reversed_check(rule, i % 2 == 0) for i, (rule_id, rule) in enumerate(RULES.items())
    }


@pytest.mark.parametrize("cap", [None, "active_cancer_treatment", "palliative_care"])
def test_findings_come_in_the_reference_order_whatever_the_rules_order(
    knowledge: Knowledge, cap: str | None
) -> None:
    checker = RegimenChecker(knowledge, rules=_reversed_rules())
    ties = capped = 0
    for request in _requests(knowledge):
        if cap is not None:
            patient = dataclasses.replace(request.patient, **{cap: True})
            request = dataclasses.replace(request, patient=patient)
        found = checker.check(request).findings
        assert list(found) == _reference(found, knowledge)
        keys = [(f.severity, f.rule_id) for f in found]
        ties += len(set(keys)) < len(keys)  # two findings of one rule and severity
        capped += any("Advice only" in f.message for f in found)
    assert ties > SAMPLE // 10
    assert (capped > SAMPLE // 20) == (cap is not None)


def test_a_sites_minimum_severity_trims_the_report_not_the_verdict(knowledge: Knowledge) -> None:
    settings = dataclasses.replace(knowledge.settings, minimum_severity=Severity.WARNING)
    trimmed = RegimenChecker(dataclasses.replace(knowledge, settings=settings))
    full = RegimenChecker(knowledge)
    hidden = 0
    for request in _requests(knowledge):
        every, shown = full.check(request), trimmed.check(request)
        assert shown.verdict == every.verdict
        assert shown.findings == tuple(f for f in every.findings if f.severity >= Severity.WARNING)
        hidden += len(shown.findings) < len(every.findings)
    assert hidden > SAMPLE // 10
