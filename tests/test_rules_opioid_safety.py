"""Opioid safety (issue 11 points 2 to 6): OUD treatment, long-acting and opioid-tolerant-only
starts, MME that cannot be counted, naloxone, and the patient contexts that change severity."""

from __future__ import annotations

import datetime as dt

import pytest

from regimenguard.regimen.model import (
    IngredientDose,
    MedicationOrder,
    OrderAction,
    Patient,
    Route,
    Severity,
    Verdict,
)
from tests.conftest import AS_OF
from tests.rule_helpers import fired, only, order

START = OrderAction.START
STOP = OrderAction.STOP
ADULT = Patient(age_years=45)
NALOXONE = order("naloxone", 4, 1, as_needed=True, route=Route.INTRANASAL)
MME = "OPIOID_DAILY_MME"
LONG_ACTING = "LONG_ACTING_OPIOID_START"
TOLERANT_ONLY = "OPIOID_TOLERANT_ONLY"
INCOMPLETE = "MME_INCOMPLETE"
OFFER_NALOXONE = "NALOXONE_NOT_PRESCRIBED"


def since(days: int) -> dt.date:
    return AS_OF - dt.timedelta(days=days)


# --- opioid use disorder treatment (point 2) ----------------------------------------------------

METHADONE_OUD = order("methadone", 80, 1, indication="opioid use disorder", started_on=since(400))


@pytest.mark.parametrize(
    "indication", ["opioid use disorder", "OUD", "Opioid dependence", "MAT", "moud", " MOUD. "]
)
def test_methadone_maintenance_is_not_pain_mme_and_not_a_restricted_opioid(
    check, indication
) -> None:
    methadone = order("methadone", 80, 1, indication=indication, started_on=since(400))
    result = check(methadone, NALOXONE, patient=Patient(age_years=40, substance_use_disorder=True))
    assert not fired(result, MME)
    assert not fired(result, "MISUSE_RISK")
    assert not fired(result, "OPIOID_NOT_FIRST_LINE")
    assert not fired(result, LONG_ACTING)
    assert result.summary.morphine_mg_equivalents_per_day == 0
    assert result.summary.oud_treatment_drugs == ("methadone",)
    assert result.verdict is Verdict.ACCEPT, result.findings


def test_methadone_for_pain_is_held_to_the_mme_thresholds(check) -> None:
    """The near miss: 80 mg/day for pain is 376 MME/day."""
    result = check(order("methadone", 40, 2, started_on=since(400)), NALOXONE)
    finding = only(result, MME)
    assert finding.severity is Severity.CRITICAL and "376 MME" in finding.message
    assert result.summary.oud_treatment_drugs == ()


def test_buprenorphine_for_oud_with_substance_use_disorder_has_no_misuse_warning(check) -> None:
    result = check(
        order("buprenorphine", 8, 2, route=Route.SUBLINGUAL, indication="OUD", action=START),
        NALOXONE,
        patient=Patient(age_years=30, substance_use_disorder=True),
    )
    assert not fired(result, "MISUSE_RISK")
    assert not fired(result, "OPIOID_NOT_FIRST_LINE")
    assert not fired(result, INCOMPLETE)
    assert result.summary.oud_treatment_drugs == ("buprenorphine",)


def test_oud_treatment_still_counts_with_a_benzodiazepine(check) -> None:
    result = check(
        METHADONE_OUD, order("alprazolam", 0.5, 2, indication="panic disorder"), NALOXONE
    )
    finding = only(result, "BENZODIAZEPINE_WITH_OPIOID")
    assert finding.severity is Severity.CRITICAL
    assert "for opioid use disorder" in finding.message


def test_oud_treatment_still_counts_for_cns_depressants_and_serotonergic_load(check) -> None:
    result = check(METHADONE_OUD, order("gabapentin", 300, 3, indication="neuropathy"), NALOXONE)
    assert only(result, "CNS_DEPRESSANT_COMBINATION").severity is Severity.WARNING
    result = check(METHADONE_OUD, order("sertraline", 50, 1, indication="depression"), NALOXONE)
    assert only(result, "SEROTONERGIC_COMBINATION").drugs == ("methadone", "sertraline")


def test_oud_treatment_is_apart_from_a_pain_opioid_in_the_totals(check) -> None:
    result = check(METHADONE_OUD, order("oxycodone", 5, 4, as_needed=True), NALOXONE)
    assert result.summary.morphine_mg_equivalents_per_day == pytest.approx(30)
    assert result.summary.oud_treatment_drugs == ("methadone",)


