"""FHIR R4 to the domain model, element by element (fhir/)."""

from __future__ import annotations

import datetime as dt

import pytest

from regimenguard.fhir.medication import UnmappedOrder
from regimenguard.fhir.reader import FhirInvalid
from regimenguard.fhir.regimen import Located, RegimenMapper
from regimenguard.fhir.terminology import load_terminology
from regimenguard.regimen.engine import RegimenChecker
from regimenguard.regimen.knowledge import load_knowledge
from regimenguard.regimen.model import OrderAction, RegimenRequest, Route, TherapyResponse
from tests.fhir_helpers import (
    ICD10CM,
    SNOMED,
    bundle,
    condition,
    med_request,
    medication,
    patient,
)

AS_OF = dt.date(2026, 11, 23)


@pytest.fixture(scope="module")
def mapper() -> RegimenMapper:
    return RegimenMapper(load_knowledge().resolver)


def one(mapper: RegimenMapper, resource, *, actives=(), medications=None):  # type: ignore[no-untyped-def]
    """The single order a draft maps to (or its UnmappedOrder)."""
    mapped = mapper.map(
        request_id="t",
        as_of=AS_OF,
        patient=None,
        drafts=[Located(resource, "context.draftOrders.entry[0].resource")],
        actives=[Located(a, "prefetch") for a in actives],
        medications=medications or {},
    )
    if mapped.unmapped:
        return mapped.unmapped[0]
    return mapped.request.medications[0]


@pytest.fixture(scope="module")
def checker() -> RegimenChecker:
    return RegimenChecker(load_knowledge())


def resolved(checker, order):  # type: ignore[no-untyped-def]
    """How the checker understood a mapped order: its ResolvedOrder (amounts per ingredient)."""
    request = RegimenRequest(request_id="t", as_of=AS_OF, medications=(order,))
    return checker.check(request).summary.orders[0]


def amounts(checker, order) -> dict[str, float | None]:  # type: ignore[no-untyped-def]
    return {i.name: i.mg_per_dose for i in resolved(checker, order).ingredients}


def test_rxnorm_ingredient_code_with_a_dose_in_mg(mapper):
    order = one(mapper, med_request("a", rxnorm="5640", dose=(400, "mg"), frequency=3, period=1))
    assert (order.drug, order.dose_mg, order.doses_per_day) == ("ibuprofen", 400, 3)
    assert order.action is OrderAction.START


def test_rxnorm_combination_product_code_counts_tablets(mapper):
    order = one(
        mapper,
        med_request(
            "a", rxnorm="856999", dose=(2, "{tablet}"), frequency=1, period=6, period_unit="h"
        ),
    )
    product = mapper.medications.resolver.resolve(order.drug)
    assert {name for name, _ in product.ingredients} == {"hydrocodone", "acetaminophen"}
    assert dict(product.ingredients)["acetaminophen"] == 325
    assert (order.units_per_dose, order.doses_per_day) == (2, 4)


def test_product_code_counts_tablets_of_its_strength(mapper, checker):
    order = one(
        mapper,
        med_request(
            "a",
            rxnorm="1049502",
            display="12 HR Oxycodone Hydrochloride 10 MG Extended Release Oral Tablet",
            dose=(1, "{tablet}"),
            frequency=2,
            period=1,
        ),
    )
    assert amounts(checker, order) == {"oxycodone": 10}
    assert order.doses_per_day == 2


def test_unknown_product_read_from_its_rxnorm_name(mapper, checker):
    # a strength no product has: the name grammar gives ingredient, strength and dose form
    order = one(
        mapper,
        med_request(
            "a",
            rxnorm="99999901",
            display="12 HR Oxycodone Hydrochloride 17 MG Extended Release Oral Tablet",
            dose=(2, "{tablet}"),
            frequency=2,
            period=1,
        ),
    )
    understood = resolved(checker, order)
    assert amounts(checker, order) == {"oxycodone": 34}
    assert understood.order.extended_release and understood.order.route is Route.ORAL


