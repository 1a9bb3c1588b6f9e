"""Patient-dependent rules: NSAID_RISK, NSAID_PREVIOUSLY_INEFFECTIVE, OLDER_ADULT_CAUTION,
DULOXETINE_SUBACUTE, DRUG_CONDITION and NOT_RECOMMENDED_FOR_BACK_PAIN."""

from __future__ import annotations

import datetime as dt

import pytest

from regimenguard.regimen.model import (
    CheckResult,
    Finding,
    MedicationOrder,
    OrderAction,
    Patient,
    Route,
    Severity,
    TherapyResponse,
    Verdict,
)
from tests.conftest import AS_OF
from tests.rule_helpers import fired, only, order

OLDER = Patient(age_years=70)


def all_of(result: CheckResult, rule_id: str) -> list[Finding]:
    return [f for f in result.findings if f.rule_id == rule_id]


NAPROXEN = order("naproxen", 500, 2)
WARFARIN = order("warfarin", 5, 1, indication="atrial fibrillation")
TOPICAL_DICLOFENAC = order("diclofenac", 4, 4, route=Route.TOPICAL)

# --- NSAID_RISK --------------------------------------------------------------------------------

RISK = "NSAID_RISK"


def test_older_adult_alone_is_info(check) -> None:
    result = check(NAPROXEN, patient=OLDER)
    finding = only(result, RISK)
    assert finding.severity is Severity.INFO
    assert finding.drugs == ("naproxen",)
    assert "naproxen" in finding.message.lower() and "65" in finding.message
    assert "gastroprotective" in finding.recommendation
    assert finding.guideline_section == "Guideline: Nonopioid analgesics (NSAIDs)"
    assert finding.ncpdp_reason_code == "MC"
    assert result.verdict is Verdict.ACCEPT


def test_age_64_is_not_an_older_adult(check) -> None:
    assert not fired(check(NAPROXEN, patient=Patient(age_years=64)), RISK)


@pytest.mark.parametrize(
    ("patient", "words"),
    [
        (Patient(age_years=40, gi_bleed_history=True), "gastrointestinal bleeding"),
        (Patient(age_years=40, renal_impairment=True), "renal impairment"),
        (Patient(age_years=40, cardiovascular_disease=True), "cardiovascular disease"),
    ],
)
def test_risk_condition_is_a_warning(check, patient: Patient, words: str) -> None:
    result = check(NAPROXEN, patient=patient)
    finding = only(result, RISK)
    assert finding.severity is Severity.WARNING
    assert finding.drugs == ("naproxen",)
    assert words in finding.message
    assert finding.recommendation and finding.ncpdp_reason_code == "MC"
    assert result.verdict is Verdict.REVIEW


def test_older_adult_with_gi_bleeding_reports_the_warning_without_the_info(check) -> None:
    result = check(NAPROXEN, patient=Patient(age_years=70, gi_bleed_history=True))
    assert only(result, RISK).severity is Severity.WARNING


def test_two_risk_conditions_for_one_nsaid_are_one_finding(check) -> None:
    result = check(
        NAPROXEN, patient=Patient(age_years=40, gi_bleed_history=True, renal_impairment=True)
    )
    finding = only(result, RISK)
    assert "gastrointestinal bleeding" in finding.message and "renal impairment" in finding.message


def test_anticoagulant_is_a_warning_with_ncpdp_dd(check) -> None:
    finding = only(check(NAPROXEN, WARFARIN), RISK)
    assert finding.severity is Severity.WARNING
    assert finding.drugs == ("naproxen", "warfarin")
    assert "warfarin" in finding.message.lower()
    assert "topical NSAID" in finding.recommendation
    assert finding.ncpdp_reason_code == "DD"
    apixaban = only(
        check(order("ibuprofen", 400, 3), order("Eliquis", 5, 2, indication="AF")), RISK
    )
    assert apixaban.drugs == ("apixaban", "ibuprofen") and apixaban.ncpdp_reason_code == "DD"


def test_topical_diclofenac_carries_no_systemic_nsaid_risk(check) -> None:
    patient = Patient(age_years=80, gi_bleed_history=True, renal_impairment=True)
    result = check(TOPICAL_DICLOFENAC, WARFARIN, patient=patient)
    assert not fired(result, RISK)


def test_aspirin_counts_as_an_nsaid_only_at_analgesic_doses(check) -> None:
    gi = Patient(age_years=40, gi_bleed_history=True)
    assert not fired(check(order("aspirin", 81, 1), patient=gi), RISK)
    assert not fired(check(order("aspirin", 81, 1), WARFARIN), RISK)
    assert only(check(order("aspirin", 650, 4), patient=gi), RISK).drugs == ("aspirin",)


