"""Combination-therapy principles and scheduling: one new agent at a time, start low, titrate
duloxetine after 7 days, schedule duloxetine/TCAs/extended-release tramadol correctly."""

from __future__ import annotations

import datetime as dt

import pytest

from regimenguard.regimen.model import (
    MedicationOrder,
    OrderAction,
    Route,
    Severity,
    TherapyResponse,
    Verdict,
)
from tests.conftest import AS_OF
from tests.rule_helpers import fired, only, order

START, STOP, CHANGE = OrderAction.START, OrderAction.STOP, OrderAction.CHANGE_DOSE


def days_ago(days: int) -> dt.date:
    return AS_OF - dt.timedelta(days=days)


NAPROXEN = order("naproxen", 500, 2)

# --- MULTIPLE_NEW_AGENTS -----------------------------------------------------------------------

MULTI = "MULTIPLE_NEW_AGENTS"


def test_two_new_back_pain_agents_at_once(check) -> None:
    result = check(
        order("naproxen", 500, 2, action=START),
        order("cyclobenzaprine", 5, 3, as_needed=True, action=START, planned_days=14),
    )
    finding = only(result, MULTI)
    assert finding.severity is Severity.WARNING
    assert finding.drugs == ("cyclobenzaprine", "naproxen")
    assert "2" in finding.message
    assert "naproxen" in finding.message and "cyclobenzaprine" in finding.message
    assert finding.recommendation
    assert finding.guideline_section == "Guideline: Combination therapy"
    assert finding.ncpdp_reason_code == "SR"


def test_one_new_agent_added_to_a_continued_one_is_fine(check) -> None:
    result = check(NAPROXEN, order("duloxetine", 30, 1, action=START))
    assert not fired(result, MULTI)


def test_scheduled_and_prn_of_one_new_ingredient_are_one_agent(check) -> None:
    result = check(
        order("ibuprofen", 400, 3, action=START),
        order("ibuprofen", 400, 1, as_needed=True, action=START),
    )
    assert not fired(result, MULTI)


def test_new_order_for_another_indication_is_not_a_back_pain_agent(check) -> None:
    result = check(
        order("naproxen", 500, 2, action=START),
        order("sertraline", 50, 1, action=START, indication="depression"),
    )
    assert not fired(result, MULTI)


def test_rewriting_a_current_drug_as_stop_plus_start_is_not_a_new_agent(check) -> None:
    result = check(
        order("duloxetine", 30, 1, action=STOP),
        order("duloxetine", 60, 1, action=START),
        order("tizanidine", 2, 3, as_needed=True, action=START, planned_days=14),
    )
    assert not fired(result, MULTI)


# --- ADD_BEFORE_STOPPING_INEFFECTIVE -----------------------------------------------------------

ADD = "ADD_BEFORE_STOPPING_INEFFECTIVE"


def test_new_agent_while_an_ineffective_one_continues(check) -> None:
    result = check(
        order("naproxen", 500, 2, response=TherapyResponse.NO_BENEFIT),
        order("duloxetine", 30, 1, action=START),
    )
    finding = only(result, ADD)
    assert finding.severity is Severity.WARNING
    assert finding.drugs == ("duloxetine", "naproxen")
    assert "duloxetine" in finding.message and "naproxen" in finding.message
    assert "naproxen" in finding.recommendation
    assert finding.guideline_section == "Guideline: Combination therapy"
    assert finding.ncpdp_reason_code == "SR"


def test_stopping_the_ineffective_agent_before_adding_is_fine(check) -> None:
    result = check(
        order("naproxen", 500, 2, response=TherapyResponse.NO_BENEFIT, action=STOP),
        order("duloxetine", 30, 1, action=START),
    )
    assert not fired(result, ADD)
    assert result.verdict is Verdict.ACCEPT


def test_adding_to_an_agent_that_helps_is_fine(check) -> None:
    result = check(
        order("naproxen", 500, 2, response=TherapyResponse.BENEFIT),
        order("duloxetine", 30, 1, action=START),
    )
    assert not fired(result, ADD)


# --- START_LOW ---------------------------------------------------------------------------------

LOW = "START_LOW"


def test_duloxetine_started_at_60_mg_is_above_the_30_mg_start(check) -> None:
    result = check(order("duloxetine", 60, 1, action=START))
    finding = only(result, LOW)
    assert finding.severity is Severity.WARNING
    assert finding.drugs == ("duloxetine",)
    assert "60 mg" in finding.message and "30 mg" in finding.message
    assert "30 mg" in finding.recommendation
    assert finding.guideline_section == "Guideline: Duloxetine"
    assert finding.ncpdp_reason_code == "HD"
    assert result.verdict is Verdict.REVIEW