def test_combination_rxnorm_name_gives_each_ingredient(mapper, checker):
    order = one(
        mapper,
        med_request(
            "a",
            display="acetaminophen 333 MG / oxycodone hydrochloride 7 MG Oral Tablet",
            dose=(2, "TAB"),
            frequency=4,
            period=1,
        ),
    )
    assert amounts(checker, order) == {"acetaminophen": 666, "oxycodone": 14}


def test_text_only_names_resolve_by_the_knowledge_base(mapper):
    order = one(
        mapper, med_request("a", text="Norco 10/325", dose=(1, "{tablet}"), frequency=4, period=1)
    )
    assert (order.drug, order.units_per_dose) == ("Norco 10/325", 1)


def test_medication_reference_to_a_contained_medication(mapper):
    med = medication(
        "med1",
        text="hydrocodone/acetaminophen",
        ingredients=[("hydrocodone", 5), ("acetaminophen", 325)],
    )
    order = one(
        mapper, med_request("a", medication=med, dose=(2, "{tablet}"), frequency=3, period=1)
    )
    assert {(i.name, i.dose_mg) for i in order.ingredients} == {
        ("hydrocodone", 10),
        ("acetaminophen", 650),
    }


def test_medication_reference_to_a_bundled_medication(mapper, checker):
    resource = med_request("a", dose=(1, "{tablet}"), frequency=1, period=1)
    del resource["medicationCodeableConcept"]
    resource["medicationReference"] = {"reference": "Medication/duloxetine-30"}
    bundled = {
        "Medication/duloxetine-30": {
            "resourceType": "Medication",
            "id": "duloxetine-30",
            "code": {"text": "duloxetine 30 MG Delayed Release Oral Capsule"},
        }
    }
    order = one(mapper, resource, medications=bundled)
    assert amounts(checker, order) == {"duloxetine": 30}


def test_frequency_max_and_period_max_count_at_their_maximum(mapper):
    # q4-6h, 1-2 times: at most 2 every 4 hours = 12 a day
    order = one(
        mapper,
        med_request(
            "a",
            text="tramadol",
            dose=(50, "mg"),
            frequency=1,
            frequency_max=2,
            period=4,
            period_max=6,
            period_unit="h",
        ),
    )
    assert order.doses_per_day == 12


def test_time_of_day_and_when_count_their_entries(mapper):
    assert (
        one(
            mapper,
            med_request(
                "a", text="gabapentin", dose=(300, "mg"), time_of_day=["08:00:00", "20:00:00"]
            ),
        ).doses_per_day
        == 2
    )
    assert (
        one(
            mapper, med_request("a", text="cyclobenzaprine", dose=(5, "mg"), when=["HS"])
        ).doses_per_day
        == 1
    )


def test_timing_code_abbreviation(mapper):
    assert (
        one(
            mapper, med_request("a", text="naproxen", dose=(500, "mg"), timing_code="BID")
        ).doses_per_day
        == 2
    )


def test_dose_range_counts_its_high_end(mapper):
    order = one(
        mapper,
        med_request("a", text="Norco 10/325", dose_range=(1, 2, "{tablet}"), frequency=6, period=1),
    )
    assert order.units_per_dose == 2


def test_mass_units_are_converted_to_mg(mapper):
    assert (
        one(
            mapper, med_request("a", text="acetaminophen", dose=(1, "g"), frequency=4, period=1)
        ).dose_mg
        == 1000
    )
    assert (
        one(
            mapper, med_request("a", text="buprenorphine", dose=(300, "ug"), frequency=1, period=1)
        ).dose_mg
        == 0.3
    )


