"""RegimenCheckerServicer through grpc_testing: every RPC, rich errors, batches and paging."""

from __future__ import annotations

import datetime as dt

import grpc
import grpc_testing
import pytest
from google.rpc import code_pb2

from regimenguard.server.errors import field_violations
from regimenguard.server.servicer import RegimenCheckerServicer
from regimenguard.v1 import regimen_checker_pb2 as pb
from tests.grpc_helpers import (
    DETAILS_KEY,
    INVALID_FIELDS,
    RULE_IDS,
    SERVICE,
    AbortWithStatusServicer,
    accept_request,
    assert_invalid_argument,
    contract_example,
    invalid_request,
    order,
    reject_request,
    request,
    rich_status,
)

TODAY = dt.date(2026, 11, 23)
TIMEOUT = 10.0


@pytest.fixture(scope="module")
def servicer(checker):  # type: ignore[no-untyped-def]
    return RegimenCheckerServicer(checker, today=lambda: TODAY)


@pytest.fixture(scope="module")
def test_server(servicer):  # type: ignore[no-untyped-def]
    return grpc_testing.server_from_dictionary(
        {SERVICE: AbortWithStatusServicer(servicer)}, grpc_testing.strict_real_time()
    )


def unary(test_server, name: str, message):  # type: ignore[no-untyped-def]
    """(response, trailing_metadata, code, details) of a unary call."""
    rpc = test_server.invoke_unary_unary(SERVICE.methods_by_name[name], (), message, TIMEOUT)
    return rpc.termination()


def ok(test_server, name: str, message):  # type: ignore[no-untyped-def]
    response, _, code, details = unary(test_server, name, message)
    assert code is grpc.StatusCode.OK, details
    return response


def failed(test_server, name: str, message, code=grpc.StatusCode.INVALID_ARGUMENT):  # type: ignore[no-untyped-def]
    """The rich status of a call that must fail with ``code``."""
    _, trailing_metadata, actual, details = unary(test_server, name, message)
    assert actual is code, details
    assert any(key == DETAILS_KEY for key, _ in trailing_metadata)
    return rich_status(trailing_metadata, actual, details)


def stream(test_server, messages):  # type: ignore[no-untyped-def]
    """Send ``messages`` on CheckRegimens, one at a time; the responses and the final code."""
    rpc = test_server.invoke_stream_stream(SERVICE.methods_by_name["CheckRegimens"], (), TIMEOUT)
    responses = []
    for message in messages:
        rpc.send_request(message)
        responses.append(rpc.take_response())  # one answer per request, as it arrives
    rpc.requests_closed()
    _, code, details = rpc.termination()
    return responses, code, details


def rule_ids(response: pb.CheckRegimenResponse) -> list[str]:
    return [finding.rule_id for finding in response.findings]


# --- CheckRegimen -----------------------------------------------------------------------------


def test_check_regimen_contract_example(test_server) -> None:  # type: ignore[no-untyped-def]
    response = ok(test_server, "CheckRegimen", contract_example())
    assert response.request_id == "rx-1"
    assert response.verdict == pb.VERDICT_REVIEW
    assert not response.HasField("error")
    assert response.knowledge_base_version
    serotonergic = [f for f in response.findings if f.rule_id == "SEROTONERGIC_COMBINATION"]
    assert len(serotonergic) == 1
    finding = serotonergic[0]
    assert finding.severity == pb.SEVERITY_WARNING
    assert finding.ncpdp_reason_code == "AT"
    assert sorted(finding.drugs) == ["cyclobenzaprine", "duloxetine"]
    assert not finding.acknowledged
    assert finding.message
    # Nothing CRITICAL, and findings come most severe first.
    severities = [f.severity for f in response.findings]
    assert pb.SEVERITY_CRITICAL not in severities
    assert severities == sorted(severities, reverse=True)

    summary = response.summary
    assert summary.serotonergic_agents == 2
    assert summary.acetaminophen_mg_per_day == 0
    assert summary.acetaminophen_limit_mg_per_day == 2000  # older adult
    assert summary.morphine_mg_equivalents_per_day == 0
    assert [o.medication_index for o in summary.orders] == [0, 1]
    assert [o.drug for o in summary.orders] == ["duloxetine", "cyclobenzaprine"]
    assert [o.action for o in summary.orders] == [pb.ORDER_ACTION_CONTINUE, pb.ORDER_ACTION_START]
    assert all(o.resolved for o in summary.orders)
    duloxetine, cyclobenzaprine = (o.ingredients[0] for o in summary.orders)
    assert duloxetine.name == "duloxetine"
    assert duloxetine.rxcui
    assert (duloxetine.mg_per_dose, duloxetine.mg_per_day) == (60, 60)
    assert {"serotonergic", "snri"} <= set(duloxetine.classes)
    assert cyclobenzaprine.name == "cyclobenzaprine"
    assert (cyclobenzaprine.mg_per_dose, cyclobenzaprine.mg_per_day) == (5, 15)  # PRN at its max
    assert {"serotonergic", "skeletal_muscle_relaxant"} <= set(cyclobenzaprine.classes)