def test_oud_treatment_without_naloxone_is_offered_naloxone(check) -> None:
    finding = only(check(METHADONE_OUD), OFFER_NALOXONE)
    assert "treatment of opioid use disorder (methadone)" in finding.message


# --- long-acting opioids at initiation (point 3) -----------------------------------------------

OXYCODONE_ER = order("oxycodone", 10, 2, extended_release=True, action=START)


def test_oxycodone_er_started_in_an_opioid_naive_patient_is_a_warning(check) -> None:
    finding = only(check(OXYCODONE_ER, patient=ADULT), LONG_ACTING)
    assert finding.severity is Severity.WARNING
    assert finding.drugs == ("oxycodone",)
    assert (
        "extended-release oxycodone" in finding.message.lower() and "20 mg/day" in finding.message
    )
    assert "immediate-release" in finding.recommendation
    assert finding.ncpdp_reason_code == "SF"
    assert "recommendation 3" in finding.guideline_section


def test_oxycodone_er_added_to_a_current_opioid_is_not_flagged(check) -> None:
    result = check(OXYCODONE_ER, order("oxycodone", 5, 4, as_needed=True, started_on=since(60)))
    assert not fired(result, LONG_ACTING)


def test_switch_from_short_acting_stopped_in_the_same_request_counts_as_current(check) -> None:
    result = check(MedicationOrder("oxycodone", action=STOP), OXYCODONE_ER)
    assert not fired(result, LONG_ACTING)


def test_methadone_for_pain_started_is_long_acting(check) -> None:
    assert only(check(order("methadone", 2.5, 3, action=START)), LONG_ACTING).drugs == (
        "methadone",
    )


def test_buprenorphine_patch_started_is_long_acting(check) -> None:
    patch = MedicationOrder("Butrans", rate_mcg_per_hour=5, route=Route.TRANSDERMAL, action=START)
    assert fired(check(patch), LONG_ACTING)


def test_immediate_release_oxycodone_started_is_not_long_acting(check) -> None:
    assert not fired(check(order("oxycodone", 5, 4, as_needed=True, action=START)), LONG_ACTING)


def test_tramadol_er_keeps_its_own_rule(check) -> None:
    result = check(order("tramadol", 100, 1, extended_release=True, action=START))
    assert fired(result, "TRAMADOL_EXTENDED_RELEASE_START")
    assert not fired(result, LONG_ACTING)


FENTANYL_PATCH = MedicationOrder(
    "Duragesic", rate_mcg_per_hour=25, route=Route.TRANSDERMAL, action=START
)


def test_fentanyl_patch_in_a_patient_not_on_opioids_is_critical(check) -> None:
    result = check(FENTANYL_PATCH, patient=ADULT)
    finding = only(result, TOLERANT_ONLY)
    assert finding.severity is Severity.CRITICAL
    assert "transdermal fentanyl" in finding.message.lower() and "25 mcg/h" in finding.message
    assert "Duragesic" in finding.guideline_section
    assert not fired(result, LONG_ACTING)  # one finding for one problem
    assert result.verdict is Verdict.REJECT


def test_fentanyl_patch_after_a_week_of_90_mme_is_not_critical(check) -> None:
    result = check(
        FENTANYL_PATCH,
        MedicationOrder("oxycodone", 15, doses_per_day=4, action=STOP, started_on=since(30)),
    )
    assert not fired(result, TOLERANT_ONLY)
    assert not fired(result, LONG_ACTING)


def test_fentanyl_patch_after_only_five_days_of_opioids_is_critical(check) -> None:
    result = check(FENTANYL_PATCH, order("oxycodone", 15, 4, started_on=since(5)))
    finding = only(result, TOLERANT_ONLY)
    assert "0 MME/day" in finding.message and "60 MME/day for 7 days" in finding.message


def test_fentanyl_patch_below_60_mme_is_critical(check) -> None:
    result = check(FENTANYL_PATCH, order("oxycodone", 5, 4, started_on=since(60)))
    assert "30 MME/day" in only(result, TOLERANT_ONLY).message


def test_fentanyl_patch_with_the_opioid_tolerant_flag_is_not_critical(check) -> None:
    result = check(FENTANYL_PATCH, patient=Patient(age_years=60, opioid_tolerant=True))
    assert not fired(result, TOLERANT_ONLY)
    assert fired(result, LONG_ACTING)  # still no current opioid in the regimen


def test_buccal_fentanyl_and_er_hydromorphone_are_tolerant_only(check) -> None:
    buccal = MedicationOrder("fentanyl", 0.1, doses_per_day=4, route=Route.BUCCAL, action=START)
    assert only(check(buccal), TOLERANT_ONLY).drugs == ("fentanyl",)
    exalgo = order("Exalgo", 8, 1, extended_release=True, action=START)
    assert only(check(exalgo), TOLERANT_ONLY).drugs == ("hydromorphone",)
    assert not fired(check(order("hydromorphone", 2, 4, action=START)), TOLERANT_ONLY)