def test_ketorolac_beyond_5_days_is_a_warning_with_ncpdp_mx(check) -> None:
    def ketorolac(**kwargs) -> MedicationOrder:  # type: ignore[no-untyped-def]
        return order("ketorolac", 10, 4, **kwargs)

    assert not fired(check(ketorolac(started_on=AS_OF - dt.timedelta(days=5))), RISK)
    finding = only(check(ketorolac(started_on=AS_OF - dt.timedelta(days=6))), RISK)
    assert finding.severity is Severity.WARNING
    assert finding.drugs == ("ketorolac",)
    assert "6 days" in finding.message and "5" in finding.message
    assert finding.ncpdp_reason_code == "MX"
    assert finding.guideline_section == "FDA label: ketorolac"
    planned = only(check(ketorolac(action=OrderAction.START, planned_days=6)), RISK)
    assert planned.ncpdp_reason_code == "MX"


# --- NSAID_PREVIOUSLY_INEFFECTIVE --------------------------------------------------------------

INEFFECTIVE = "NSAID_PREVIOUSLY_INEFFECTIVE"


def test_continuing_an_ineffective_nsaid(check) -> None:
    result = check(order("naproxen", 500, 2, response=TherapyResponse.NO_BENEFIT))
    finding = only(result, INEFFECTIVE)
    assert finding.severity is Severity.WARNING
    assert finding.drugs == ("naproxen",)
    assert "naproxen" in finding.message.lower()
    assert "duloxetine" in finding.recommendation
    assert finding.guideline_section == "Guideline: Nonopioid analgesics (NSAIDs)"
    assert finding.ncpdp_reason_code == "SD"


def test_stopped_or_helpful_nsaid_is_fine(check) -> None:
    for response, action in [
        (TherapyResponse.NO_BENEFIT, OrderAction.STOP),
        (TherapyResponse.BENEFIT, OrderAction.CONTINUE),
        (TherapyResponse.UNASSESSED, OrderAction.CONTINUE),
    ]:
        result = check(order("naproxen", 500, 2, response=response, action=action))
        assert not fired(result, INEFFECTIVE), (response, action)


def test_ineffective_analgesic_dose_aspirin_is_an_ineffective_nsaid(check) -> None:
    result = check(order("aspirin", 650, 4, response=TherapyResponse.NO_BENEFIT))
    assert only(result, INEFFECTIVE).drugs == ("aspirin",)


# --- OLDER_ADULT_CAUTION -----------------------------------------------------------------------

OLD = "OLDER_ADULT_CAUTION"


def test_older_adult_on_a_tca(check) -> None:
    result = check(order("amitriptyline", 25, 1), patient=OLDER)
    finding = only(result, OLD)
    assert finding.severity is Severity.WARNING
    assert finding.drugs == ("amitriptyline",)
    assert "amitriptyline" in finding.message.lower() and "65" in finding.message
    assert "duloxetine" in finding.recommendation
    assert finding.guideline_section == "Guideline: Tricyclic antidepressants"
    assert finding.ncpdp_reason_code == "PA"
    assert not fired(check(order("amitriptyline", 25, 1), patient=Patient(age_years=64)), OLD)


def test_older_adult_on_a_beers_muscle_relaxant_or_benzodiazepine(check) -> None:
    for medication, drug in [
        (order("cyclobenzaprine", 5, 3), "cyclobenzaprine"),
        (order("methocarbamol", 750, 3), "methocarbamol"),
        (order("diazepam", 2, 1, indication="anxiety"), "diazepam"),
    ]:
        finding = only(check(medication, patient=OLDER), OLD)
        assert finding.severity is Severity.WARNING, drug
        assert finding.drugs == (drug,)
        assert drug in finding.message.lower()
        assert finding.guideline_section == "AGS Beers Criteria 2023"
        assert finding.ncpdp_reason_code == "PA"


def test_tizanidine_and_baclofen_are_not_on_the_beers_list(check) -> None:
    assert not fired(check(order("tizanidine", 2, 3), patient=OLDER), OLD)
    assert not fired(check(order("baclofen", 5, 3), patient=OLDER), OLD)


def test_three_cns_active_drugs_in_an_older_adult(check) -> None:
    orders = (
        order("duloxetine", 60, 1),
        order("tizanidine", 2, 3),
        order("gabapentin", 300, 3, indication="neuropathy"),
    )
    finding = only(check(*orders, patient=OLDER), OLD)
    assert finding.drugs == ("duloxetine", "gabapentin", "tizanidine")
    assert "3" in finding.message
    assert finding.guideline_section == "AGS Beers Criteria 2023"
    assert not fired(check(*orders[:2], patient=OLDER), OLD)  # two is not three
    assert not fired(check(*orders, patient=Patient(age_years=60)), OLD)


# --- DULOXETINE_SUBACUTE -----------------------------------------------------------------------

SUBACUTE = "DULOXETINE_SUBACUTE"
DULOXETINE_START = order("duloxetine", 30, 1, action=OrderAction.START)


