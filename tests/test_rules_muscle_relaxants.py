"""Skeletal muscle relaxants: MUSCLE_RELAXANT_DURATION and NONPREFERRED_MUSCLE_RELAXANT."""

from __future__ import annotations

import datetime as dt

import pytest

from regimenguard.regimen.model import (
    MedicationOrder,
    OrderAction,
    Patient,
    Severity,
    TherapyResponse,
    Verdict,
)
from tests.conftest import AS_OF
from tests.rule_helpers import fired, only

DURATION = "MUSCLE_RELAXANT_DURATION"
NONPREFERRED = "NONPREFERRED_MUSCLE_RELAXANT"
REFRACTORY = Patient(age_years=50, refractory_symptoms=True)


def relaxant(drug: str = "cyclobenzaprine", dose: float = 5, **kwargs) -> MedicationOrder:  # type: ignore[no-untyped-def]
    kwargs.setdefault("doses_per_day", 3)
    return MedicationOrder(drug, dose, **kwargs)


def since(days: int) -> dt.date:
    return AS_OF - dt.timedelta(days=days)


# --- MUSCLE_RELAXANT_DURATION ------------------------------------------------------------------


def test_a_planned_course_counts_for_a_continued_order_too(check) -> None:
    # "continue baclofen 10 mg tid for 6 weeks": the planned course, not only days so far
    result = check(relaxant("baclofen", 10, planned_days=42))
    finding = only(result, DURATION)
    assert finding.severity is Severity.WARNING
    assert "42" in finding.message
    assert result.verdict is Verdict.REVIEW


def test_a_planned_course_from_a_known_start_counts_from_that_start(check) -> None:
    # started 10 days ago, planned for 20 days in all: within 28 days, quiet
    result = check(relaxant(started_on=since(10), planned_days=20))
    assert not fired(result, DURATION)


def test_course_of_29_days_exceeds_28(check) -> None:
    result = check(relaxant(started_on=since(29)))
    finding = only(result, DURATION)
    assert finding.severity is Severity.WARNING
    assert finding.drugs == ("cyclobenzaprine",)
    assert "29 days" in finding.message and "28 days" in finding.message
    assert "by day 28" in finding.recommendation
    assert "Skeletal muscle relaxants for short-term relief" in finding.guideline_section
    assert finding.ncpdp_reason_code == "MX"
    assert result.verdict is Verdict.REVIEW


def test_course_of_exactly_28_days_is_within_the_limit(check) -> None:
    result = check(relaxant(started_on=since(28)))
    assert not fired(result, DURATION)
    assert result.verdict is Verdict.ACCEPT


def test_new_order_is_judged_by_planned_days(check) -> None:
    assert not fired(check(relaxant(action=OrderAction.START, planned_days=28)), DURATION)
    finding = only(check(relaxant(action=OrderAction.START, planned_days=29)), DURATION)
    assert finding.severity is Severity.WARNING
    assert "29 days" in finding.message and "28 days" in finding.message


def test_long_term_use_meeting_the_criteria_is_info(check) -> None:
    result = check(
        relaxant("tizanidine", 2, started_on=since(90), response=TherapyResponse.BENEFIT),
        patient=REFRACTORY,
    )
    finding = only(result, DURATION)
    assert finding.severity is Severity.INFO
    assert finding.drugs == ("tizanidine",)
    assert "90 days" in finding.message and "28 days" in finding.message
    assert "Long-term use of skeletal muscle relaxants" in finding.guideline_section
    assert result.verdict is Verdict.ACCEPT


def test_long_term_use_without_all_criteria_stays_a_warning(check) -> None:
    for response, patient in [
        (TherapyResponse.BENEFIT, Patient(age_years=50)),  # not refractory
        (TherapyResponse.NOT_TOLERATED, REFRACTORY),
        (TherapyResponse.UNASSESSED, REFRACTORY),
    ]:
        result = check(relaxant(started_on=since(60), response=response), patient=patient)
        assert only(result, DURATION).severity is Severity.WARNING, response


def test_carisoprodol_limit_is_21_days(check) -> None:
    assert not fired(check(relaxant("carisoprodol", 350, started_on=since(21))), DURATION)
    finding = only(check(relaxant("carisoprodol", 350, started_on=since(22))), DURATION)
    assert finding.severity is Severity.WARNING
    assert finding.drugs == ("carisoprodol",)
    assert "22 days" in finding.message and "21 days" in finding.message
    assert finding.guideline_section == "FDA label: carisoprodol"


def test_course_not_judged_for_other_indication_stopped_or_unknown_length(check) -> None:
    for order in [
        relaxant("baclofen", 10, started_on=since(200), indication="spasticity"),
        relaxant(started_on=since(60), action=OrderAction.STOP),
        relaxant(),  # start date unknown
        relaxant(action=OrderAction.START),  # open-ended new order
    ]:
        assert not fired(check(order), DURATION), order


# --- NONPREFERRED_MUSCLE_RELAXANT --------------------------------------------------------------


@pytest.mark.parametrize(
    ("drug", "ingredient"),
    [
        ("methocarbamol", "methocarbamol"),
        ("baclofen", "baclofen"),
        ("Skelaxin", "metaxalone"),
    ],
)
def test_nonpreferred_relaxant_is_info(check, drug: str, ingredient: str) -> None:
    result = check(relaxant(drug, 10))
    finding = only(result, NONPREFERRED)
    assert finding.severity is Severity.INFO
    assert finding.drugs == (ingredient,)
    assert ingredient in finding.message.lower()
    assert "cyclobenzaprine" in finding.recommendation and "tizanidine" in finding.recommendation
    assert finding.guideline_section == "Guideline: Skeletal muscle relaxants for short-term relief"
    assert finding.ncpdp_reason_code == "PS"
    assert result.verdict is Verdict.ACCEPT


def test_carisoprodol_is_a_warning_for_misuse_potential(check) -> None:
    result = check(relaxant("Soma", 350))
    finding = only(result, NONPREFERRED)
    assert finding.severity is Severity.WARNING
    assert finding.drugs == ("carisoprodol",)
    assert "misuse" in finding.message
    assert result.verdict is Verdict.REVIEW


def test_preferred_or_not_back_pain_relaxant_is_not_flagged(check) -> None:
    for order in [
        relaxant("cyclobenzaprine", 5),
        relaxant("tizanidine", 2),
        relaxant("baclofen", 10, indication="spasticity"),
    ]:
        assert not fired(check(order), NONPREFERRED), order.drug