def test_check_regimen_serotonergic_recommends_tizanidine(test_server) -> None:  # type: ignore[no-untyped-def]
    """Duloxetine + cyclobenzaprine in a younger adult: the only finding, naming tizanidine."""
    message = contract_example()
    message.patient.age_years = 45
    response = ok(test_server, "CheckRegimen", message)
    assert response.verdict == pb.VERDICT_REVIEW
    assert rule_ids(response) == ["SEROTONERGIC_COMBINATION"]
    finding = response.findings[0]
    assert finding.severity == pb.SEVERITY_WARNING
    assert finding.ncpdp_reason_code == "AT"
    assert "tizanidine" in finding.recommendation
    assert "Combination therapy" in finding.guideline_section


def test_check_regimen_accept_and_reject(test_server) -> None:  # type: ignore[no-untyped-def]
    accepted = ok(test_server, "CheckRegimen", accept_request("a-1"))
    assert (accepted.request_id, accepted.verdict) == ("a-1", pb.VERDICT_ACCEPT)
    assert all(f.severity == pb.SEVERITY_INFO for f in accepted.findings)

    rejected = ok(test_server, "CheckRegimen", reject_request("r-1"))
    assert (rejected.request_id, rejected.verdict) == ("r-1", pb.VERDICT_REJECT)
    assert rejected.findings[0].rule_id == "ACETAMINOPHEN_DAILY_MAX"
    assert rejected.findings[0].severity == pb.SEVERITY_CRITICAL
    assert rejected.findings[0].ncpdp_reason_code == "HD"
    assert rejected.summary.acetaminophen_mg_per_day == 6000
    assert rejected.summary.acetaminophen_limit_mg_per_day == 3000


def test_check_regimen_unknown_drug_is_a_finding_not_an_error(test_server) -> None:  # type: ignore[no-untyped-def]
    message = request(order("duloxetinne", 60, 1), order("acetaminophen", 1000, 6))
    response = ok(test_server, "CheckRegimen", message)
    assert response.verdict == pb.VERDICT_REJECT  # the rest of the regimen is still checked
    assert set(rule_ids(response)) >= {"UNKNOWN_DRUG", "ACETAMINOPHEN_DAILY_MAX"}
    unknown = next(f for f in response.findings if f.rule_id == "UNKNOWN_DRUG")
    assert unknown.severity == pb.SEVERITY_WARNING
    assert unknown.ncpdp_reason_code == "MS"
    assert "duloxetine" in unknown.recommendation  # a close match is suggested
    assert not response.summary.orders[0].resolved
    assert response.summary.orders[1].resolved


def test_check_regimen_invalid_argument_names_every_bad_field(test_server) -> None:  # type: ignore[no-untyped-def]
    message = invalid_request()
    message.medications.append(order("ibuprofen", 400, 0))
    message.patient.age_years = -1
    status = failed(test_server, "CheckRegimen", message)
    assert_invalid_argument(
        status, [*INVALID_FIELDS, "medications[1].doses_per_day", "patient.age_years"]
    )
    assert status.code == code_pb2.INVALID_ARGUMENT


def test_check_regimen_too_many_medications(test_server) -> None:  # type: ignore[no-untyped-def]
    message = request(*[order("naproxen", 500, 2)] * 101)
    status = failed(test_server, "CheckRegimen", message)
    assert_invalid_argument(status, ["medications"], reason="TOO_MANY_MEDICATIONS")


def test_check_regimen_at_the_medication_limit_is_checked(test_server) -> None:  # type: ignore[no-untyped-def]
    response = ok(test_server, "CheckRegimen", request(*[order("naproxen", 500, 2)] * 100))
    assert len(response.summary.orders) == 100