def test_patch_by_rate_quantity_and_by_its_strength(mapper, checker):
    by_rate = one(
        mapper,
        med_request(
            "a", text="fentanyl", rate=(25, "ug/h"), route="45890007", frequency=1, period=3
        ),
    )
    assert (by_rate.rate_mcg_per_hour, by_rate.route) == (25, Route.TRANSDERMAL)
    by_name = one(
        mapper,
        med_request(
            "a",
            rxnorm="197696",
            display="72 HR Fentanyl 0.075 MG/HR Transdermal System",
            dose=(1, "{patch}"),
            frequency=1,
            period=3,
        ),
    )
    understood = resolved(checker, by_name)
    assert understood.order.rate_mcg_per_hour == 75  # 0.075 MG/HR
    assert understood.order.route is Route.TRANSDERMAL
    assert understood.ingredients[0].mg_per_day == pytest.approx(1.8)


def test_topical_gel_by_concentration(mapper, checker):
    order = one(
        mapper,
        med_request(
            "a",
            display="diclofenac sodium 10 MG/G Topical Gel",
            dose=(4, "g"),
            frequency=4,
            period=1,
        ),
    )
    # 4 g of a 10 mg/g gel of the salt: 40 mg of diclofenac sodium (37.2 mg of diclofenac)
    understood = resolved(checker, order)
    assert understood.order.route is Route.TOPICAL
    assert understood.ingredients[0].mg_per_dose == pytest.approx(37.236, abs=0.01)
    by_grammar = one(
        mapper,
        med_request(
            "a",
            display="diclofenac sodium 13 MG/G Topical Gel",
            dose=(2, "g"),
            frequency=4,
            period=1,
        ),
    )
    assert resolved(checker, by_grammar).order.route is Route.TOPICAL
    assert amounts(checker, by_grammar)["diclofenac"] == pytest.approx(2 * 13 * 0.9309, abs=0.01)


def test_as_needed_boolean_and_codeable_concept(mapper):
    assert one(
        mapper,
        med_request("a", text="ibuprofen", dose=(400, "mg"), frequency=3, period=1, as_needed=True),
    ).as_needed
    assert one(
        mapper,
        med_request(
            "a", text="ibuprofen", dose=(400, "mg"), frequency=3, period=1, as_needed_for="pain"
        ),
    ).as_needed
    assert not one(
        mapper,
        med_request(
            "a", text="ibuprofen", dose=(400, "mg"), frequency=3, period=1, as_needed=False
        ),
    ).as_needed


def test_max_dose_per_period_caps_the_frequency(mapper):
    # q4h PRN (6 a day) but at most 4 tablets a day at 2 a dose: 2 administrations
    order = one(
        mapper,
        med_request(
            "a",
            text="Norco 10/325",
            dose=(2, "{tablet}"),
            frequency=1,
            period=4,
            period_unit="h",
            as_needed=True,
            max_per_period=(4, "{tablet}", 1, "d"),
        ),
    )
    assert order.doses_per_day == 2
    in_mg = one(
        mapper,
        med_request(
            "a",
            text="acetaminophen",
            dose=(500, "mg"),
            frequency=1,
            period=4,
            period_unit="h",
            max_per_period=(3000, "mg", 1, "d"),
        ),
    )
    assert in_mg.doses_per_day == 6


@pytest.mark.parametrize(
    ("code", "route"),
    [
        ("26643006", Route.ORAL),
        ("6064005", Route.TOPICAL),
        ("45890007", Route.TRANSDERMAL),
        ("47625008", Route.INJECTION),
        ("46713006", Route.INTRANASAL),
        ("37839007", Route.SUBLINGUAL),
        ("37161004", Route.RECTAL),
    ],
)
def test_route_snomed_codes(mapper, code, route):
    assert (
        one(
            mapper,
            med_request("a", text="ketorolac", dose=(15, "mg"), frequency=4, period=1, route=code),
        ).route
        is route
    )