def test_oxycontin_up_to_80_mg_a_day_is_long_acting_not_tolerant_only(check) -> None:
    result = check(order("OxyContin", 40, 2, extended_release=True, action=START))
    assert not fired(result, TOLERANT_ONLY)
    assert fired(result, LONG_ACTING)


def test_oxycontin_above_80_mg_a_day_is_for_tolerant_patients_only(check) -> None:
    result = check(order("OxyContin", 60, 2, extended_release=True, action=START))
    finding = only(result, TOLERANT_ONLY)
    assert "at this amount" in finding.message and "120 mg/day" in finding.message
    assert "OxyContin" in finding.guideline_section
    assert not fired(result, LONG_ACTING)


def test_oxycontin_above_80_mg_a_day_after_a_week_of_90_mme_is_not_critical(check) -> None:
    current = order("oxycodone", 15, 4, action=STOP, started_on=since(14))
    result = check(current, order("OxyContin", 60, 2, extended_release=True, action=START))
    assert not fired(result, TOLERANT_ONLY)


# --- MME that cannot be counted (point 4) ------------------------------------------------------


def test_buccal_fentanyl_has_no_factor_and_the_total_is_a_lower_bound(check) -> None:
    result = check(
        MedicationOrder("fentanyl", 0.2, doses_per_day=4, route=Route.BUCCAL),
        order("oxycodone", 10, 4),
    )
    finding = only(result, INCOMPLETE)
    assert finding.severity is Severity.WARNING
    assert finding.drugs == ("fentanyl",)
    assert "buccal fentanyl" in finding.message.lower() and "60 MME/day" in finding.message
    assert "lower bound" in finding.message
    assert result.summary.mme_uncounted_drugs == ("fentanyl",)
    assert result.summary.morphine_mg_equivalents_per_day == pytest.approx(60)


def test_meperidine_has_no_cdc_factor(check) -> None:
    result = check(order("meperidine", 50, 4))
    assert only(result, INCOMPLETE).drugs == ("meperidine",)
    assert result.verdict is Verdict.REVIEW


def test_a_patch_without_its_rate_is_not_a_silent_zero(check) -> None:
    result = check(MedicationOrder("fentanyl", 2.5, doses_per_day=1, route=Route.TRANSDERMAL))
    assert "no known amount" in only(result, INCOMPLETE).message
    assert result.summary.mme_uncounted_drugs == ("fentanyl",)


def test_a_brand_without_its_strength_has_no_known_opioid_amount(check) -> None:
    result = check(MedicationOrder("Percocet", doses_per_day=4))
    assert fired(result, INCOMPLETE) and fired(result, "UNKNOWN_DRUG")


def test_every_countable_opioid_gives_no_incomplete_finding(check) -> None:
    result = check(
        order("oxycodone", 10, 4),
        MedicationOrder("Duragesic", rate_mcg_per_hour=25, route=Route.TRANSDERMAL),
    )
    assert not fired(result, INCOMPLETE)
    assert result.summary.mme_uncounted_drugs == ()


def test_buprenorphine_is_not_converted_by_design_and_not_reported(check) -> None:
    result = check(MedicationOrder("Butrans", rate_mcg_per_hour=10, route=Route.TRANSDERMAL))
    assert not fired(result, INCOMPLETE)
    assert result.summary.mme_uncounted_drugs == ()


# --- naloxone (point 5) ------------------------------------------------------------------------


def test_50_mme_without_naloxone_is_a_warning_to_offer_it(check) -> None:
    finding = only(
        check(order("oxycodone", 10, 4, started_on=since(90)), patient=ADULT), OFFER_NALOXONE
    )
    assert finding.severity is Severity.WARNING
    assert finding.ncpdp_reason_code == "AD"
    assert "60 MME/day" in finding.message
    assert "naloxone" in finding.recommendation.lower()
    assert "recommendation 8" in finding.guideline_section


def test_naloxone_in_the_regimen_silences_it(check) -> None:
    result = check(order("oxycodone", 10, 4, started_on=since(90)), NALOXONE)
    assert not fired(result, OFFER_NALOXONE)
    assert not fired(result, "MULTIPLE_NEW_AGENTS")


def test_naloxone_started_with_an_opioid_is_not_a_second_new_back_pain_agent(check) -> None:
    result = check(
        order("oxycodone", 10, 4, action=START),
        order("Narcan", 4, 1, as_needed=True, route=Route.INTRANASAL, action=START),
    )
    assert not fired(result, "MULTIPLE_NEW_AGENTS")
    assert not fired(result, OFFER_NALOXONE)


