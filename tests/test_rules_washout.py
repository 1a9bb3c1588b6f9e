"""Washout (issue 11 point 1): a drug stopped within its labelled window still interacts."""

from __future__ import annotations

import datetime as dt

from regimenguard.regimen.model import MedicationOrder, OrderAction, Patient, Severity, Verdict
from tests.conftest import AS_OF
from tests.rule_helpers import fired, only, order

START = OrderAction.START
STOP = OrderAction.STOP
CONTRAINDICATED = "CONTRAINDICATED_COMBINATION"
ADULT = Patient(age_years=45)


def stopped(drug: str, days_ago: int | None) -> MedicationOrder:
    on = None if days_ago is None else AS_OF - dt.timedelta(days=days_ago)
    return MedicationOrder(drug, action=STOP, stopped_on=on)


DULOXETINE_STARTED = order("duloxetine", 30, 1, action=START)


def test_maoi_stopped_today_with_duloxetine_started_is_critical(check) -> None:
    result = check(stopped("phenelzine", 0), DULOXETINE_STARTED, patient=ADULT)
    finding = only(result, CONTRAINDICATED)
    assert finding.severity is Severity.CRITICAL
    assert finding.drugs == ("duloxetine", "phenelzine")
    assert "stopped today" in finding.message and "14-day washout" in finding.message
    assert "2026-12-07" in finding.recommendation  # 14 days after the stop
    assert "Nardil" in finding.guideline_section
    assert result.verdict is Verdict.REJECT
    fired_edges = [i for i in result.summary.interactions if i.rule_id == CONTRAINDICATED]
    assert fired_edges and fired_edges[0].drugs == ("duloxetine", "phenelzine")


def test_stop_date_defaults_to_as_of(check) -> None:
    result = check(stopped("phenelzine", None), DULOXETINE_STARTED, patient=ADULT)
    assert "stopped today" in only(result, CONTRAINDICATED).message


def test_maoi_stopped_13_days_ago_still_counts_and_says_how_long_ago(check) -> None:
    finding = only(check(stopped("Nardil", 13), DULOXETINE_STARTED, patient=ADULT), CONTRAINDICATED)
    assert "stopped 13 days ago (2026-11-10)" in finding.message


def test_maoi_stopped_15_days_ago_is_past_its_window(check) -> None:
    result = check(stopped("phenelzine", 15), DULOXETINE_STARTED, patient=ADULT)
    assert not fired(result, CONTRAINDICATED)
    assert result.verdict is Verdict.ACCEPT


def test_maoi_stopped_exactly_14_days_ago_has_passed_its_window(check) -> None:
    assert not fired(check(stopped("phenelzine", 14), DULOXETINE_STARTED), CONTRAINDICATED)


def test_a_stop_still_ahead_counts(check) -> None:
    finding = only(check(stopped("phenelzine", -3), DULOXETINE_STARTED), CONTRAINDICATED)
    assert "to be stopped on 2026-11-26" in finding.message
    assert "2026-12-10" in finding.recommendation


def test_fluoxetine_stopped_four_weeks_ago_before_an_maoi_is_critical(check) -> None:
    result = check(stopped("Prozac", 28), order("phenelzine", 15, 3, action=START))
    finding = only(result, CONTRAINDICATED)
    assert finding.severity is Severity.CRITICAL
    assert "35-day washout" in finding.message
    assert "Prozac" in finding.guideline_section


def test_fluoxetine_stopped_six_weeks_ago_is_past_its_window(check) -> None:
    assert not fired(
        check(stopped("fluoxetine", 42), order("phenelzine", 15, 3, action=START)), CONTRAINDICATED
    )


def test_sertraline_stopped_ten_days_ago_before_an_maoi_uses_the_ssri_window(check) -> None:
    finding = only(
        check(stopped("sertraline", 10), order("phenelzine", 15, 3, action=START)), CONTRAINDICATED
    )
    assert "14-day washout" in finding.message


def test_duloxetine_stopped_six_days_ago_before_an_maoi_has_passed_its_5_day_window(check) -> None:
    assert not fired(
        check(stopped("duloxetine", 6), order("phenelzine", 15, 3, action=START)), CONTRAINDICATED
    )


def test_linezolid_window_is_24_hours_not_the_maoi_class_14_days(check) -> None:
    assert not fired(check(stopped("linezolid", 2), DULOXETINE_STARTED), CONTRAINDICATED)
    assert fired(check(stopped("linezolid", 0), DULOXETINE_STARTED), CONTRAINDICATED)


def test_a_stopped_drug_counts_only_for_interactions_with_a_washout(check) -> None:
    """A tramadol stop does not make a benzodiazepine start an opioid combination."""
    result = check(
        stopped("tramadol", 0), order("lorazepam", 1, 1, action=START, indication="anxiety")
    )
    assert not fired(result, "BENZODIAZEPINE_WITH_OPIOID")
    assert result.summary.serotonergic_agents == 0
    # and a stopped MAOI adds nothing to the serotonergic count or the MME
    result = check(stopped("phenelzine", 0), DULOXETINE_STARTED)
    assert result.summary.serotonergic_agents == 1


def test_a_drug_stopped_in_one_order_and_continued_in_another_is_simply_active(check) -> None:
    result = check(stopped("phenelzine", 0), order("phenelzine", 15, 3), DULOXETINE_STARTED)
    finding = only(result, CONTRAINDICATED)
    assert "washout" not in finding.message
