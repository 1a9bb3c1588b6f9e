"""Every clinical scenario of tests/scenarios.py through the real gRPC API.

One server per module (ephemeral port on 127.0.0.1); each scenario is parsed from its protobuf
JSON form, sent with CheckRegimen, and its verdict, required and forbidden findings checked.
The whole table then goes through CheckRegimenBatch and the CheckRegimens stream, which must
give the same answers in the same order. A coverage test holds the table to the catalogue:
every rule fires somewhere (with its default severity and its alternate severities) and is
forbidden somewhere (a near miss).
"""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest
from google.protobuf import json_format

from regimenguard.regimen.engine import RegimenChecker
from regimenguard.regimen.knowledge import load_knowledge
from regimenguard.server.app import ServerOptions, create_server
from regimenguard.v1 import regimen_checker_pb2 as pb
from regimenguard.v1 import regimen_checker_pb2_grpc as pb_grpc
from tests.scenarios import SCENARIOS, SEVERITIES, Scenario

TIMEOUT = 30.0
SEVERITY_NAME = {
    pb.SEVERITY_INFO: "INFO",
    pb.SEVERITY_WARNING: "WARNING",
    pb.SEVERITY_CRITICAL: "CRITICAL",
}
RANK = {name: rank for rank, name in enumerate(SEVERITIES)}

# Severities other than the default that the table must also show (clinical-rules.md).
ALTERNATE_SEVERITIES = (
    ("SEROTONERGIC_COMBINATION", "CRITICAL"),
    ("DUPLICATE_THERAPY", "CRITICAL"),
    ("DUPLICATE_THERAPY", "WARNING"),
    ("MISUSE_RISK", "CRITICAL"),
    ("MUSCLE_RELAXANT_DURATION", "INFO"),
    ("OPIOID_DAILY_MME", "CRITICAL"),
    ("NOT_RECOMMENDED_FOR_BACK_PAIN", "WARNING"),
    ("NONPREFERRED_MUSCLE_RELAXANT", "WARNING"),
    ("NSAID_RISK", "INFO"),
    ("OPIOID_NOT_FIRST_LINE", "INFO"),
    ("CNS_DEPRESSANT_COMBINATION", "INFO"),
    # issue 11: cancer treatment or palliative care make the MME thresholds advice
    ("OPIOID_DAILY_MME", "INFO"),
)


@pytest.fixture(scope="module")
def stub() -> Iterator[pb_grpc.RegimenCheckerServiceStub]:
    checker = RegimenChecker(load_knowledge())
    running = create_server(checker, ServerOptions(host="127.0.0.1", port=0))
    assert running.port > 0
    running.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{running.port}")
    try:
        grpc.channel_ready_future(channel).result(timeout=TIMEOUT)
        yield pb_grpc.RegimenCheckerServiceStub(channel)
    finally:
        channel.close()
        running.stop(grace=1.0)


def to_request(scenario: Scenario) -> pb.CheckRegimenRequest:
    return json_format.ParseDict(
        {**scenario.request, "requestId": scenario.name}, pb.CheckRegimenRequest()
    )


def describe(response: pb.CheckRegimenResponse) -> str:
    lines = [f"verdict {pb.Verdict.Name(response.verdict)}"]
    for finding in response.findings:
        ack = " (acknowledged)" if finding.acknowledged else ""
        lines.append(
            f"  {finding.rule_id} {SEVERITY_NAME.get(finding.severity, finding.severity)}"
            f" {list(finding.drugs)}{ack}: {finding.message}"
        )
    return "\n".join(lines)