def test_below_50_mme_alone_is_not_a_risk_factor(check) -> None:
    assert not fired(check(order("oxycodone", 5, 4, as_needed=True), patient=ADULT), OFFER_NALOXONE)


def test_opioid_with_a_muscle_relaxant_below_50_mme_does_not_raise_it(check) -> None:
    result = check(
        order("tramadol", 50, 4, as_needed=True), order("cyclobenzaprine", 5, 3), patient=ADULT
    )
    assert not fired(result, OFFER_NALOXONE)


def test_opioid_with_a_benzodiazepine_below_50_mme_raises_it(check) -> None:
    result = check(order("tramadol", 50, 2), order("lorazepam", 1, 1, indication="anxiety"))
    assert "lorazepam" in only(result, OFFER_NALOXONE).message


def test_substance_use_disorder_history_raises_it(check) -> None:
    result = check(
        order("tramadol", 50, 2), patient=Patient(age_years=40, substance_use_disorder=True)
    )
    assert "substance use disorder" in only(result, OFFER_NALOXONE).message


def test_buprenorphine_naloxone_combination_is_not_a_rescue_product(check) -> None:
    suboxone = MedicationOrder(
        "Suboxone",
        ingredients=(IngredientDose("buprenorphine", 8), IngredientDose("naloxone", 2)),
        doses_per_day=2,
        route=Route.SUBLINGUAL,
        indication="OUD",
    )
    assert fired(check(suboxone), OFFER_NALOXONE)


# --- context: cancer, palliative care, minors (point 6) ----------------------------------------


@pytest.mark.parametrize("context", ["active_cancer_treatment", "palliative_care"])
def test_cancer_or_palliative_care_makes_mme_and_restriction_advice(check, context) -> None:
    patient = Patient(age_years=60, **{context: True})
    result = check(order("oxycodone", 20, 4, action=START), NALOXONE, patient=patient)
    mme = only(result, MME)
    assert mme.severity is Severity.INFO and "120 MME" in mme.message
    assert "does not cover" in mme.message
    assert only(result, "OPIOID_NOT_FIRST_LINE").severity is Severity.INFO
    assert result.verdict is Verdict.ACCEPT, result.findings


def test_without_the_context_the_same_regimen_is_critical(check) -> None:
    result = check(order("oxycodone", 20, 4, action=START), NALOXONE, patient=Patient(age_years=60))
    assert only(result, MME).severity is Severity.CRITICAL
    assert only(result, "OPIOID_NOT_FIRST_LINE").severity is Severity.WARNING


def test_cancer_context_leaves_other_safety_rules_alone(check) -> None:
    patient = Patient(age_years=60, active_cancer_treatment=True)
    result = check(
        order("oxycodone", 5, 4), order("lorazepam", 1, 1, indication="anxiety"), patient=patient
    )
    assert only(result, "BENZODIAZEPINE_WITH_OPIOID").severity is Severity.CRITICAL
    assert only(result, OFFER_NALOXONE).severity is Severity.WARNING


def test_a_patient_under_18_gets_one_warning_and_adult_limits_still_apply(check) -> None:
    result = check(
        order("naproxen", 500, 2), order("acetaminophen", 1000, 4), patient=Patient(age_years=16)
    )
    finding = only(result, "PATIENT_UNDER_18")
    assert finding.severity is Severity.WARNING and "16" in finding.message
    assert finding.ncpdp_reason_code == "PA"
    assert only(result, "ACETAMINOPHEN_DAILY_MAX").severity is Severity.CRITICAL


@pytest.mark.parametrize("age", [0, 18, 45])
def test_adults_and_unknown_age_get_no_minor_warning(check, age) -> None:
    assert not fired(
        check(order("naproxen", 500, 2), patient=Patient(age_years=age)), "PATIENT_UNDER_18"
    )


def test_long_acting_start_in_cancer_treatment_is_advice(check) -> None:
    patient = Patient(age_years=60, active_cancer_treatment=True)
    finding = only(check(OXYCODONE_ER, NALOXONE, patient=patient), LONG_ACTING)
    assert finding.severity is Severity.INFO
    assert "in active cancer treatment" in finding.message


def test_oud_order_lists_its_classes_without_the_pain_restrictions(check) -> None:
    result = check(METHADONE_OUD, NALOXONE)
    classes = result.summary.orders[0].ingredients[0].classes
    assert "opioid" in classes and "serotonergic" in classes
    assert "restricted_opioid" not in classes and "misuse_risk_high" not in classes