def test_check_regimen_empty_as_of_means_today(test_server) -> None:  # type: ignore[no-untyped-def]
    """The servicer's clock decides the date: a relaxant started 14 days before it is fine."""
    started = (TODAY - dt.timedelta(days=14)).isoformat()
    short = request(order("cyclobenzaprine", 5, 3, started_on=started), as_of="")
    assert ok(test_server, "CheckRegimen", short).verdict == pb.VERDICT_ACCEPT
    started = (TODAY - dt.timedelta(days=60)).isoformat()
    long = request(order("cyclobenzaprine", 5, 3, started_on=started), as_of="")
    assert "MUSCLE_RELAXANT_DURATION" in rule_ids(ok(test_server, "CheckRegimen", long))


# Found while writing these tests: 1e308 mg x 2/day passed validation and the checker raised
# OverflowError (UNKNOWN here, INTERNAL for a batch item). Such input is now INVALID_ARGUMENT.
OVERFLOWING = request(order("naproxen", 1e308, 2), request_id="huge")


def test_check_regimen_overflowing_amounts_are_invalid(test_server) -> None:  # type: ignore[no-untyped-def]
    status = failed(test_server, "CheckRegimen", OVERFLOWING)
    assert_invalid_argument(status, ["medications[0].dose_mg"])


def test_batch_overflowing_item_is_an_item_error(test_server) -> None:  # type: ignore[no-untyped-def]
    batch = pb.CheckRegimenBatchRequest(requests=[OVERFLOWING, accept_request()])
    huge, fine = ok(test_server, "CheckRegimenBatch", batch).responses
    assert fine.verdict == pb.VERDICT_ACCEPT
    assert huge.request_id == "huge"
    assert_invalid_argument(huge.error, ["medications[0].dose_mg"])


# --- CheckRegimenBatch ------------------------------------------------------------------------


def test_batch_answers_every_item_in_order(test_server) -> None:  # type: ignore[no-untyped-def]
    batch = pb.CheckRegimenBatchRequest(
        requests=[accept_request("b-1"), invalid_request("b-2"), reject_request("b-3")]
    )
    response = ok(test_server, "CheckRegimenBatch", batch)
    first, middle, last = response.responses
    assert [r.request_id for r in response.responses] == ["b-1", "b-2", "b-3"]
    assert first.verdict == pb.VERDICT_ACCEPT
    assert not first.HasField("error")
    assert last.verdict == pb.VERDICT_REJECT
    assert not last.HasField("error")
    assert middle.HasField("error")
    assert middle.error.code == code_pb2.INVALID_ARGUMENT == 3
    assert middle.verdict == pb.VERDICT_UNSPECIFIED
    assert not middle.findings
    assert middle.knowledge_base_version == first.knowledge_base_version
    assert_invalid_argument(middle.error, INVALID_FIELDS)


def test_batch_empty(test_server) -> None:  # type: ignore[no-untyped-def]
    response = ok(test_server, "CheckRegimenBatch", pb.CheckRegimenBatchRequest())
    assert list(response.responses) == []


def test_batch_at_the_limit_is_checked(test_server) -> None:  # type: ignore[no-untyped-def]
    batch = pb.CheckRegimenBatchRequest(requests=[accept_request(str(i)) for i in range(1000)])
    response = ok(test_server, "CheckRegimenBatch", batch)
    assert [r.request_id for r in response.responses] == [str(i) for i in range(1000)]
    assert {r.verdict for r in response.responses} == {pb.VERDICT_ACCEPT}


def test_batch_over_the_limit_is_rejected_whole(test_server) -> None:  # type: ignore[no-untyped-def]
    batch = pb.CheckRegimenBatchRequest(requests=[accept_request(str(i)) for i in range(1001)])
    status = failed(test_server, "CheckRegimenBatch", batch)
    assert_invalid_argument(status, ["requests"], reason="BATCH_TOO_LARGE")
    assert "1001" in field_violations(status)[0].description


def test_batch_item_with_too_many_medications_costs_only_that_item(test_server) -> None:  # type: ignore[no-untyped-def]
    batch = pb.CheckRegimenBatchRequest(
        requests=[request(*[order("naproxen", 500, 2)] * 101, request_id="big"), accept_request()]
    )
    big, fine = ok(test_server, "CheckRegimenBatch", batch).responses
    assert big.request_id == "big"
    assert_invalid_argument(big.error, ["medications"], reason="TOO_MANY_MEDICATIONS")
    assert fine.verdict == pb.VERDICT_ACCEPT