def test_supply_duration_start_date_indication_and_response(mapper):
    order = one(
        mapper,
        med_request(
            "a",
            text="cyclobenzaprine",
            dose=(5, "mg"),
            frequency=3,
            period=1,
            supply_days=2,
            authored="2026-11-20T09:00:00-05:00",
            reason="muscle spasm",
            response="no-benefit",
        ),
    )
    assert order.planned_days == 2
    assert order.started_on == dt.date(2026, 11, 20)
    assert order.indication == "muscle spasm"
    assert order.response is TherapyResponse.NO_BENEFIT
    by_validity = one(
        mapper,
        med_request(
            "a",
            text="ibuprofen",
            dose=(400, "mg"),
            frequency=3,
            period=1,
            validity_start="2026-10-01T00:00:00-06:00",
        ),
    )
    assert by_validity.started_on == dt.date(2026, 10, 1)
    back_pain = one(
        mapper,
        med_request(
            "a", text="ibuprofen", dose=(400, "mg"), frequency=3, period=1, reason="Low back pain"
        ),
    )
    assert back_pain.indication == ""


def test_prior_prescription_makes_a_dose_change(mapper):
    before = med_request(
        "d0",
        text="duloxetine",
        dose=(30, "mg"),
        frequency=1,
        period=1,
        authored="2026-11-20",
        status="active",
    )
    after = med_request(
        "d1",
        text="duloxetine",
        dose=(60, "mg"),
        frequency=1,
        period=1,
        prior="MedicationRequest/d0",
    )
    mapped = mapper.map(
        request_id="t",
        as_of=AS_OF,
        patient=None,
        drafts=[Located(after, "d")],
        actives=[Located(before, "p")],
    )
    (order,) = mapped.request.medications
    assert order.action is OrderAction.CHANGE_DOSE
    assert (order.previous_dose_mg, order.dose_mg, order.started_on) == (
        30,
        60,
        dt.date(2026, 11, 20),
    )


def test_stopped_draft_is_a_stop_and_entered_in_error_is_left_out(mapper):
    stop = med_request("s", text="naproxen", status="stopped")
    wrong = med_request(
        "w", text="naproxen", dose=(500, "mg"), frequency=2, period=1, status="entered-in-error"
    )
    mapped = mapper.map(
        request_id="t", as_of=AS_OF, patient=None, drafts=[Located(stop, "d"), Located(wrong, "d")]
    )
    assert [o.action for o in mapped.request.medications] == [OrderAction.STOP]


def test_orders_that_cannot_be_mapped_are_named(mapper):
    no_dose = one(mapper, med_request("a", text="ibuprofen", frequency=3, period=1))
    assert (
        isinstance(no_dose, UnmappedOrder)
        and no_dose.name == "ibuprofen"
        and "dose" in no_dose.reason
    )
    no_timing = one(mapper, med_request("a", text="ibuprofen", dose=(400, "mg")))
    assert isinstance(no_timing, UnmappedOrder) and "frequency" in no_timing.reason
    tablets_unknown_strength = one(
        mapper, med_request("a", text="ibuprofen", dose=(2, "{tablet}"), frequency=3, period=1)
    )
    assert (
        isinstance(tablets_unknown_strength, UnmappedOrder)
        and "strength" in tablets_unknown_strength.reason
    )