def problems(scenario: Scenario, response: pb.CheckRegimenResponse) -> list[str]:
    """Every way the response departs from the scenario's expectations."""
    found: list[str] = []
    verdict = pb.Verdict.Name(response.verdict).removeprefix("VERDICT_")
    if verdict != scenario.verdict:
        found.append(f"verdict {verdict}, expected {scenario.verdict}")
    findings = list(response.findings)
    ids = {finding.rule_id for finding in findings}
    for rule_id, severity in scenario.must.items():
        matching = [
            f
            for f in findings
            if f.rule_id == rule_id and (severity is None or SEVERITY_NAME[f.severity] == severity)
        ]
        if not matching:
            found.append(f"missing {rule_id}" + (f" at {severity}" if severity else ""))
    for rule_id in scenario.must_not:
        if rule_id in ids:
            found.append(f"unexpected {rule_id}")
    if scenario.only and ids != set(scenario.must):
        found.append(f"findings {sorted(ids)}, expected exactly {sorted(scenario.must)}")
    if scenario.max_severity is not None:
        ceiling = RANK[scenario.max_severity]
        above = [f.rule_id for f in findings if RANK[SEVERITY_NAME[f.severity]] > ceiling]
        if above:
            found.append(f"findings above {scenario.max_severity}: {above}")
    for rule_id in scenario.acknowledged:
        of_rule = [f for f in findings if f.rule_id == rule_id]
        if not of_rule or not all(f.acknowledged for f in of_rule):
            found.append(f"{rule_id} not acknowledged")
    for rule_id in scenario.unacknowledged:
        if any(f.acknowledged for f in findings if f.rule_id == rule_id):
            found.append(f"{rule_id} acknowledged, expected not")
    for rule_id, words in scenario.mentions.items():
        text = " ".join(
            f"{f.message} {f.recommendation}" for f in findings if f.rule_id == rule_id
        ).casefold()
        missing = [word for word in words if word.casefold() not in text]
        if missing:
            found.append(f"{rule_id} does not mention {missing}")
    for rule_id, code in scenario.ncpdp.items():
        codes = {f.ncpdp_reason_code for f in findings if f.rule_id == rule_id}
        if code not in codes:
            found.append(f"{rule_id} NCPDP codes {sorted(codes)}, expected {code}")
    summary = json_format.MessageToDict(response.summary)
    for key, expected in scenario.summary.items():
        actual = float(summary.get(key, 0))
        if abs(actual - expected) > 1e-6:
            found.append(f"summary.{key} = {actual:g}, expected {expected:g}")
    return found


def assert_well_formed(response: pb.CheckRegimenResponse, request_id: str) -> None:
    """Contract invariants every answer keeps: echo, version, findings complete and sorted."""
    assert response.request_id == request_id
    assert not response.HasField("error")
    assert response.knowledge_base_version
    ranks = [RANK[SEVERITY_NAME[f.severity]] for f in response.findings]
    assert ranks == sorted(ranks, reverse=True), "findings must be most severe first"
    for finding in response.findings:
        assert finding.message and finding.recommendation, finding
        assert finding.guideline_section and finding.ncpdp_reason_code, finding
        if finding.severity == pb.SEVERITY_CRITICAL:
            assert not finding.acknowledged, "a CRITICAL finding is never acknowledged"


def _params() -> list[object]:
    params = []
    for scenario in SCENARIOS:
        marks = (
            [pytest.mark.xfail(strict=True, raises=AssertionError, reason=scenario.bug)]
            if scenario.bug
            else []
        )
        params.append(pytest.param(scenario, id=scenario.name, marks=marks))
    return params


@pytest.mark.parametrize("scenario", _params())
def test_scenario(stub: pb_grpc.RegimenCheckerServiceStub, scenario: Scenario) -> None:
    response = stub.CheckRegimen(to_request(scenario), timeout=TIMEOUT)
    assert_well_formed(response, scenario.name)
    found = problems(scenario, response)
    assert not found, f"{scenario.name}: {scenario.rationale}\n" + "\n".join(
        [*found, describe(response)]
    )


@pytest.fixture(scope="module")
def unary_answers(stub: pb_grpc.RegimenCheckerServiceStub) -> list[pb.CheckRegimenResponse]:
    return [stub.CheckRegimen(to_request(s), timeout=TIMEOUT) for s in SCENARIOS]