# --- CheckRegimens (bidi stream) --------------------------------------------------------------


def test_stream_answers_each_request_in_order(test_server) -> None:  # type: ignore[no-untyped-def]
    messages = [accept_request("s-1"), invalid_request("s-2"), contract_example()]
    responses, code, details = stream(test_server, messages)
    assert code is grpc.StatusCode.OK, details
    assert [r.request_id for r in responses] == ["s-1", "s-2", "rx-1"]
    assert responses[0].verdict == pb.VERDICT_ACCEPT
    assert responses[1].error.code == code_pb2.INVALID_ARGUMENT
    assert_invalid_argument(responses[1].error, INVALID_FIELDS)
    assert responses[2].verdict == pb.VERDICT_REVIEW
    assert not responses[2].HasField("error")


def test_stream_with_no_requests(test_server) -> None:  # type: ignore[no-untyped-def]
    responses, code, _ = stream(test_server, [])
    assert (responses, code) == ([], grpc.StatusCode.OK)


# --- ListRules --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rules(test_server) -> dict[str, pb.Rule]:  # type: ignore[no-untyped-def]
    response = ok(test_server, "ListRules", pb.ListRulesRequest())
    assert [rule.rule_id for rule in response.rules] == list(RULE_IDS)  # catalogue order
    return {rule.rule_id: rule for rule in response.rules}


def test_list_rules_is_the_whole_catalogue(rules) -> None:  # type: ignore[no-untyped-def]
    assert len(rules) == len(RULE_IDS) == 37  # 28 + issue 11's 6 + issue 10's 3
    for rule in rules.values():
        assert rule.default_severity in (
            pb.SEVERITY_INFO,
            pb.SEVERITY_WARNING,
            pb.SEVERITY_CRITICAL,
        )
        assert rule.summary, rule.rule_id
        assert rule.guideline_section, rule.rule_id
        assert rule.ncpdp_reason_code, rule.rule_id


# clinical-rules.md: NCPDP Reason for Service code of every rule.
NCPDP = {
    "ACETAMINOPHEN_DAILY_MAX": "HD",
    "DOSE_ABOVE_MAX": "HD",
    "DOSE_ABOVE_GUIDELINE_RANGE": "HD",
    "NSAID_WITH_ACETAMINOPHEN": "SR",
    "DUPLICATE_THERAPY": "TD",
    "SEROTONERGIC_COMBINATION": "AT",
    "CONTRAINDICATED_COMBINATION": "DD",
    "BENZODIAZEPINE_WITH_OPIOID": "DD",
    "CNS_DEPRESSANT_COMBINATION": "AT",
    "MULTIPLE_NEW_AGENTS": "SR",
    "ADD_BEFORE_STOPPING_INEFFECTIVE": "SR",
    "START_LOW": "HD",
    "TITRATION_INTERVAL": "SR",
    "DOSING_SCHEDULE": "SR",
    "MUSCLE_RELAXANT_DURATION": "MX",
    "TRAMADOL_EXTENDED_RELEASE_START": "SF",
    "SEIZURE_RISK": "MC",
    "MISUSE_RISK": "MC",
    "OPIOID_NOT_FIRST_LINE": "SD",
    "OPIOID_DAILY_MME": "HD",
    "NOT_RECOMMENDED_FOR_BACK_PAIN": "SD",
    "NONPREFERRED_MUSCLE_RELAXANT": "PS",
    "NSAID_RISK": "MC",
    "NSAID_PREVIOUSLY_INEFFECTIVE": "SD",
    "OLDER_ADULT_CAUTION": "PA",
    "DULOXETINE_SUBACUTE": "SD",
    "DRUG_CONDITION": "MC",
    "UNKNOWN_DRUG": "MS",
    # issue 11 (clinical fidelity)
    "LONG_ACTING_OPIOID_START": "SF",
    "OPIOID_TOLERANT_ONLY": "SF",
    "MME_INCOMPLETE": "MS",
    "NALOXONE_NOT_PRESCRIBED": "AD",
    "PATIENT_UNDER_18": "PA",
    "DUPLICATE_INGREDIENT": "ID",
    # issue 10 (the formulary's interactions)
    "NSAID_DRUG_INTERACTION": "DD",
    "OPIOID_CYP_INTERACTION": "DD",
    "QT_PROLONGATION": "DD",
}