def test_every_catalogue_starting_dose_is_enforced(check) -> None:
    for drug, dose, usual, section in [
        ("cyclobenzaprine", 10, 5, "Guideline: Skeletal muscle relaxants for short-term relief"),
        ("tizanidine", 4, 2, "Guideline: Skeletal muscle relaxants for short-term relief"),
        ("tramadol", 100, 50, "Guideline: Tramadol"),
        ("amitriptyline", 50, 25, "Guideline: Tricyclic antidepressants"),
        ("nortriptyline", 50, 25, "Guideline: Tricyclic antidepressants"),
        ("desipramine", 75, 50, "Guideline: Tricyclic antidepressants"),
    ]:
        finding = only(check(order(drug, dose, 1, action=START, planned_days=14)), LOW)
        assert finding.drugs == (drug,)
        assert f"{dose:g} mg" in finding.message and f" {usual:g} mg" in finding.message, drug
        assert f" {usual:g} mg" in finding.recommendation, drug
        assert finding.guideline_section == section, drug


def test_new_agent_at_its_starting_dose_is_fine(check) -> None:
    for drug, dose in [
        ("duloxetine", 30),
        ("cyclobenzaprine", 5),
        ("tizanidine", 2),
        ("tramadol", 50),
        ("amitriptyline", 25),
        ("nortriptyline", 25),
        ("desipramine", 50),
    ]:
        assert not fired(check(order(drug, dose, 1, action=START, planned_days=14)), LOW), drug


TIZANIDINE_4_START = order("tizanidine", 4, 3, as_needed=True, action=START, planned_days=14)


@pytest.mark.parametrize(
    ("companion", "fires"),
    [
        (order("duloxetine", 60, 1), False),
        (NAPROXEN, False),
        (order("duloxetine", 60, 1, indication="depression"), False),
        (order("aspirin", 650, 4), False),  # analgesic-dose aspirin is an NSAID
        (order("diclofenac", 4, 4, route=Route.TOPICAL), True),  # not a systemic NSAID
        (order("aspirin", 81, 1), True),  # antiplatelet aspirin is not an NSAID
        (order("duloxetine", 30, 1, action=STOP), True),  # stopped: not in the regimen
    ],
)
def test_tizanidine_4_mg_start_is_accepted_only_with_duloxetine_or_an_nsaid(
    check, companion: MedicationOrder, fires: bool
) -> None:
    assert fired(check(companion, TIZANIDINE_4_START), LOW) is fires


def test_tizanidine_above_the_combined_start_fires_against_4_mg(check) -> None:
    result = check(NAPROXEN, order("tizanidine", 6, 3, action=START, planned_days=14))
    finding = only(result, LOW)
    assert "6 mg" in finding.message and " 4 mg" in finding.message


def test_tramadol_start_no_more_often_than_every_6_hours(check) -> None:
    q6h = check(order("tramadol", 50, 4, as_needed=True, action=START))
    assert not fired(q6h, LOW)
    finding = only(check(order("tramadol", 50, 6, as_needed=True, action=START)), LOW)
    assert finding.drugs == ("tramadol",)
    assert "6 times" in finding.message
    assert "6 h" in finding.message


def test_continued_or_other_indication_orders_are_not_judged_for_start_dose(check) -> None:
    assert not fired(check(order("duloxetine", 60, 1)), LOW)
    assert not fired(check(order("duloxetine", 60, 1, action=START, indication="depression")), LOW)
    assert not fired(check(order("amitriptyline", 50, 1, action=START, indication="insomnia")), LOW)


def test_stop_and_restart_of_a_current_drug_is_not_a_new_start(check) -> None:
    result = check(
        order("duloxetine", 30, 1, action=STOP), order("duloxetine", 60, 1, action=START)
    )
    assert not fired(result, LOW)


def test_tramadol_conversion_to_extended_release_is_not_a_new_start(check) -> None:
    result = check(
        order("tramadol", 50, 4, action=STOP),
        order("tramadol", 200, 1, extended_release=True, action=START),
    )
    assert not fired(result, LOW)


# --- TITRATION_INTERVAL ------------------------------------------------------------------------

TITRATE = "TITRATION_INTERVAL"