def test_duloxetine_started_for_subacute_pain_is_info(check) -> None:
    weeks = 12  # the boundary: 12 weeks is still subacute
    result = check(DULOXETINE_START, patient=Patient(age_years=40, pain_duration_weeks=weeks))
    finding = only(result, SUBACUTE)
    assert finding.severity is Severity.INFO
    assert finding.drugs == ("duloxetine",)
    assert f"{weeks} weeks" in finding.message
    assert finding.recommendation
    assert finding.guideline_section == "Guideline: Duloxetine"
    assert finding.ncpdp_reason_code == "SD"
    assert result.verdict is Verdict.ACCEPT


def test_duloxetine_for_chronic_unknown_duration_or_continued_is_not_flagged(check) -> None:
    assert not fired(check(DULOXETINE_START, patient=Patient(pain_duration_weeks=13)), SUBACUTE)
    assert not fired(check(DULOXETINE_START, patient=Patient(pain_duration_weeks=0)), SUBACUTE)
    continued = order("duloxetine", 30, 1)
    assert not fired(check(continued, patient=Patient(pain_duration_weeks=8)), SUBACUTE)


# --- DRUG_CONDITION ----------------------------------------------------------------------------

CONDITION = "DRUG_CONDITION"


@pytest.mark.parametrize(
    ("medication", "patient", "drug", "words", "section"),
    [
        (
            order("duloxetine", 30, 1),
            Patient(hepatic_impairment=True),
            "duloxetine",
            "hepatic impairment",
            "FDA label: duloxetine",
        ),
        (
            order("Cymbalta", 30, 1),
            Patient(alcohol_use_disorder=True),
            "duloxetine",
            "alcohol use disorder",
            "FDA label: duloxetine",
        ),
        (
            order("tizanidine", 2, 3),
            Patient(hepatic_impairment=True),
            "tizanidine",
            "hepatic impairment",
            "FDA label: tizanidine",
        ),
    ],
)
def test_label_caution_for_a_condition(
    check, medication: MedicationOrder, patient: Patient, drug: str, words: str, section: str
) -> None:
    finding = only(check(medication, patient=patient), CONDITION)
    assert finding.severity is Severity.WARNING
    assert finding.drugs == (drug,)
    assert words in finding.message and drug in finding.message.lower()
    assert finding.recommendation.startswith("Avoid")
    assert finding.guideline_section == section
    assert finding.ncpdp_reason_code == "MC"


def test_no_label_caution_for_other_drug_condition_pairs(check) -> None:
    assert not fired(
        check(order("cyclobenzaprine", 5, 3), patient=Patient(hepatic_impairment=True)), CONDITION
    )
    assert not fired(
        check(order("duloxetine", 30, 1), patient=Patient(renal_impairment=True)), CONDITION
    )


# --- NOT_RECOMMENDED_FOR_BACK_PAIN -------------------------------------------------------------

NOT_REC = "NOT_RECOMMENDED_FOR_BACK_PAIN"


def test_benzodiazepine_for_back_pain_is_a_warning(check) -> None:
    result = check(order("Valium", 5, 2))
    finding = only(result, NOT_REC)
    assert finding.severity is Severity.WARNING
    assert finding.drugs == ("diazepam",)
    assert "diazepam" in finding.message.lower()
    assert "muscle relaxant" in finding.recommendation
    assert finding.guideline_section == "Guideline: Therapies that we do not routinely recommend"
    assert finding.ncpdp_reason_code == "SD"
    assert result.verdict is Verdict.REVIEW


def test_other_not_recommended_agents_are_info(check) -> None:
    for name, ingredient in [
        ("gabapentin", "gabapentin"),
        ("Lyrica", "pregabalin"),
        ("sertraline", "sertraline"),
        ("bupropion", "bupropion"),
        ("prednisone", "prednisone"),
        ("topiramate", "topiramate"),
        ("glucosamine sulfate", "glucosamine"),
        ("St. John's wort", "st john's wort"),
        ("CBD", "cannabidiol"),
    ]:
        result = check(order(name, 50, 1))
        finding = only(result, NOT_REC)
        assert finding.severity is Severity.INFO, name
        assert finding.drugs == (ingredient,), name
        assert ingredient in finding.message.lower(), name
        assert finding.recommendation and finding.ncpdp_reason_code == "SD"
        assert result.verdict is Verdict.ACCEPT, name


def test_benzodiazepine_and_gabapentin_are_reported_separately_by_severity(check) -> None:
    findings = all_of(check(order("diazepam", 5, 2), order("gabapentin", 300, 3)), NOT_REC)
    assert [(f.severity, f.drugs) for f in findings] == [
        (Severity.WARNING, ("diazepam",)),
        (Severity.INFO, ("gabapentin",)),
    ]


def test_orders_for_another_indication_are_not_judged(check) -> None:
    result = check(
        order("sertraline", 50, 1, indication="depression"),
        order("gabapentin", 300, 3, indication="postherpetic neuralgia"),
        order("lorazepam", 1, 1, indication="panic disorder"),
    )
    assert not fired(result, NOT_REC)
