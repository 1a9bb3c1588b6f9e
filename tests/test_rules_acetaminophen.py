"""ACETAMINOPHEN_DAILY_MAX: acetaminophen from every order, combination products included."""

from __future__ import annotations

import pytest

from regimenguard.regimen.model import (
    IngredientDose,
    MedicationOrder,
    OrderAction,
    Patient,
    Severity,
    Verdict,
)
from tests.rule_helpers import fired, only

RULE = "ACETAMINOPHEN_DAILY_MAX"


def apap(dose: float, per_day: float, **kwargs) -> MedicationOrder:  # type: ignore[no-untyped-def]
    return MedicationOrder("acetaminophen", dose, doses_per_day=per_day, **kwargs)


def test_3900_mg_a_day_is_critical_with_total_and_limit_in_message(check) -> None:
    result = check(apap(650, 6, as_needed=True))
    finding = only(result, RULE)
    assert finding.severity is Severity.CRITICAL
    assert finding.drugs == ("acetaminophen",)
    assert "3,900 mg" in finding.message
    assert "3,000 mg" in finding.message
    assert "3,000 mg" in finding.recommendation
    assert finding.guideline_section == "Guideline: Nonopioid analgesics (Acetaminophen)"
    assert finding.ncpdp_reason_code == "HD"
    assert result.verdict is Verdict.REJECT


def test_exactly_3000_mg_a_day_is_within_the_adult_limit(check) -> None:
    result = check(apap(1000, 3))
    assert not fired(result, RULE)
    assert result.summary.acetaminophen_mg_per_day == 3000
    assert result.summary.acetaminophen_limit_mg_per_day == 3000
    assert result.verdict is Verdict.ACCEPT


def test_3001_mg_a_day_from_two_orders_fires(check) -> None:
    finding = only(check(apap(1000, 3), apap(1, 1)), RULE)
    assert "3,001 mg" in finding.message
    assert "3,000 mg" in finding.message


@pytest.mark.parametrize("age", [65, 80])
def test_older_adult_limit_is_2000_at_limit_passes_one_over_fires(check, age: int) -> None:
    patient = Patient(age_years=age)
    at_limit = check(apap(500, 4), patient=patient)
    assert not fired(at_limit, RULE)
    assert at_limit.summary.acetaminophen_limit_mg_per_day == 2000
    finding = only(check(apap(500, 4), apap(1, 1), patient=patient), RULE)
    assert finding.severity is Severity.CRITICAL
    assert "2,001 mg" in finding.message
    assert "2,000 mg" in finding.message
    assert "65" in finding.message  # the reason for the lower limit


def test_age_64_keeps_the_adult_limit(check) -> None:
    result = check(apap(650, 4), patient=Patient(age_years=64))
    assert not fired(result, RULE)
    assert result.summary.acetaminophen_limit_mg_per_day == 3000


@pytest.mark.parametrize(
    ("patient", "reason"),
    [
        (Patient(age_years=40, hepatic_impairment=True), "hepatic impairment"),
        (Patient(age_years=40, alcohol_use_disorder=True), "alcohol use disorder"),
    ],
)
def test_liver_risk_lowers_the_limit_to_2000(check, patient: Patient, reason: str) -> None:
    assert not fired(check(apap(500, 4), patient=patient), RULE)
    finding = only(check(apap(650, 4), patient=patient), RULE)
    assert "2,600 mg" in finding.message
    assert "2,000 mg" in finding.message
    assert reason in finding.message


def test_combination_product_and_plain_acetaminophen_add_up(check) -> None:
    result = check(
        MedicationOrder("Norco 10/325", units_per_dose=2, doses_per_day=4),
        MedicationOrder("Tylenol", 650, doses_per_day=3),
    )
    finding = only(result, RULE)
    assert "4,550 mg" in finding.message
    # both sources are named with their share
    assert "Norco 10/325" in finding.message and "2,600 mg" in finding.message
    assert "Tylenol" in finding.message and "1,950 mg" in finding.message
    assert result.summary.acetaminophen_mg_per_day == 4550


def test_norco_alone_2_tablets_qid_is_2600_mg_and_within_limit(check) -> None:
    result = check(MedicationOrder("Norco 10/325", units_per_dose=2, doses_per_day=4))
    assert not fired(result, RULE)
    assert result.summary.acetaminophen_mg_per_day == 2600


def test_every_combination_product_counts_its_acetaminophen(check) -> None:
    cases = [
        (MedicationOrder("Ultracet", units_per_dose=2, doses_per_day=5), 3250),
        (MedicationOrder("Tylenol with Codeine #3", units_per_dose=2, doses_per_day=6), 3600),
        (MedicationOrder("Percocet 10/325", units_per_dose=2, doses_per_day=5), 3250),
        (
            MedicationOrder(
                "hydrocodone/acetaminophen",
                ingredients=(
                    IngredientDose("hydrocodone", 10),
                    IngredientDose("acetaminophen", 650),
                ),
                doses_per_day=5,
            ),
            3250,
        ),
    ]
    for order, expected_mg in cases:
        result = check(order)
        assert result.summary.acetaminophen_mg_per_day == expected_mg, order.drug
        assert f"{expected_mg:,} mg" in only(result, RULE).message, order.drug


def test_names_and_codes_resolve_to_acetaminophen(check) -> None:
    for name in ("rxcui:161", "Tylenol", "APAP", "paracetamol", "ACETAMINOPHEN"):
        finding = only(check(MedicationOrder(name, 1000, doses_per_day=4)), RULE)
        assert finding.drugs == ("acetaminophen",), name
        assert "4,000 mg" in finding.message, name


def test_stopped_order_does_not_count(check) -> None:
    result = check(
        apap(1000, 4, action=OrderAction.STOP),
        apap(500, 4, action=OrderAction.START),
    )
    assert not fired(result, RULE)
    assert result.summary.acetaminophen_mg_per_day == 2000


def test_order_for_another_indication_still_counts(check) -> None:
    finding = only(check(apap(650, 4), apap(500, 2, indication="fever")), RULE)
    assert "3,600 mg" in finding.message