def duloxetine_raise(days: int, **kwargs) -> MedicationOrder:  # type: ignore[no-untyped-def]
    kwargs.setdefault("previous_dose_mg", 30)
    return order("duloxetine", 60, 1, action=CHANGE, started_on=days_ago(days), **kwargs)


def test_duloxetine_raised_on_day_6_is_too_soon(check) -> None:
    finding = only(check(duloxetine_raise(6)), TITRATE)
    assert finding.severity is Severity.WARNING
    assert finding.drugs == ("duloxetine",)
    assert "30 mg" in finding.message and "60 mg" in finding.message
    assert "6 days" in finding.message and "7 days" in finding.message
    assert "30 mg" in finding.recommendation
    assert finding.guideline_section == "Guideline: Duloxetine"
    assert finding.ncpdp_reason_code == "SR"


def test_duloxetine_raised_on_day_7_is_fine(check) -> None:
    result = check(duloxetine_raise(7))
    assert not fired(result, TITRATE)
    assert result.verdict is Verdict.ACCEPT


def test_without_previous_dose_the_starting_dose_is_assumed(check) -> None:
    finding = only(check(duloxetine_raise(3, previous_dose_mg=0)), TITRATE)
    assert "30 mg" in finding.message and "3 days" in finding.message


def test_lowered_undated_or_other_indication_changes_are_not_judged(check) -> None:
    lowered = order("duloxetine", 30, 1, action=CHANGE, started_on=days_ago(3), previous_dose_mg=60)
    undated = order("duloxetine", 60, 1, action=CHANGE, previous_dose_mg=30)
    depression = duloxetine_raise(3, indication="depression")
    for raised in (lowered, undated, depression):
        assert not fired(check(raised), TITRATE), raised


# --- DOSING_SCHEDULE ---------------------------------------------------------------------------

SCHEDULE = "DOSING_SCHEDULE"


@pytest.mark.parametrize(
    ("bad", "drug", "text", "section"),
    [
        (
            order("duloxetine", 30, 1, as_needed=True),
            "duloxetine",
            "as needed",
            "Guideline: Duloxetine",
        ),
        (
            order("amitriptyline", 10, 2),
            "amitriptyline",
            "2 times",
            "Guideline: Tricyclic antidepressants",
        ),
        (
            order("tramadol", 100, 1, as_needed=True, extended_release=True),
            "tramadol",
            "extended-release",
            "Guideline: Tramadol",
        ),
    ],
)
def test_schedule_against_the_drug_pattern(
    check, bad: MedicationOrder, drug: str, text: str, section: str
) -> None:
    finding = only(check(bad), SCHEDULE)
    assert finding.severity is Severity.WARNING
    assert finding.drugs == (drug,)
    assert text in finding.message.lower()
    assert finding.recommendation
    assert finding.guideline_section == section
    assert finding.ncpdp_reason_code == "SR"


def test_schedule_that_fits_or_other_indication_is_not_flagged(check) -> None:
    for good in [
        order("duloxetine", 30, 1),
        order("amitriptyline", 25, 1),
        order("tramadol", 50, 4, as_needed=True),
        order("tramadol", 100, 1, extended_release=True),
        order("amitriptyline", 10, 2, indication="depression"),
        order("duloxetine", 30, 1, as_needed=True, indication="depression"),
    ]:
        assert not fired(check(good), SCHEDULE), good


# --- TRAMADOL_EXTENDED_RELEASE_START -----------------------------------------------------------

ER_START = "TRAMADOL_EXTENDED_RELEASE_START"


def test_extended_release_tramadol_started_without_short_acting(check) -> None:
    result = check(order("ConZip", 100, 1, extended_release=True, action=START))
    finding = only(result, ER_START)
    assert finding.severity is Severity.WARNING
    assert finding.drugs == ("tramadol",)
    assert "extended-release tramadol" in finding.message.lower()
    assert "short-acting" in finding.recommendation
    assert finding.guideline_section == "Guideline: Tramadol"
    assert finding.ncpdp_reason_code == "SF"


def test_converting_from_short_acting_tramadol_is_fine(check) -> None:
    for short_action in (OrderAction.CONTINUE, STOP):
        result = check(
            order("tramadol", 50, 2, action=short_action),
            order("tramadol", 100, 1, extended_release=True, action=START),
        )
        assert not fired(result, ER_START), short_action


def test_continued_extended_release_tramadol_is_not_a_start(check) -> None:
    assert not fired(check(order("tramadol", 100, 1, extended_release=True)), ER_START)