def test_wrongly_typed_elements_are_named_by_fhirpath(mapper):
    resource = med_request("a", text="ibuprofen", dose=(400, "mg"), frequency=3, period=1)
    resource["dosageInstruction"][0]["timing"]["repeat"]["frequency"] = "three"
    resource["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["value"] = -4
    with pytest.raises(FhirInvalid) as raised:
        one(mapper, resource)
    paths = {issue.expression for issue in raised.value.issues}
    assert "MedicationRequest.dosageInstruction[0].timing.repeat.frequency" in paths
    assert "MedicationRequest.dosageInstruction[0].doseAndRate[0].doseQuantity.value" in paths
    assert {issue.where for issue in raised.value.issues} == {
        "context.draftOrders.entry[0].resource"
    }


def test_patient_age_at_the_check_date_and_partial_birth_dates(mapper):
    def age(birth):  # type: ignore[no-untyped-def]
        mapped = mapper.map(request_id="t", as_of=AS_OF, patient=Located(patient(birth), "p"))
        return mapped.request.patient.age_years

    assert age("1954-11-23") == 72
    assert age("1954-11-24") == 71
    assert age("1954") == 72  # a year alone counts from its first day: never younger


@pytest.mark.parametrize(
    ("system", "code", "field"),
    [
        (SNOMED, "19943007", "hepatic_impairment"),
        (ICD10CM, "K74.60", "hepatic_impairment"),
        (ICD10CM, "N18.30", "renal_impairment"),
        (ICD10CM, "K92.2", "gi_bleed_history"),
        (SNOMED, "84757009", "seizure_disorder"),
        (ICD10CM, "F11.20", "substance_use_disorder"),
        (ICD10CM, "F10.20", "alcohol_use_disorder"),
        (ICD10CM, "I25.10", "cardiovascular_disease"),
    ],
)
def test_conditions_set_patient_flags(mapper, system, code, field):
    mapped = mapper.map(
        request_id="t",
        as_of=AS_OF,
        patient=None,
        conditions=[Located(condition(system, code), "c")],
    )
    assert getattr(mapped.request.patient, field) is True


def test_every_table_row_for_a_patient_field_sets_it(mapper):
    """Each exact code of fhir/data/condition_codes.csv sets its Patient field (rows for fields
    the model does not have yet, such as a new condition flag, are kept out at load)."""
    from regimenguard.regimen.model import PATIENT_CONDITIONS

    rows = [r for r in mapper.terminology.conditions if r.patient_field in PATIENT_CONDITIONS]
    assert rows
    for row in rows:
        code = row.code if not row.prefix or row.system != ICD10CM else row.code + "0"
        mapped = mapper.map(
            request_id="t",
            as_of=AS_OF,
            patient=None,
            conditions=[Located(condition(row.system, code), "c")],
        )
        assert getattr(mapped.request.patient, row.patient_field) is True, row


def test_condition_status_rules(mapper):
    def flags(resource):  # type: ignore[no-untyped-def]
        return mapper.map(
            request_id="t", as_of=AS_OF, patient=None, conditions=[Located(resource, "c")]
        ).request.patient

    assert not flags(condition(ICD10CM, "N18.3", status="resolved")).renal_impairment
    assert flags(
        condition(ICD10CM, "K92.2", status="resolved")
    ).gi_bleed_history  # a history counts
    refuted = condition(ICD10CM, "K92.2")
    refuted["verificationStatus"] = {"coding": [{"code": "refuted"}]}
    assert not flags(refuted).gi_bleed_history
    assert not flags(condition(ICD10CM, "I10")).cardiovascular_disease  # hypertension alone: no


def test_low_back_pain_onset_gives_the_pain_duration(mapper):
    pain = condition(SNOMED, "279039007", onset="2026-08-31")
    mapped = mapper.map(
        request_id="t",
        as_of=AS_OF,
        patient=Located(patient(refractory=True), "p"),
        conditions=[Located(pain, "c")],
    )
    assert mapped.request.patient.pain_duration_weeks == 12
    assert mapped.request.patient.refractory_symptoms is True


def test_terminology_rows_name_their_source():
    terminology = load_terminology()
    assert {row.patient_field for row in terminology.conditions} >= {
        "hepatic_impairment",
        "renal_impairment",
        "gi_bleed_history",
        "seizure_disorder",
        "substance_use_disorder",
        "alcohol_use_disorder",
        "cardiovascular_disease",
        "active_cancer_treatment",
        "palliative_care",
    }


def test_a_searchset_bundle_of_conditions_is_not_needed_for_the_mapping(mapper):
    # resources are passed one by one; an empty regimen maps to an empty request
    mapped = mapper.map(request_id="t", as_of=AS_OF, patient=None)
    assert mapped.request.medications == () and bundle()["entry"] == []