def test_list_rules_ncpdp_codes(rules) -> None:  # type: ignore[no-untyped-def]
    assert {rule_id: rule.ncpdp_reason_code for rule_id, rule in rules.items()} == NCPDP


@pytest.mark.parametrize(
    ("rule_id", "severity"),
    [
        ("ACETAMINOPHEN_DAILY_MAX", pb.SEVERITY_CRITICAL),
        ("DOSE_ABOVE_MAX", pb.SEVERITY_CRITICAL),
        ("CONTRAINDICATED_COMBINATION", pb.SEVERITY_CRITICAL),
        ("BENZODIAZEPINE_WITH_OPIOID", pb.SEVERITY_CRITICAL),
        ("DOSE_ABOVE_GUIDELINE_RANGE", pb.SEVERITY_WARNING),
        ("NSAID_WITH_ACETAMINOPHEN", pb.SEVERITY_WARNING),
        ("SEROTONERGIC_COMBINATION", pb.SEVERITY_WARNING),
        ("MULTIPLE_NEW_AGENTS", pb.SEVERITY_WARNING),
        ("START_LOW", pb.SEVERITY_WARNING),
        ("TITRATION_INTERVAL", pb.SEVERITY_WARNING),
        ("MUSCLE_RELAXANT_DURATION", pb.SEVERITY_WARNING),
        ("TRAMADOL_EXTENDED_RELEASE_START", pb.SEVERITY_WARNING),
        ("LONG_ACTING_OPIOID_START", pb.SEVERITY_WARNING),
        ("OPIOID_TOLERANT_ONLY", pb.SEVERITY_CRITICAL),
        ("MME_INCOMPLETE", pb.SEVERITY_WARNING),
        ("NALOXONE_NOT_PRESCRIBED", pb.SEVERITY_WARNING),
        ("PATIENT_UNDER_18", pb.SEVERITY_WARNING),
        ("DUPLICATE_INGREDIENT", pb.SEVERITY_WARNING),
        ("OLDER_ADULT_CAUTION", pb.SEVERITY_WARNING),
        ("DRUG_CONDITION", pb.SEVERITY_WARNING),
        ("UNKNOWN_DRUG", pb.SEVERITY_WARNING),
        ("DULOXETINE_SUBACUTE", pb.SEVERITY_INFO),
        ("NOT_RECOMMENDED_FOR_BACK_PAIN", pb.SEVERITY_INFO),
        ("NONPREFERRED_MUSCLE_RELAXANT", pb.SEVERITY_INFO),
    ],
)
def test_list_rules_default_severity(rules, rule_id: str, severity: int) -> None:  # type: ignore[no-untyped-def]
    assert rules[rule_id].default_severity == severity


@pytest.mark.parametrize(
    ("rule_id", "section"),
    [
        ("ACETAMINOPHEN_DAILY_MAX", "Nonopioid analgesics (Acetaminophen)"),
        ("NSAID_WITH_ACETAMINOPHEN", "Nonopioid analgesics"),
        ("DUPLICATE_THERAPY", "Combination therapy"),
        ("SEROTONERGIC_COMBINATION", "Combination therapy"),
        ("BENZODIAZEPINE_WITH_OPIOID", "Pharmacologic therapies (Benzodiazepines)"),
        ("CONTRAINDICATED_COMBINATION", "FDA label"),
        ("TITRATION_INTERVAL", "Duloxetine"),
        ("MUSCLE_RELAXANT_DURATION", "Skeletal muscle relaxants for short-term relief"),
        ("OPIOID_NOT_FIRST_LINE", "Restricted use of opioids"),
        ("OPIOID_DAILY_MME", "CDC"),
        ("NOT_RECOMMENDED_FOR_BACK_PAIN", "Therapies that we do not routinely recommend"),
        ("NSAID_RISK", "Nonopioid analgesics (NSAIDs)"),
        ("OLDER_ADULT_CAUTION", "Beers"),
        ("DULOXETINE_SUBACUTE", "Duloxetine"),
    ],
)
def test_list_rules_guideline_section(rules, rule_id: str, section: str) -> None:  # type: ignore[no-untyped-def]
    assert section in rules[rule_id].guideline_section


# --- ListDrugs --------------------------------------------------------------------------------


