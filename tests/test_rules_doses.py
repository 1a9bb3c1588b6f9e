"""DOSE_ABOVE_MAX (label maxima) and DOSE_ABOVE_GUIDELINE_RANGE (the guideline's ranges)."""

from __future__ import annotations

import re

import pytest

from regimenguard.regimen.model import (
    MedicationOrder,
    Patient,
    Route,
    Severity,
    Verdict,
)
from tests.rule_helpers import fired, only, order

MAX = "DOSE_ABOVE_MAX"
RANGE = "DOSE_ABOVE_GUIDELINE_RANGE"


def mentions(message: str, amount: str) -> bool:
    """``amount`` ("8 mg") appears as a whole number in the message (not inside "28 mg")."""
    return re.search(rf"(?<![\d.,]){re.escape(amount)}", message) is not None


# --- DOSE_ABOVE_MAX ----------------------------------------------------------------------------


def test_tramadol_400_mg_a_day_is_within_the_label_at_age_60(check) -> None:
    assert not fired(check(order("tramadol", 100, 4), patient=Patient(age_years=60)), MAX)


def test_tramadol_400_mg_a_day_exceeds_the_300_mg_limit_at_age_80(check) -> None:
    result = check(order("tramadol", 100, 4), patient=Patient(age_years=80))
    finding = only(result, MAX)
    assert finding.severity is Severity.CRITICAL
    assert finding.drugs == ("tramadol",)
    assert "400 mg" in finding.message
    assert "300 mg" in finding.message
    assert "300 mg" in finding.recommendation
    assert "FDA label (Ultram)" in finding.guideline_section
    assert finding.ncpdp_reason_code == "HD"
    assert result.verdict is Verdict.REJECT


def test_tramadol_age_limit_applies_over_75(check) -> None:
    assert not fired(check(order("tramadol", 100, 4), patient=Patient(age_years=75)), MAX)
    assert fired(check(order("tramadol", 100, 4), patient=Patient(age_years=76)), MAX)


def test_extended_release_tramadol_400_mg_exceeds_300(check) -> None:
    finding = only(check(order("tramadol", 400, 1, extended_release=True)), MAX)
    assert "400 mg" in finding.message
    assert "300 mg" in finding.message
    assert "extended-release" in finding.message


def test_extended_release_tramadol_300_mg_is_within_the_label(check) -> None:
    assert not fired(check(order("tramadol", 300, 1, extended_release=True)), MAX)


def test_tramadol_150_mg_a_dose_exceeds_100(check) -> None:
    finding = only(check(order("tramadol", 150, 2)), MAX)
    assert "150 mg" in finding.message
    assert "100 mg" in finding.message


def test_acetaminophen_per_dose_boundary(check) -> None:
    assert not fired(check(order("acetaminophen", 1000, 2)), MAX)
    finding = only(check(order("acetaminophen", 1001, 2)), MAX)
    assert "1,001 mg" in finding.message and "1,000 mg" in finding.message


def test_extended_release_acetaminophen_1300_mg_is_allowed_but_not_immediate_release(
    check,
) -> None:
    assert not fired(check(order("acetaminophen", 1300, 2, extended_release=True)), MAX)
    finding = only(check(order("acetaminophen", 1300, 2)), MAX)
    assert "1,300 mg" in finding.message
    assert "1,000 mg" in finding.message


def test_four_norco_tablets_at_once_exceed_the_acetaminophen_dose_maximum(check) -> None:
    finding = only(check(MedicationOrder("Norco 5/325", units_per_dose=4, doses_per_day=1)), MAX)
    assert finding.drugs == ("acetaminophen",)
    assert "1,300 mg" in finding.message and "1,000 mg" in finding.message


@pytest.mark.parametrize(
    ("drug", "ok", "over", "total", "limit"),
    [
        ("cyclobenzaprine", (10, 3), (10, 4), "40 mg", "30 mg"),
        ("naproxen", (500, 3), (550, 3), "1,650 mg", "1,500 mg"),
        ("meloxicam", (15, 1), (7.5, 3), "22.5 mg", "15 mg"),
        ("ketorolac", (10, 4), (10, 5), "50 mg", "40 mg"),
    ],
)
def test_daily_label_maximum_boundary(
    check,
    drug: str,
    ok: tuple[float, float],
    over: tuple[float, float],
    total: str,
    limit: str,
) -> None:
    assert not fired(check(order(drug, *ok)), MAX)
    finding = only(check(order(drug, *over)), MAX)
    assert finding.drugs == (drug,)
    assert mentions(finding.message, total) and mentions(finding.message, limit)


