"""Doses and findings a prescriber can act on (issue 11 points 7 and 8)."""

from __future__ import annotations

import datetime as dt

from regimenguard.regimen.model import (
    IngredientDose,
    MedicationOrder,
    OrderAction,
    Patient,
    Severity,
    TherapyResponse,
    Verdict,
)
from tests.conftest import AS_OF
from tests.rule_helpers import fired, only, order

START = OrderAction.START
ADULT = Patient(age_years=45)
OLDER = Patient(age_years=72)


def since(days: int) -> dt.date:
    return AS_OF - dt.timedelta(days=days)


# --- START_LOW compares the daily amount (point 7) ---------------------------------------------


def test_duloxetine_30_mg_twice_a_day_started_is_60_mg_a_day_from_day_one(check) -> None:
    finding = only(check(order("duloxetine", 30, 2, action=START), patient=ADULT), "START_LOW")
    assert finding.severity is Severity.WARNING
    assert "60 mg/day" in finding.message and "30 mg/day" in finding.message
    assert "twice a day" in finding.message


def test_duloxetine_30_mg_once_a_day_started_is_the_usual_start(check) -> None:
    assert not fired(check(order("duloxetine", 30, 1, action=START), patient=ADULT), "START_LOW")


def test_cyclobenzaprine_5_mg_three_times_a_day_is_within_the_daily_start(check) -> None:
    result = check(order("cyclobenzaprine", 5, 3, as_needed=True, action=START), patient=ADULT)
    assert not fired(result, "START_LOW")


def test_a_dose_too_high_is_reported_once_not_also_as_a_daily_amount(check) -> None:
    finding = only(check(order("duloxetine", 60, 2, action=START), patient=ADULT), "START_LOW")
    assert "60 mg a dose" in finding.message and "/day" not in finding.message


# --- dose-dependent exemption: low-dose doxepin (point 7) --------------------------------------


def test_doxepin_3_mg_for_sleep_in_an_older_adult_is_not_a_tca_for_beers(check) -> None:
    result = check(order("doxepin", 3, 1, indication="insomnia"), patient=OLDER)
    assert not fired(result, "OLDER_ADULT_CAUTION")
    assert result.verdict is Verdict.ACCEPT


def test_doxepin_6_mg_is_still_exempt_and_10_mg_is_not(check) -> None:
    assert not fired(
        check(order("doxepin", 6, 1, indication="insomnia"), patient=OLDER), "OLDER_ADULT_CAUTION"
    )
    finding = only(
        check(order("doxepin", 10, 1, indication="insomnia"), patient=OLDER), "OLDER_ADULT_CAUTION"
    )
    assert finding.drugs == ("doxepin",)


def test_low_dose_doxepin_is_still_serotonergic_and_cns_active(check) -> None:
    result = check(
        order("doxepin", 3, 1, indication="insomnia"),
        order("duloxetine", 60, 1, started_on=since(90)),
        patient=ADULT,
    )
    assert fired(result, "SEROTONERGIC_COMBINATION")


# --- DUPLICATE_INGREDIENT (point 7) ------------------------------------------------------------


def test_two_scheduled_orders_of_one_ingredient_are_a_duplication(check) -> None:
    result = check(order("naproxen", 500, 2), order("naproxen", 250, 2), patient=ADULT)
    finding = only(result, "DUPLICATE_INGREDIENT")
    assert finding.severity is Severity.WARNING and finding.ncpdp_reason_code == "ID"
    assert finding.drugs == ("naproxen",)
    assert "1,000 mg/day" in finding.message and "500 mg/day" in finding.message
    assert not fired(result, "DUPLICATE_THERAPY")  # one ingredient, not two of a class


def test_scheduled_plus_as_needed_of_one_ingredient_is_not_a_duplication(check) -> None:
    result = check(
        order("tramadol", 50, 2, started_on=since(30)),
        order("tramadol", 50, 2, as_needed=True, started_on=since(30)),
        patient=ADULT,
    )
    assert not fired(result, "DUPLICATE_INGREDIENT")


def test_acetaminophen_in_a_combination_and_alone_both_scheduled(check) -> None:
    result = check(
        MedicationOrder("Norco 5/325", doses_per_day=4),
        order("acetaminophen", 500, 3),
        patient=ADULT,
    )
    finding = only(result, "DUPLICATE_INGREDIENT")
    assert finding.drugs == ("acetaminophen",) and "Norco 5/325" in finding.message


def test_topical_and_oral_diclofenac_are_not_an_ingredient_duplication(check) -> None:
    from regimenguard.regimen.model import Route

    result = check(order("diclofenac", 50, 2), order("diclofenac", 40, 4, route=Route.TOPICAL))
    assert not fired(result, "DUPLICATE_INGREDIENT")


# --- BENZODIAZEPINE_WITH_OPIOID (point 8) ------------------------------------------------------

BENZO = "BENZODIAZEPINE_WITH_OPIOID"