def list_drugs(test_server, **fields) -> pb.ListDrugsResponse:  # type: ignore[no-untyped-def]
    return ok(test_server, "ListDrugs", pb.ListDrugsRequest(**fields))


def names(response: pb.ListDrugsResponse) -> list[str]:
    return [drug.name for drug in response.drugs]


@pytest.fixture(scope="module")
def all_drugs(test_server) -> pb.ListDrugsResponse:  # type: ignore[no-untyped-def]
    return list_drugs(test_server)


def test_list_drugs_everything_sorted_once(all_drugs) -> None:  # type: ignore[no-untyped-def]
    everything = names(all_drugs)
    assert everything == sorted(everything)
    assert len(everything) == len(set(everything)) > 50
    assert {"acetaminophen", "duloxetine", "tizanidine", "tramadol", "naproxen"} <= set(everything)
    assert all_drugs.next_page_token == ""


def test_list_drugs_by_class(test_server) -> None:  # type: ignore[no-untyped-def]
    response = list_drugs(test_server, query="nsaid")
    found = names(response)
    assert {"ibuprofen", "naproxen", "celecoxib", "meloxicam", "diclofenac"} <= set(found)
    assert "acetaminophen" not in found
    assert all("nsaid" in drug.classes for drug in response.drugs)
    assert found == sorted(found)


@pytest.mark.parametrize("query", ["Cymbalta", "cymbalta", "  CYMBALTA  "])
def test_list_drugs_by_brand(test_server, query: str) -> None:  # type: ignore[no-untyped-def]
    response = list_drugs(test_server, query=query)
    assert names(response) == ["duloxetine"]
    duloxetine = response.drugs[0]
    assert "Cymbalta" in duloxetine.brands
    assert duloxetine.rxcui
    assert {"serotonergic", "snri"} <= set(duloxetine.classes)


def test_list_drugs_by_rxcui_and_no_match(test_server, all_drugs) -> None:  # type: ignore[no-untyped-def]
    tizanidine = next(d for d in all_drugs.drugs if d.name == "tizanidine")
    assert names(list_drugs(test_server, query=tizanidine.rxcui)) == ["tizanidine"]
    empty = list_drugs(test_server, query="no-such-drug-xyz")
    assert (list(empty.drugs), empty.next_page_token) == ([], "")


def test_list_drugs_combination_products(all_drugs) -> None:  # type: ignore[no-untyped-def]
    acetaminophen = next(d for d in all_drugs.drugs if d.name == "acetaminophen")
    assert acetaminophen.combination_products  # e.g. hydrocodone / acetaminophen tablets
    assert "Tylenol" in acetaminophen.brands


@pytest.mark.parametrize("page_size", [1, 7, 10, 1000])
def test_list_drugs_paging_covers_every_drug_once(test_server, all_drugs, page_size: int) -> None:  # type: ignore[no-untyped-def]
    seen: list[str] = []
    token = ""
    for _ in range(len(all_drugs.drugs) + 1):  # the formulary has hundreds of drugs
        page = list_drugs(test_server, page_size=page_size, page_token=token)
        assert 0 < len(page.drugs) <= page_size
        seen += names(page)
        token = page.next_page_token
        if not token:
            break
    assert seen == names(all_drugs)


def test_list_drugs_paging_with_a_query(test_server) -> None:  # type: ignore[no-untyped-def]
    first = list_drugs(test_server, query="nsaid", page_size=3)
    assert len(first.drugs) == 3
    assert first.next_page_token
    rest = list_drugs(test_server, query="nsaid", page_token=first.next_page_token)
    assert names(first) + names(rest) == names(list_drugs(test_server, query="nsaid"))
    assert rest.next_page_token == ""


@pytest.mark.parametrize("token", ["abc", "-1", "99999", "1.5", " 3"])
def test_list_drugs_bad_page_token(test_server, token: str) -> None:  # type: ignore[no-untyped-def]
    status = failed(test_server, "ListDrugs", pb.ListDrugsRequest(page_size=5, page_token=token))
    assert_invalid_argument(status, ["page_token"], reason=None)


def test_list_drugs_negative_page_size(test_server) -> None:  # type: ignore[no-untyped-def]
    status = failed(test_server, "ListDrugs", pb.ListDrugsRequest(page_size=-1))
    assert_invalid_argument(status, ["page_size"], reason=None)