def test_scheduled_and_prn_ibuprofen_add_up_against_the_daily_maximum(check) -> None:
    at_limit = check(order("ibuprofen", 800, 3), order("ibuprofen", 400, 2, as_needed=True))
    assert not fired(at_limit, MAX)
    over = check(order("ibuprofen", 800, 3), order("ibuprofen", 400, 3, as_needed=True))
    finding = only(over, MAX)
    assert "3,600 mg" in finding.message
    assert "3,200 mg" in finding.message


def test_topical_diclofenac_is_not_held_to_the_oral_maximum(check) -> None:
    result = check(order("diclofenac", 400, 4, route=Route.TOPICAL))
    assert not fired(result, MAX)


def test_order_for_another_indication_is_still_held_to_the_label(check) -> None:
    finding = only(check(order("duloxetine", 150, 1, indication="depression")), MAX)
    assert "150 mg" in finding.message and "120 mg" in finding.message


def test_above_label_maximum_is_not_also_reported_as_above_guideline_range(check) -> None:
    result = check(order("duloxetine", 121, 1))
    assert only(result, MAX).severity is Severity.CRITICAL
    assert not fired(result, RANGE)


# --- DOSE_ABOVE_GUIDELINE_RANGE ----------------------------------------------------------------


def test_tizanidine_12_mg_tid_is_above_the_guideline_range(check) -> None:
    result = check(order("tizanidine", 12, 3))
    finding = only(result, RANGE)
    assert finding.severity is Severity.WARNING
    assert finding.drugs == ("tizanidine",)
    for amount in ("12 mg", "8 mg", "36 mg", "24 mg"):
        assert mentions(finding.message, amount), amount
    assert finding.recommendation
    assert finding.guideline_section == "Guideline: Skeletal muscle relaxants for short-term relief"
    assert finding.ncpdp_reason_code == "HD"
    assert not fired(result, MAX)
    assert result.verdict is Verdict.REVIEW


def test_tizanidine_8_mg_tid_is_at_the_top_of_the_range(check) -> None:
    assert not fired(check(order("tizanidine", 8, 3)), RANGE)


def test_tizanidine_8_mg_four_times_a_day_is_above_the_daily_range(check) -> None:
    finding = only(check(order("tizanidine", 8, 4)), RANGE)
    assert mentions(finding.message, "32 mg") and mentions(finding.message, "24 mg")
    assert not mentions(finding.message, "8 mg")  # the per-dose amount is within range


def test_tizanidine_10_mg_twice_a_day_is_above_the_per_dose_range_only(check) -> None:
    finding = only(check(order("tizanidine", 10, 2)), RANGE)
    assert mentions(finding.message, "10 mg") and mentions(finding.message, "8 mg")
    assert not mentions(finding.message, "20 mg")  # the daily total is within range


def test_the_daily_range_counts_every_back_pain_order_of_the_ingredient(check) -> None:
    at_the_top = check(order("tizanidine", 4, 3), order("tizanidine", 4, 3, as_needed=True))
    assert not fired(at_the_top, RANGE)  # 12 + 12 mg/day: the 24 mg/day top of the range
    above = only(
        check(order("tizanidine", 4, 3), order("tizanidine", 4.5, 3, as_needed=True)), RANGE
    )
    assert mentions(above.message, "25.5 mg") and mentions(above.message, "24 mg")


def test_an_order_for_another_indication_does_not_count_toward_the_range(check) -> None:
    # 60 mg/day for back pain (the top of the range) and 60 mg/day for depression
    result = check(order("duloxetine", 60, 1), order("duloxetine", 60, 1, indication="depression"))
    assert not fired(result, RANGE)


def test_daily_guideline_range_boundary(check) -> None:
    cases = [("duloxetine", 60, 90), ("amitriptyline", 75, 100), ("nortriptyline", 75, 100)]
    cases.append(("desipramine", 150, 200))
    for drug, top, high in cases:
        assert not fired(check(order(drug, top, 1)), RANGE), drug
        finding = only(check(order(drug, high, 1)), RANGE)
        assert finding.severity is Severity.WARNING, drug
        assert finding.drugs == (drug,)
        assert mentions(finding.message, f"{high} mg"), drug
        assert mentions(finding.message, f"{top} mg"), drug


def test_duloxetine_60_mg_twice_daily_is_a_guideline_warning_not_a_label_violation(check) -> None:
    result = check(order("duloxetine", 60, 2))
    assert mentions(only(result, RANGE).message, "120 mg")
    assert not fired(result, MAX)
    assert result.verdict is Verdict.REVIEW


def test_higher_dose_for_another_indication_is_not_judged_by_the_guideline_range(check) -> None:
    for drug, dose, per_day, indication in [
        ("duloxetine", 120, 1, "depression"),
        ("tizanidine", 12, 3, "spasticity"),
    ]:
        result = check(order(drug, dose, per_day, indication=indication))
        assert not fired(result, RANGE), drug
        assert result.verdict is Verdict.ACCEPT, drug
