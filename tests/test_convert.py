"""regimenguard.server.convert: validating CheckRegimenRequest into the domain model, and answers back out."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable

import pytest
from google.protobuf import json_format

from regimenguard.regimen.model import (
    Acknowledgement,
    CheckResult,
    IngredientDose,
    MedicationOrder,
    OrderAction,
    Patient,
    Route,
    Severity,
    TherapyResponse,
    Verdict,
)
from regimenguard.regimen.validation import RequestInvalid
from regimenguard.server.convert import request_from_proto, response_from_result
from regimenguard.v1 import regimen_checker_pb2 as pb
from tests.grpc_helpers import contract_example, order, request

TODAY = dt.date(2026, 11, 23)
NAN, INF = math.nan, math.inf


def naproxen(**fields) -> pb.MedicationOrder:  # type: ignore[no-untyped-def]
    """Naproxen 500 mg twice daily, with ``fields`` changed."""
    message = order("naproxen", 500, 2)
    for name, value in fields.items():
        setattr(message, name, value)
    return message


def norco_by_ingredients(hydrocodone_mg: float = 5.0, name: str = "hydrocodone"):  # type: ignore[no-untyped-def]
    return order(
        "",
        0,
        4,
        ingredients=[
            pb.IngredientDose(name=name, dose_mg=hydrocodone_mg),
            pb.IngredientDose(name="acetaminophen", dose_mg=325),
        ],
    )


def convert(checker, message: pb.CheckRegimenRequest):  # type: ignore[no-untyped-def]
    return request_from_proto(message, checker, today=TODAY)


def violations(checker, message: pb.CheckRegimenRequest) -> RequestInvalid:  # type: ignore[no-untyped-def]
    with pytest.raises(RequestInvalid) as raised:
        convert(checker, message)
    return raised.value


# --- invalid requests: (id, request, the exact field paths named) -----------------------------

Case = tuple[str, Callable[[], pb.CheckRegimenRequest], list[str]]


def _numeric_cases() -> list[Case]:
    cases: list[Case] = []
    for value in (NAN, INF, -INF):
        label = {True: "nan"}.get(math.isnan(value), "inf" if value > 0 else "-inf")
        for field in (
            "dose_mg",
            "doses_per_day",
            "rate_mcg_per_hour",
            "previous_dose_mg",
            "units_per_dose",
        ):
            cases.append(
                (
                    f"{field}-{label}",
                    lambda field=field, value=value: request(naproxen(**{field: value})),
                    [f"medications[0].{field}"],
                )
            )
        cases.append(
            (
                f"ingredient-dose-{label}",
                lambda value=value: request(norco_by_ingredients(value)),
                ["medications[0].ingredients[0].dose_mg"],
            )
        )
    return cases


def _date_cases() -> list[Case]:
    cases: list[Case] = []
    for text in (
        "2026-13-01",
        "yesterday",
        "2026-1-5",
        "2026-02-30",
        "26-11-23",
        "2026-11-23T08:00",
        # what date.fromisoformat would read but the API's YYYY-MM-DD does not allow
        "20261123",
        "2026-W48-1",
        # digits the pattern's \d matches but a date cannot have; a newline its $ lets through
        "\uff12\uff10\uff12\uff16-\uff11\uff11-\uff12\uff13",
        "2026-11-23\n",
        "2026-11-2x",
        "2026-00-10",
    ):
        cases.append(
            (f"as_of-{text}", lambda text=text: request(naproxen(), as_of=text), ["as_of"])
        )
        cases.append(
            (
                f"started_on-{text}",
                lambda text=text: request(naproxen(started_on=text)),
                ["medications[0].started_on"],
            )
        )
    return cases


def _ack(rule_id: str = "SEROTONERGIC_COMBINATION", reason: str = "reviewed", drugs=()):  # type: ignore[no-untyped-def]
    return pb.Acknowledgement(rule_id=rule_id, reason=reason, drugs=list(drugs))


INVALID: list[Case] = [
    # doses
    ("negative-dose", lambda: request(naproxen(dose_mg=-500)), ["medications[0].dose_mg"]),
    ("zero-dose-scheduled", lambda: request(naproxen(dose_mg=0)), ["medications[0].dose_mg"]),
    (
        "zero-dose-as-needed",
        lambda: request(naproxen(dose_mg=0, as_needed=True)),
        ["medications[0].dose_mg"],
    ),
    (
        "doses-per-day-zero",
        lambda: request(naproxen(doses_per_day=0)),
        ["medications[0].doses_per_day"],
    ),
    (
        "doses-per-day-negative",
        lambda: request(naproxen(doses_per_day=-2)),
        ["medications[0].doses_per_day"],
    ),
    (
        "rate-negative",
        lambda: request(naproxen(rate_mcg_per_hour=-12)),
        ["medications[0].rate_mcg_per_hour"],
    ),
    (
        "previous-dose-negative",
        lambda: request(naproxen(previous_dose_mg=-1)),
        ["medications[0].previous_dose_mg"],
    ),
    (
        "units-negative",
        lambda: request(naproxen(units_per_dose=-1)),
        ["medications[0].units_per_dose"],
    ),
    (
        "planned-days-negative",
        lambda: request(naproxen(planned_days=-1)),
        ["medications[0].planned_days"],
    ),
    (
        "second-order-bad-dose",
        lambda: request(naproxen(), order("duloxetine", 0, 1)),
        ["medications[1].dose_mg"],
    ),
    (
        "transdermal-without-rate",
        lambda: request(order("fentanyl", route=pb.ROUTE_TRANSDERMAL)),
        ["medications[0].rate_mcg_per_hour", "medications[0].doses_per_day"],
    ),
    *_numeric_cases(),
    *_date_cases(),
    # enums
    ("route-unknown", lambda: request(naproxen(route=99)), ["medications[0].route"]),
    ("route-negative", lambda: request(naproxen(route=-1)), ["medications[0].route"]),
    ("action-unknown", lambda: request(naproxen(action=42)), ["medications[0].action"]),
    ("response-unknown", lambda: request(naproxen(response=7)), ["medications[0].response"]),
    # drug names
    ("drug-empty", lambda: request(naproxen(drug="")), ["medications[0].drug"]),
    ("drug-blank", lambda: request(naproxen(drug="   ")), ["medications[0].drug"]),
    (
        "ingredient-empty-name",
        lambda: request(norco_by_ingredients(name="")),
        ["medications[0].ingredients[0].name"],
    ),
    (
        "ingredient-zero-dose",
        lambda: request(norco_by_ingredients(0)),
        ["medications[0].ingredients[0].dose_mg"],
    ),
    (
        "ingredient-negative-dose",
        lambda: request(norco_by_ingredients(-5)),
        ["medications[0].ingredients[0].dose_mg"],
    ),
    (
        "combination-product-with-dose-mg",
        lambda: request(order("Norco 5/325", 5, 4)),
        ["medications[0].dose_mg"],
    ),
    ("drug-too-long", lambda: request(naproxen(drug="n" * 201)), ["medications[0].drug"]),
    ("drug-nul", lambda: request(naproxen(drug="napro\x00xen")), ["medications[0].drug"]),
    ("drug-newline", lambda: request(naproxen(drug="naproxen\n")), ["medications[0].drug"]),
    ("drug-escape", lambda: request(naproxen(drug="\x1b[31mnaproxen")), ["medications[0].drug"]),
    ("drug-del", lambda: request(naproxen(drug="napro\x7fxen")), ["medications[0].drug"]),
    ("drug-c1-csi", lambda: request(naproxen(drug="\x9b31mnaproxen")), ["medications[0].drug"]),
    ("drug-c1-nel", lambda: request(naproxen(drug="napro\x85xen")), ["medications[0].drug"]),
    (
        "indication-control",
        lambda: request(naproxen(indication="back\rpain")),
        ["medications[0].indication"],
    ),
    (
        "indication-too-long",
        lambda: request(naproxen(indication="x" * 201)),
        ["medications[0].indication"],
    ),
    ("request-id-control", lambda: request(naproxen(), request_id="rx\x07"), ["request_id"]),
    ("request-id-too-long", lambda: request(naproxen(), request_id="r" * 201), ["request_id"]),
    # acknowledgements
    (
        "ack-unknown-rule",
        lambda: request(naproxen(), acknowledgements=[_ack(rule_id="NO_SUCH_RULE")]),
        ["acknowledgements[0].rule_id"],
    ),
    (
        "ack-empty-rule",
        lambda: request(naproxen(), acknowledgements=[_ack(rule_id="")]),
        ["acknowledgements[0].rule_id"],
    ),
    (
        "ack-without-reason",
        lambda: request(naproxen(), acknowledgements=[_ack(reason="")]),
        ["acknowledgements[0].reason"],
    ),
    (
        "ack-blank-reason",
        lambda: request(naproxen(), acknowledgements=[_ack(reason=" \t ")]),
        ["acknowledgements[0].reason"],
    ),
    (
        "ack-reason-too-long",
        lambda: request(naproxen(), acknowledgements=[_ack(reason="r" * 2001)]),
        ["acknowledgements[0].reason"],
    ),
    (
        "ack-second-bad-drug",
        lambda: request(naproxen(), acknowledgements=[_ack(), _ack(drugs=["ok", "bad\x00"])]),
        ["acknowledgements[1].drugs[1]"],
    ),
    (
        "ack-both-bad",
        lambda: request(naproxen(), acknowledgements=[_ack(rule_id="nope", reason="")]),
        ["acknowledgements[0].rule_id", "acknowledgements[0].reason"],
    ),
    # patient
    (
        "age-negative",
        lambda: request(naproxen(), patient=pb.Patient(age_years=-1)),
        ["patient.age_years"],
    ),
    (
        "age-200",
        lambda: request(naproxen(), patient=pb.Patient(age_years=200)),
        ["patient.age_years"],
    ),
    (
        "age-131",
        lambda: request(naproxen(), patient=pb.Patient(age_years=131)),
        ["patient.age_years"],
    ),
    (
        "pain-weeks-negative",
        lambda: request(naproxen(), patient=pb.Patient(pain_duration_weeks=-3)),
        ["patient.pain_duration_weeks"],
    ),
    # everything at once: every bad field is named in one answer
    (
        "many-at-once",
        lambda: request(
            naproxen(),
            order("duloxetine", -30, 0, started_on="2026-9-1"),
            as_of="tomorrow",
            patient=pb.Patient(age_years=-5, pain_duration_weeks=-1),
            acknowledgements=[_ack(reason="")],
        ),
        [
            "as_of",
            "patient.age_years",
            "patient.pain_duration_weeks",
            "medications[1].dose_mg",
            "medications[1].doses_per_day",
            "medications[1].started_on",
            "acknowledgements[0].reason",
        ],
    ),
]


@pytest.mark.parametrize(("build", "fields"), [c[1:] for c in INVALID], ids=[c[0] for c in INVALID])
def test_invalid_request_names_the_bad_fields(checker, build, fields: list[str]) -> None:  # type: ignore[no-untyped-def]
    invalid = violations(checker, build())
    named = [violation.field for violation in invalid.violations]
    # Exactly these paths (a path may carry more than one description).
    assert sorted(set(named)) == sorted(fields)
    assert all(violation.description for violation in invalid.violations)
    assert invalid.reason == "INVALID_REGIMEN"


HUGE = 1e308  # finite, but any product with it overflows to inf
HUGE_NUMBERS: list[Case] = [
    ("dose-huge", lambda: request(naproxen(dose_mg=HUGE)), ["medications[0].dose_mg"]),
    (
        "doses-per-day-huge",
        lambda: request(naproxen(doses_per_day=HUGE)),
        ["medications[0].doses_per_day"],
    ),
    (
        "rate-huge",
        lambda: request(order("fentanyl", route=pb.ROUTE_TRANSDERMAL, rate_mcg_per_hour=HUGE)),
        ["medications[0].rate_mcg_per_hour"],
    ),
    (
        "units-huge",
        lambda: request(order("Norco 5/325", 0, 4, units_per_dose=HUGE)),
        ["medications[0].units_per_dose"],
    ),
    (
        "previous-dose-huge",
        lambda: request(naproxen(previous_dose_mg=HUGE, action=pb.ORDER_ACTION_CHANGE_DOSE)),
        ["medications[0].previous_dose_mg"],
    ),
    (
        "ingredient-dose-huge",
        lambda: request(norco_by_ingredients(HUGE)),
        ["medications[0].ingredients[0].dose_mg"],
    ),
    (
        "planned-days-huge",
        lambda: request(naproxen(planned_days=2**31 - 1, action=pb.ORDER_ACTION_START)),
        ["medications[0].planned_days"],
    ),
    (
        "pain-weeks-huge",
        lambda: request(naproxen(), patient=pb.Patient(pain_duration_weeks=2**31 - 1)),
        ["patient.pain_duration_weeks"],
    ),
]


@pytest.mark.parametrize(
    ("build", "fields"), [c[1:] for c in HUGE_NUMBERS], ids=[c[0] for c in HUGE_NUMBERS]
)
def test_implausibly_large_numbers_are_invalid(checker, build, fields: list[str]) -> None:  # type: ignore[no-untyped-def]
    """Found while writing these tests: 1e308 mg x 2/day passed validation, then the checker
    raised OverflowError (UNKNOWN over gRPC). Now refused as input."""
    invalid = violations(checker, build())
    assert sorted({v.field for v in invalid.violations}) == sorted(fields)


def test_largest_valid_amounts_can_be_checked(checker) -> None:  # type: ignore[no-untyped-def]
    """Whatever passes validation must get an answer (never an exception)."""
    from regimenguard.regimen.validation import MAX_DOSE_MG, MAX_DOSES_PER_DAY, MAX_UNITS_PER_DOSE

    message = request(
        naproxen(dose_mg=MAX_DOSE_MG, doses_per_day=MAX_DOSES_PER_DAY),
        order("acetaminophen", MAX_DOSE_MG, MAX_DOSES_PER_DAY, as_needed=True),
        order("Norco 10/325", 0, MAX_DOSES_PER_DAY, units_per_dose=MAX_UNITS_PER_DOSE),
        order("tramadol", MAX_DOSE_MG, MAX_DOSES_PER_DAY, action=pb.ORDER_ACTION_START),
        order(
            "fentanyl",
            route=pb.ROUTE_TRANSDERMAL,
            rate_mcg_per_hour=MAX_DOSE_MG,
            started_on="0001-01-01",
        ),
        as_of="9999-12-31",
        patient=pb.Patient(age_years=130, pain_duration_weeks=6000),
    )
    result = checker.check(convert(checker, message))
    assert result.verdict is Verdict.REJECT
    response = response_from_result(result)
    assert math.isfinite(response.summary.acetaminophen_mg_per_day)
    assert math.isfinite(response.summary.morphine_mg_equivalents_per_day)


@pytest.mark.parametrize(
    ("build", "fields"),
    [
        pytest.param(
            lambda: request(
                order("", 0, 4, ingredients=[pb.IngredientDose(name="x", dose_mg=1)] * 500)
            ),
            ["medications[0].ingredients"],
            id="ingredients",
        ),
        pytest.param(
            lambda: request(naproxen(), acknowledgements=[_ack()] * 1000),
            ["acknowledgements"],
            id="acknowledgements",
        ),
        pytest.param(
            lambda: request(naproxen(), acknowledgements=[_ack(drugs=["naproxen"] * 1000)]),
            ["acknowledgements[0].drugs"],
            id="ack-drugs",
        ),
    ],
)
def test_oversized_repeated_fields(checker, build, fields: list[str]) -> None:  # type: ignore[no-untyped-def]
    invalid = violations(checker, build())
    assert [v.field for v in invalid.violations] == fields
    assert invalid.reason == "TOO_MANY_ITEMS"


def test_too_many_medications(checker) -> None:  # type: ignore[no-untyped-def]
    invalid = violations(checker, request(*[naproxen()] * 101))
    assert [v.field for v in invalid.violations] == ["medications"]
    assert "100" in invalid.violations[0].description
    assert invalid.reason == "TOO_MANY_MEDICATIONS"


def test_too_many_medications_still_names_earlier_fields(checker) -> None:  # type: ignore[no-untyped-def]
    invalid = violations(checker, request(*[naproxen()] * 101, as_of="yesterday"))
    assert sorted(v.field for v in invalid.violations) == ["as_of", "medications"]


def test_description_of_a_bad_date_quotes_it(checker) -> None:  # type: ignore[no-untyped-def]
    invalid = violations(checker, request(naproxen(), as_of="2026-13-01"))
    assert "YYYY-MM-DD" in invalid.violations[0].description
    assert "2026-13-01" in invalid.violations[0].description


# --- valid requests ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "build",
    [
        pytest.param(lambda: request(naproxen(drug="n" * 200)), id="drug-200-chars"),
        pytest.param(lambda: request(naproxen(), patient=pb.Patient(age_years=130)), id="age-130"),
        pytest.param(lambda: request(naproxen(indication="back\tpain")), id="tab-allowed"),
        pytest.param(lambda: request(naproxen(), as_of=""), id="as_of-empty"),
        pytest.param(lambda: request(naproxen(), as_of="2024-02-29"), id="leap-day"),
        pytest.param(
            lambda: request(order("Norco 5/325", 0, 4, units_per_dose=1)), id="norco-units"
        ),
        pytest.param(lambda: request(order("Norco 5/325", 0, 4)), id="norco-units-default"),
        pytest.param(lambda: request(norco_by_ingredients()), id="ingredients-only"),
        pytest.param(
            lambda: request(naproxen(), acknowledgements=[_ack(drugs=["naproxen"])]), id="ack"
        ),
        pytest.param(lambda: request(), id="no-medications"),
        pytest.param(lambda: pb.CheckRegimenRequest(), id="empty-request"),
    ],
)
def test_valid_request(checker, build) -> None:  # type: ignore[no-untyped-def]
    convert(checker, build())


def test_stop_order_needs_no_dose(checker) -> None:  # type: ignore[no-untyped-def]
    domain = convert(checker, request(order("ibuprofen", action=pb.ORDER_ACTION_STOP), naproxen()))
    stop = domain.medications[0]
    assert stop.action is OrderAction.STOP
    assert (stop.dose_mg, stop.doses_per_day) == (0.0, 0.0)


def test_stop_order_with_a_negative_dose_is_still_invalid(checker) -> None:  # type: ignore[no-untyped-def]
    message = request(order("ibuprofen", -400, action=pb.ORDER_ACTION_STOP))
    assert [v.field for v in violations(checker, message).violations] == ["medications[0].dose_mg"]


def test_transdermal_patch_with_rate_needs_no_dose(checker) -> None:  # type: ignore[no-untyped-def]
    domain = convert(
        checker,
        request(order("fentanyl", route=pb.ROUTE_TRANSDERMAL, rate_mcg_per_hour=12)),
    )
    patch = domain.medications[0]
    assert patch.route is Route.TRANSDERMAL
    assert patch.rate_mcg_per_hour == 12
    assert (patch.dose_mg, patch.doses_per_day) == (0.0, 0.0)


def test_unknown_drug_is_not_invalid_and_the_rest_is_checked(checker) -> None:  # type: ignore[no-untyped-def]
    domain = convert(
        checker, request(order("zzqx-not-a-drug", 10, 1), order("acetaminophen", 1000, 6))
    )
    result = checker.check(domain)
    rules = [finding.rule_id for finding in result.findings]
    assert "UNKNOWN_DRUG" in rules
    assert "ACETAMINOPHEN_DAILY_MAX" in rules
    assert result.verdict is Verdict.REJECT
    response = response_from_result(result)
    assert [o.resolved for o in response.summary.orders] == [False, True]
    assert list(response.summary.orders[0].ingredients) == []


def test_conversion_of_every_field(checker) -> None:  # type: ignore[no-untyped-def]
    message = pb.CheckRegimenRequest(
        request_id="  id-7 ",
        as_of="2026-11-20",
        patient=pb.Patient(
            age_years=70,
            hepatic_impairment=True,
            renal_impairment=True,
            alcohol_use_disorder=True,
            substance_use_disorder=True,
            seizure_disorder=True,
            gi_bleed_history=True,
            cardiovascular_disease=True,
            refractory_symptoms=True,
            pain_duration_weeks=20,
        ),
        medications=[
            order(
                " Cymbalta ",
                60,
                1,
                action=pb.ORDER_ACTION_CHANGE_DOSE,
                previous_dose_mg=30,
                started_on="2026-10-01",
                response=pb.THERAPY_RESPONSE_BENEFIT,
                indication="depression",
                extended_release=True,
                route=pb.ROUTE_ORAL,
                planned_days=0,
            ),
            order(
                "ibuprofen",
                400,
                3,
                as_needed=True,
                route=pb.ROUTE_TOPICAL,
                action=pb.ORDER_ACTION_START,
                planned_days=10,
                response=pb.THERAPY_RESPONSE_NOT_TOLERATED,
            ),
            norco_by_ingredients(),
        ],
        acknowledgements=[_ack(rule_id="NSAID_RISK", reason=" ok ", drugs=["ibuprofen"])],
    )
    domain = convert(checker, message)
    assert domain.request_id == "id-7"
    assert domain.as_of == dt.date(2026, 11, 20)
    assert domain.patient == Patient(70, True, True, True, True, True, True, True, True, 20)
    assert domain.medications[0] == MedicationOrder(
        drug="Cymbalta",
        dose_mg=60,
        doses_per_day=1,
        route=Route.ORAL,
        extended_release=True,
        action=OrderAction.CHANGE_DOSE,
        started_on=dt.date(2026, 10, 1),
        previous_dose_mg=30,
        response=TherapyResponse.BENEFIT,
        indication="depression",
    )
    assert domain.medications[1] == MedicationOrder(
        drug="ibuprofen",
        dose_mg=400,
        doses_per_day=3,
        as_needed=True,
        route=Route.TOPICAL,
        action=OrderAction.START,
        planned_days=10,
        response=TherapyResponse.NOT_TOLERATED,
    )
    assert domain.medications[2].drug == ""
    assert domain.medications[2].ingredients == (
        IngredientDose("hydrocodone", 5),
        IngredientDose("acetaminophen", 325),
    )
    assert domain.acknowledgements == (Acknowledgement("NSAID_RISK", "ok", ("ibuprofen",)),)


def test_unspecified_enums_and_dates_take_their_defaults(checker) -> None:  # type: ignore[no-untyped-def]
    domain = convert(checker, request(naproxen(), as_of=""))
    assert domain.as_of == TODAY
    (medication,) = domain.medications
    assert medication.route is Route.ORAL
    assert medication.action is OrderAction.CONTINUE
    assert medication.response is TherapyResponse.UNASSESSED
    assert medication.started_on is None


# --- response_from_result ---------------------------------------------------------------------

SEVERITY = {
    Severity.INFO: pb.SEVERITY_INFO,
    Severity.WARNING: pb.SEVERITY_WARNING,
    Severity.CRITICAL: pb.SEVERITY_CRITICAL,
}
VERDICT = {
    Verdict.ACCEPT: pb.VERDICT_ACCEPT,
    Verdict.REVIEW: pb.VERDICT_REVIEW,
    Verdict.REJECT: pb.VERDICT_REJECT,
}
ACTION = {
    OrderAction.CONTINUE: pb.ORDER_ACTION_CONTINUE,
    OrderAction.START: pb.ORDER_ACTION_START,
    OrderAction.CHANGE_DOSE: pb.ORDER_ACTION_CHANGE_DOSE,
    OrderAction.STOP: pb.ORDER_ACTION_STOP,
}


def assert_same_answer(response: pb.CheckRegimenResponse, result: CheckResult) -> None:
    assert response.request_id == result.request_id
    assert response.verdict == VERDICT[result.verdict]
    assert response.knowledge_base_version == result.knowledge_base_version
    assert not response.HasField("error")
    assert len(response.findings) == len(result.findings)
    for proto, finding in zip(response.findings, result.findings, strict=True):
        assert proto.rule_id == finding.rule_id
        assert proto.severity == SEVERITY[finding.severity]
        assert list(proto.drugs) == list(finding.drugs)
        assert proto.message == finding.message
        assert proto.recommendation == finding.recommendation
        assert proto.guideline_section == finding.guideline_section
        assert proto.acknowledged == finding.acknowledged
        assert proto.ncpdp_reason_code == finding.ncpdp_reason_code
    summary, expected = response.summary, result.summary
    assert summary.acetaminophen_mg_per_day == pytest.approx(expected.acetaminophen_mg_per_day)
    assert summary.acetaminophen_limit_mg_per_day == expected.acetaminophen_limit_mg_per_day
    assert summary.morphine_mg_equivalents_per_day == pytest.approx(
        expected.morphine_mg_equivalents_per_day
    )
    assert summary.serotonergic_agents == expected.serotonergic_agents
    assert len(summary.orders) == len(expected.orders)
    for proto_order, resolved in zip(summary.orders, expected.orders, strict=True):
        assert proto_order.medication_index == resolved.index
        assert proto_order.drug == resolved.order.drug
        assert proto_order.product == resolved.product
        assert proto_order.resolved == resolved.resolved
        assert proto_order.action == ACTION[resolved.order.action]
        assert len(proto_order.ingredients) == len(resolved.ingredients)
        for proto_ingredient, ingredient in zip(
            proto_order.ingredients, resolved.ingredients, strict=True
        ):
            assert proto_ingredient.name == ingredient.name
            assert proto_ingredient.rxcui == ingredient.rxcui
            assert proto_ingredient.mg_per_dose == (ingredient.mg_per_dose or 0.0)
            assert proto_ingredient.mg_per_day == (ingredient.mg_per_day or 0.0)
            assert list(proto_ingredient.classes) == list(ingredient.classes)


def _round_trips(response: pb.CheckRegimenResponse) -> None:
    wire = pb.CheckRegimenResponse.FromString(response.SerializeToString())
    assert wire == response
    text = json_format.MessageToJson(response)
    assert json_format.Parse(text, pb.CheckRegimenResponse()) == response


@pytest.mark.parametrize(
    "build",
    [
        pytest.param(contract_example, id="contract-example"),
        pytest.param(
            lambda: request(
                order("Norco 10/325", 0, 6, units_per_dose=2),
                order("ibuprofen", action=pb.ORDER_ACTION_STOP),
            ),
            id="combination-and-stop",
        ),
        pytest.param(
            lambda: request(
                order("fentanyl", route=pb.ROUTE_TRANSDERMAL, rate_mcg_per_hour=25),
                order("alprazolam", 0.5, 2),
            ),
            id="patch-benzodiazepine",
        ),
        pytest.param(lambda: request(order("not-a-drug", 5, 1)), id="unknown"),
        pytest.param(
            lambda: request(
                order("duloxetine", 60, 1),
                order("cyclobenzaprine", 5, 3),
                patient=pb.Patient(age_years=40),
                acknowledgements=[_ack(reason="benefit outweighs risk")],
            ),
            id="acknowledged",
        ),
    ],
)
def test_response_from_result_carries_every_field(checker, build) -> None:  # type: ignore[no-untyped-def]
    result = checker.check(convert(checker, build()))
    response = response_from_result(result)
    assert_same_answer(response, result)
    _round_trips(response)


def test_acknowledged_warning_is_marked_and_accepted(checker) -> None:  # type: ignore[no-untyped-def]
    message = request(
        order("duloxetine", 60, 1),
        order("cyclobenzaprine", 5, 3),
        patient=pb.Patient(age_years=40),
        acknowledgements=[_ack(reason="benefit outweighs risk")],
    )
    response = response_from_result(checker.check(convert(checker, message)))
    assert response.verdict == pb.VERDICT_ACCEPT
    (finding,) = response.findings
    assert (finding.rule_id, finding.acknowledged) == ("SEROTONERGIC_COMBINATION", True)


def test_combination_product_summary(checker) -> None:  # type: ignore[no-untyped-def]
    message = request(order("Norco 10/325", 0, 6, units_per_dose=2))
    response = response_from_result(checker.check(convert(checker, message)))
    (norco,) = response.summary.orders
    assert norco.product  # e.g. "hydrocodone 10 / acetaminophen 325 tablet"
    # ingredients in the product's (RxNorm) order
    assert {i.name: i.mg_per_dose for i in norco.ingredients} == {
        "hydrocodone": 20,
        "acetaminophen": 650,
    }
    assert {i.name: i.mg_per_day for i in norco.ingredients} == {
        "hydrocodone": 120,
        "acetaminophen": 3900,
    }
    assert response.summary.acetaminophen_mg_per_day == 3900
    assert response.verdict == pb.VERDICT_REJECT


def test_response_from_result_with_the_check_fixture(check) -> None:  # type: ignore[no-untyped-def]
    result = check(MedicationOrder("naproxen", dose_mg=500, doses_per_day=2))
    response = response_from_result(result)
    assert_same_answer(response, result)
    assert response.request_id == "test"
    assert response.verdict == pb.VERDICT_ACCEPT