def test_batch_gives_the_same_answers_in_order(
    stub: pb_grpc.RegimenCheckerServiceStub, unary_answers: list[pb.CheckRegimenResponse]
) -> None:
    batch = pb.CheckRegimenBatchRequest(requests=[to_request(s) for s in SCENARIOS])
    responses = list(stub.CheckRegimenBatch(batch, timeout=TIMEOUT).responses)
    assert [r.request_id for r in responses] == [s.name for s in SCENARIOS]
    for scenario, answer, unary in zip(SCENARIOS, responses, unary_answers, strict=True):
        assert not answer.HasField("error"), (scenario.name, answer.error)
        assert answer.verdict == unary.verdict, scenario.name
        assert list(answer.findings) == list(unary.findings), scenario.name
        assert answer == unary, scenario.name


def test_stream_gives_the_same_answers_in_order(
    stub: pb_grpc.RegimenCheckerServiceStub, unary_answers: list[pb.CheckRegimenResponse]
) -> None:
    responses = list(stub.CheckRegimens(iter([to_request(s) for s in SCENARIOS]), timeout=TIMEOUT))
    assert [r.request_id for r in responses] == [s.name for s in SCENARIOS]
    for scenario, answer, unary in zip(SCENARIOS, responses, unary_answers, strict=True):
        assert not answer.HasField("error"), (scenario.name, answer.error)
        assert answer.verdict == unary.verdict, scenario.name
        assert list(answer.findings) == list(unary.findings), scenario.name
        assert answer == unary, scenario.name


def test_table_covers_every_rule(stub: pb_grpc.RegimenCheckerServiceStub) -> None:
    """Each catalogue rule fires (at its default severity) and is forbidden somewhere.

    Scenarios marked as bugs do not count: they do not pass, so they prove nothing.
    """
    rules = {
        rule.rule_id: SEVERITY_NAME[rule.default_severity]
        for rule in stub.ListRules(pb.ListRulesRequest(), timeout=TIMEOUT).rules
    }
    assert len(rules) == 37  # 28 + issue 11's 6 + issue 10's 3
    passing = [s for s in SCENARIOS if s.bug is None]
    required = {(rule_id, sev) for s in passing for rule_id, sev in s.must.items()}
    must_ids = {rule_id for rule_id, _ in required}
    must_not_ids = {rule_id for s in passing for rule_id in s.must_not}
    assert must_ids == set(rules), (
        f"never required: {sorted(set(rules) - must_ids)}; unknown: {sorted(must_ids - set(rules))}"
    )
    assert must_not_ids == set(rules), (
        f"no near miss for: {sorted(set(rules) - must_not_ids)}; unknown: {sorted(must_not_ids - set(rules))}"
    )
    at_default = {(rule_id, severity) for rule_id, severity in rules.items()}
    assert not at_default - required, (
        f"never required at the default severity: {sorted(at_default - required)}"
    )
    missing_alternates = set(ALTERNATE_SEVERITIES) - required
    assert not missing_alternates, f"alternate severities not covered: {sorted(missing_alternates)}"


def test_table_shape() -> None:
    """At least 70 scenarios; every endorsed regimen is held to ACCEPT with nothing above INFO."""
    assert len(SCENARIOS) >= 70
    endorsed = [s for s in SCENARIOS if s.name.startswith("endorsed_")]
    assert len(endorsed) >= 8
    for scenario in endorsed:
        assert scenario.verdict == "ACCEPT" and scenario.max_severity == "INFO", scenario.name
        assert scenario.bug is None, scenario.name
    for scenario in SCENARIOS:
        assert scenario.rationale and "\n" not in scenario.rationale, scenario.name
        assert scenario.request.get("asOf"), scenario.name
        if scenario.bug is not None:
            assert scenario.bug.startswith("BUG: "), scenario.name