def test_benzodiazepine_with_opioid_names_doses_and_mme_and_offers_naloxone(check) -> None:
    result = check(
        order("lorazepam", 1, 2, indication="anxiety"),
        MedicationOrder("Percocet 5/325", doses_per_day=4, units_per_dose=2),
    )
    finding = only(result, BENZO)
    assert "lorazepam 1 mg twice a day (2 mg/day)" in finding.message
    assert "oxycodone 10 mg" in finding.message and "60 MME/day" in finding.message
    assert "tramadol" not in (finding.message + finding.recommendation).lower()
    assert "Taper one of the two" in finding.recommendation
    assert "naloxone" in finding.recommendation
    assert "muscle relaxant" not in finding.recommendation  # anxiety is not spasm


def test_benzodiazepine_for_sleep_gets_no_muscle_relaxant_suggestion(check) -> None:
    finding = only(
        check(order("temazepam", 15, 1, indication="insomnia"), order("oxycodone", 5, 2)), BENZO
    )
    assert "muscle relaxant" not in finding.recommendation
    assert "non-benzodiazepine treatment" in finding.recommendation


def test_benzodiazepine_for_back_pain_gets_the_muscle_relaxant_suggestion(check) -> None:
    finding = only(check(order("diazepam", 5, 2), order("oxycodone", 5, 2)), BENZO)
    assert "nonbenzodiazepine muscle relaxant" in finding.recommendation


def test_tramadol_is_named_as_an_opioid_only_when_present(check) -> None:
    finding = only(
        check(order("diazepam", 5, 2, indication="anxiety"), order("tramadol", 50, 4)), BENZO
    )
    assert "Tramadol is an opioid too" in finding.message
    assert "40 MME/day" in finding.message


# --- NSAID_WITH_ACETAMINOPHEN (point 8) --------------------------------------------------------

EXCEDRIN = MedicationOrder(
    "Excedrin",
    ingredients=(IngredientDose("aspirin", 500), IngredientDose("acetaminophen", 500)),
    doses_per_day=2,
)


def test_excedrin_aspirin_is_an_nsaid_at_1000_mg_a_day_and_the_finding_says_so(check) -> None:
    result = check(EXCEDRIN, order("Tylenol", 500, 2), patient=ADULT)
    finding = only(result, "NSAID_WITH_ACETAMINOPHEN")
    assert "aspirin 1,000 mg/day" in finding.message
    assert "Excedrin 1,000 mg/day" in finding.message
    assert (
        "acetaminophen 2,000 mg/day" in finding.message
        and "Tylenol 1,000 mg/day" in finding.message
    )
    assert "above 325 mg/day" in finding.message


def test_low_dose_aspirin_with_acetaminophen_is_not_an_nsaid_pair(check) -> None:
    assert not fired(
        check(order("aspirin", 81, 1), order("acetaminophen", 500, 2)), "NSAID_WITH_ACETAMINOPHEN"
    )


# --- MUSCLE_RELAXANT_DURATION (point 8) --------------------------------------------------------

DURATION = "MUSCLE_RELAXANT_DURATION"


def test_duration_says_which_criterion_is_missing_and_how_many_days_over(check) -> None:
    result = check(
        order("tizanidine", 4, 3, started_on=since(40), response=TherapyResponse.BENEFIT),
        patient=ADULT,
    )
    finding = only(result, DURATION)
    assert "12 days over its limit of 28 days" in finding.message
    assert "symptoms are not documented as refractory" in finding.message
    assert "benefit" not in finding.message.split("criteria;")[1]
    assert "Taper tizanidine" in finding.recommendation
    assert "rebound hypertension" in finding.recommendation


def test_duration_of_an_untolerated_relaxant_says_so(check) -> None:
    result = check(
        order("baclofen", 10, 3, started_on=since(35), response=TherapyResponse.NOT_TOLERATED),
        patient=Patient(age_years=50, refractory_symptoms=True),
    )
    finding = only(result, DURATION)
    assert (
        "it is not tolerated" in finding.message
        and "refractory" not in finding.message.split("criteria;")[1]
    )
    assert "Taper baclofen" in finding.recommendation


def test_cyclobenzaprine_over_its_limit_is_stopped_not_tapered(check) -> None:
    finding = only(
        check(order("cyclobenzaprine", 5, 3, started_on=since(30)), patient=ADULT), DURATION
    )
    assert "Stop cyclobenzaprine by day 28" in finding.recommendation
    assert "Taper" not in finding.recommendation


# --- OLDER_ADULT_CAUTION advice (point 8) ------------------------------------------------------


def test_older_adult_muscle_relaxant_advice_speaks_of_muscle_relaxants_only(check) -> None:
    finding = only(check(order("methocarbamol", 750, 3), patient=OLDER), "OLDER_ADULT_CAUTION")
    assert "muscle relaxant" in finding.recommendation
    assert "benzodiazepine" not in finding.recommendation.lower()


def test_older_adult_benzodiazepine_advice_speaks_of_benzodiazepines(check) -> None:
    finding = only(
        check(order("lorazepam", 0.5, 1, indication="insomnia"), patient=OLDER),
        "OLDER_ADULT_CAUTION",
    )
    assert "benzodiazepine" in finding.recommendation.lower()
    assert "muscle relaxant" not in finding.recommendation
