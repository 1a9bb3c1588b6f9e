"""Guideline-endorsed regimens must come back ACCEPT with nothing above INFO.

An over-alerting checker is a broken checker: every regimen listed under "Guideline-endorsed
regimens" in clinical-rules.md, and mild variants of them, is checked here.
"""

from __future__ import annotations

import datetime as dt

import pytest

from regimenguard.regimen.model import (
    CheckResult,
    MedicationOrder,
    OrderAction,
    Patient,
    Route,
    Severity,
    TherapyResponse,
    Verdict,
)
from tests.conftest import AS_OF
from tests.rule_helpers import order

START, CHANGE = OrderAction.START, OrderAction.CHANGE_DOSE
ADULT = Patient(age_years=45, pain_duration_weeks=20)


def days_ago(days: int) -> dt.date:
    return AS_OF - dt.timedelta(days=days)


def assert_endorsed(result: CheckResult) -> None:
    above_info = [
        (f.rule_id, f.severity.name, f.drugs, f.message)
        for f in result.findings
        if f.severity > Severity.INFO
    ]
    assert not above_info
    assert result.verdict is Verdict.ACCEPT


NAPROXEN = order("naproxen", 500, 2, started_on=days_ago(20))

# clinical-rules.md, "Guideline-endorsed regimens", in order
ENDORSED = {
    "nsaid-alone": (order("naproxen", 500, 2),),
    "acetaminophen-650-q6h-prn": (order("acetaminophen", 650, 4, as_needed=True),),
    "nsaid-plus-duloxetine-start-30": (NAPROXEN, order("duloxetine", 30, 1, action=START)),
    "nsaid-plus-cyclobenzaprine-5-tid-prn-short-course": (
        NAPROXEN,
        order("cyclobenzaprine", 5, 3, as_needed=True, action=START, planned_days=14),
    ),
    "nsaid-plus-tizanidine-2-tid-prn": (
        NAPROXEN,
        order("tizanidine", 2, 3, as_needed=True, action=START, planned_days=14),
    ),
    "nsaid-plus-tizanidine-4-tid-prn": (
        NAPROXEN,
        order("tizanidine", 4, 3, as_needed=True, action=START, planned_days=14),
    ),
    "duloxetine-60-plus-tizanidine-4-tid-prn": (
        order("duloxetine", 60, 1, started_on=days_ago(60)),
        order("tizanidine", 4, 3, as_needed=True, action=START, planned_days=14),
    ),
    "duloxetine-30-to-60-on-day-7": (
        order("duloxetine", 60, 1, action=CHANGE, started_on=days_ago(7), previous_dose_mg=30),
    ),
}


# The one thing a textbook regimen may be told (issue 10): an NSAID with an SNRI raises the
# risk of GI bleeding, an INFO while there is no other GI risk (the guideline endorses the pair).
EXPECTED_INFO = {"nsaid-plus-duloxetine-start-30": {("NSAID_RISK", ("duloxetine", "naproxen"))}}


@pytest.mark.parametrize("name", list(ENDORSED))
def test_guideline_endorsed_regimen_is_accepted(check, name: str) -> None:
    result = check(*ENDORSED[name], patient=ADULT)
    assert_endorsed(result)
    # nothing else at all to say for a textbook regimen
    assert {(f.rule_id, f.drugs) for f in result.findings} == EXPECTED_INFO.get(name, set())
    assert all(f.severity is Severity.INFO for f in result.findings)


def test_nsaid_with_an_snri_alone_is_an_info_on_bleeding_that_says_what_to_watch(check) -> None:
    result = check(NAPROXEN, order("duloxetine", 60, 1), patient=ADULT)
    (risk,) = result.findings
    assert (risk.rule_id, risk.severity, risk.ncpdp_reason_code) == (
        "NSAID_RISK",
        Severity.INFO,
        "DD",
    )
    assert "bleed" in risk.message.lower() and "proton pump inhibitor" in risk.message.lower()
    assert result.verdict is Verdict.ACCEPT


def test_muscle_relaxant_beyond_4_weeks_meeting_long_term_criteria_is_info_only(check) -> None:
    result = check(
        NAPROXEN,
        order("cyclobenzaprine", 5, 3, started_on=days_ago(90), response=TherapyResponse.BENEFIT),
        patient=Patient(age_years=45, refractory_symptoms=True, pain_duration_weeks=30),
    )
    assert_endorsed(result)
    assert [(f.rule_id, f.severity) for f in result.findings] == [
        ("MUSCLE_RELAXANT_DURATION", Severity.INFO)
    ]


VARIANTS = {
    "cyclobenzaprine-10-tid-prn-with-nsaid-day-21": (
        NAPROXEN,
        order("cyclobenzaprine", 10, 3, as_needed=True, started_on=days_ago(21)),
    ),
    "cyclobenzaprine-exactly-28-days": (
        NAPROXEN,
        order("Flexeril", 5, 3, as_needed=True, started_on=days_ago(28)),
    ),
    "ibuprofen-scheduled-plus-prn": (
        order("Advil", 400, 3),
        order("ibuprofen", 400, 1, as_needed=True),
    ),
    "acetaminophen-1000-tid-at-the-limit": (order("Tylenol", 1000, 3),),
    "duloxetine-raised-after-a-month": (
        order("Cymbalta", 60, 1, action=CHANGE, started_on=days_ago(30), previous_dose_mg=30),
    ),
    "tizanidine-8-tid-top-of-range": (
        NAPROXEN,
        order("Zanaflex", 8, 3, as_needed=True, started_on=days_ago(10)),
    ),
    "topical-diclofenac-with-acetaminophen": (
        order("Voltaren", 4, 4, route=Route.TOPICAL),
        order("acetaminophen", 650, 4, as_needed=True),
    ),
    "nsaid-with-ssri-for-depression": (
        NAPROXEN,
        order("sertraline", 100, 1, indication="depression"),
    ),
    "tramadol-start-50-q6h-prn-with-nsaid": (
        NAPROXEN,
        order("tramadol", 50, 4, as_needed=True, action=START),
    ),
    "switch-nsaid-with-stop-order": (
        order("ibuprofen", 400, 3, action=OrderAction.STOP, response=TherapyResponse.NO_BENEFIT),
        order("naproxen", 500, 2, action=START),
    ),
    "amitriptyline-25-at-bedtime-start": (order("amitriptyline", 25, 1, action=START),),
}


@pytest.mark.parametrize("orders", list(VARIANTS.values()), ids=list(VARIANTS))
def test_mild_variant_of_an_endorsed_regimen_is_accepted(
    check, orders: tuple[MedicationOrder, ...]
) -> None:
    assert_endorsed(check(*orders, patient=ADULT))


def test_nsaid_alone_in_an_older_adult_gets_only_info(check) -> None:
    result = check(order("naproxen", 500, 2), patient=Patient(age_years=70))
    assert_endorsed(result)
    assert [(f.rule_id, f.severity) for f in result.findings] == [("NSAID_RISK", Severity.INFO)]
