"""Opioids: OPIOID_NOT_FIRST_LINE, OPIOID_DAILY_MME (CDC 2022), MISUSE_RISK and SEIZURE_RISK."""

from __future__ import annotations

import pytest

from regimenguard.regimen.model import (
    Acknowledgement,
    MedicationOrder,
    OrderAction,
    Patient,
    Route,
    Severity,
    Verdict,
)
from tests.rule_helpers import fired, only, order

START = OrderAction.START
SUD = Patient(age_years=40, substance_use_disorder=True)
SEIZURES = Patient(age_years=40, seizure_disorder=True)


TRAMADOL = order("tramadol", 50, 4, as_needed=True)

# --- OPIOID_NOT_FIRST_LINE ---------------------------------------------------------------------

FIRST_LINE = "OPIOID_NOT_FIRST_LINE"


def test_starting_oxycodone_for_back_pain_is_a_warning(check) -> None:
    result = check(order("oxycodone", 5, 4, as_needed=True, action=START))
    finding = only(result, FIRST_LINE)
    assert finding.severity is Severity.WARNING
    assert finding.drugs == ("oxycodone",)
    assert "oxycodone" in finding.message.lower()
    assert "Reserve opioids" in finding.recommendation
    assert finding.guideline_section == "Guideline: Restricted use of opioids"
    assert finding.ncpdp_reason_code == "SD"
    assert result.verdict is Verdict.REVIEW


def test_starting_an_opioid_with_refractory_symptoms_is_info(check) -> None:
    result = check(
        order("oxycodone", 5, 4, as_needed=True, action=START),
        patient=Patient(age_years=50, refractory_symptoms=True),
    )
    finding = only(result, FIRST_LINE)
    assert finding.severity is Severity.INFO
    assert finding.drugs == ("oxycodone",)
    assert result.verdict is Verdict.ACCEPT


def test_starting_a_combination_opioid_names_the_opioid(check) -> None:
    result = check(MedicationOrder("Percocet 5/325", doses_per_day=4, action=START))
    assert only(result, FIRST_LINE).drugs == ("oxycodone",)


def test_starting_tramadol_is_not_flagged(check) -> None:
    result = check(order("tramadol", 50, 4, as_needed=True, action=START))
    assert not fired(result, FIRST_LINE)
    assert result.verdict is Verdict.ACCEPT


def test_continuing_long_term_opioid_gets_info_to_lower_the_dose(check) -> None:
    result = check(order("morphine", 15, 2, extended_release=True))
    finding = only(result, FIRST_LINE)
    assert finding.severity is Severity.INFO
    assert finding.drugs == ("morphine",)
    assert "morphine-equivalent" in finding.recommendation
    assert result.verdict is Verdict.ACCEPT


def test_switching_to_the_extended_release_form_is_not_starting_an_opioid(check) -> None:
    result = check(
        order("oxycodone", 5, 4, action=OrderAction.STOP),
        order("OxyContin", 10, 2, extended_release=True, action=START),
    )
    assert only(result, FIRST_LINE).severity is Severity.INFO  # long-term opioid advice only


def test_opioid_started_for_another_indication_is_not_judged(check) -> None:
    result = check(order("oxycodone", 5, 4, action=START, indication="cancer pain"))
    assert not fired(result, FIRST_LINE)


# --- OPIOID_DAILY_MME --------------------------------------------------------------------------

MME = "OPIOID_DAILY_MME"


def test_50_mme_is_a_warning_with_the_total_in_the_message(check) -> None:
    result = check(order("morphine", 25, 2))
    finding = only(result, MME)
    assert finding.severity is Severity.WARNING
    assert finding.drugs == ("morphine",)
    assert "50 MME" in finding.message
    assert "naloxone" in finding.recommendation
    assert finding.guideline_section == "CDC opioid guideline"
    assert finding.ncpdp_reason_code == "HD"


@pytest.mark.parametrize(
    ("morphine_mg", "severity"),
    [(49.9, None), (50, Severity.WARNING), (89.9, Severity.WARNING), (90, Severity.CRITICAL)],
)
def test_mme_thresholds(check, morphine_mg: float, severity: Severity | None) -> None:
    result = check(order("morphine", morphine_mg, 1))
    assert result.summary.morphine_mg_equivalents_per_day == pytest.approx(morphine_mg)
    if severity is None:
        assert not fired(result, MME)
    else:
        finding = only(result, MME)
        assert finding.severity is severity
        assert f"{morphine_mg:g} MME" in finding.message


def test_90_mme_is_critical_and_recommends_tapering(check) -> None:
    result = check(order("oxycodone", 15, 4))
    finding = only(result, MME)
    assert finding.severity is Severity.CRITICAL
    assert "90 MME" in finding.message
    assert "taper" in finding.recommendation.lower()
    assert result.verdict is Verdict.REJECT


def test_cdc_2022_conversion(check) -> None:
    cases = [
        ((MedicationOrder("Norco 10/325", units_per_dose=2, doses_per_day=4),), 80),
        ((order("hydromorphone", 4, 4),), 80),  # CDC 2022 factor 5, not the 2016 factor 4
        ((order("tramadol", 100, 4),), 80),  # CDC 2022 factor 0.2, not 0.1
        ((order("methadone", 5, 3),), 70.5),
        ((MedicationOrder("fentanyl", route=Route.TRANSDERMAL, rate_mcg_per_hour=25),), 60),
        (
            (
                MedicationOrder("fentanyl", route=Route.TRANSDERMAL, rate_mcg_per_hour=12),
                order("oxycodone", 5, 4),
            ),
            58.8,  # summed across opioids: 28.8 + 30
        ),
    ]
    for orders, mme in cases:
        result = check(*orders)
        assert result.summary.morphine_mg_equivalents_per_day == pytest.approx(mme), orders
        assert f"{mme:g} MME" in only(result, MME).message, orders


def test_buprenorphine_is_not_counted_and_is_named(check) -> None:
    result = check(
        MedicationOrder("Butrans", route=Route.TRANSDERMAL, rate_mcg_per_hour=10),
        order("oxycodone", 10, 4),
    )
    finding = only(result, MME)
    assert finding.drugs == ("oxycodone",)
    assert "60 MME" in finding.message
    assert "buprenorphine" in finding.message  # named as not counted


def test_opioid_for_another_indication_counts_toward_mme(check) -> None:
    result = check(order("oxycodone", 20, 4, indication="cancer pain"))
    assert only(result, MME).severity is Severity.CRITICAL
    assert "120 MME" in only(result, MME).message


def test_stopped_opioid_does_not_count(check) -> None:
    result = check(order("oxycodone", 20, 4, action=OrderAction.STOP), TRAMADOL)
    assert result.summary.morphine_mg_equivalents_per_day == pytest.approx(40)
    assert not fired(result, MME)


# --- MISUSE_RISK -------------------------------------------------------------------------------

MISUSE = "MISUSE_RISK"


@pytest.mark.parametrize(
    ("cases", "severity"),
    [
        (
            [
                (TRAMADOL, "tramadol"),
                (order("carisoprodol", 350, 3), "carisoprodol"),
                (order("diazepam", 5, 1, indication="anxiety"), "diazepam"),
            ],
            Severity.WARNING,
        ),
        (
            [
                (order("oxycodone", 5, 4), "oxycodone"),
                (order("tapentadol", 50, 4), "tapentadol"),
                (MedicationOrder("Norco 5/325", doses_per_day=4), "hydrocodone"),
            ],
            Severity.CRITICAL,
        ),
    ],
    ids=["tramadol-carisoprodol-benzodiazepine", "other-opioids"],
)
def test_substance_use_disorder(
    check, cases: list[tuple[MedicationOrder, str]], severity: Severity
) -> None:
    for medication, drug in cases:
        finding = only(check(medication, patient=SUD), MISUSE)
        assert finding.severity is severity, drug
        assert finding.drugs == (drug,)
        assert drug in finding.message.lower(), drug
        assert "substance use disorder" in finding.message
        assert finding.recommendation
        assert finding.guideline_section.startswith("Guideline: ")
        assert finding.ncpdp_reason_code == "MC"


def test_no_substance_use_disorder_no_misuse_finding(check) -> None:
    assert not fired(check(order("oxycodone", 5, 4), TRAMADOL), MISUSE)


def test_critical_misuse_risk_cannot_be_acknowledged(check) -> None:
    result = check(
        order("oxycodone", 5, 4),
        patient=SUD,
        acknowledgements=(Acknowledgement(MISUSE, "pain clinic agreement"),),
    )
    assert only(result, MISUSE).acknowledged is False
    assert result.verdict is Verdict.REJECT


# --- SEIZURE_RISK ------------------------------------------------------------------------------

SEIZURE = "SEIZURE_RISK"


def test_tramadol_with_a_seizure_disorder(check) -> None:
    result = check(TRAMADOL, patient=SEIZURES)
    finding = only(result, SEIZURE)
    assert finding.severity is Severity.WARNING
    assert finding.drugs == ("tramadol",)
    assert "seizure disorder" in finding.message
    assert finding.recommendation
    assert finding.guideline_section == "Guideline: Tramadol"
    assert finding.ncpdp_reason_code == "MC"


def test_tramadol_with_bupropion(check) -> None:
    finding = only(check(TRAMADOL, order("bupropion", 150, 2, indication="depression")), SEIZURE)
    assert finding.severity is Severity.WARNING
    assert finding.drugs == ("bupropion", "tramadol")
    assert "bupropion" in finding.message.lower() and "tramadol" in finding.message.lower()


def test_tramadol_and_bupropion_with_a_seizure_disorder_is_one_finding(check) -> None:
    result = check(TRAMADOL, order("bupropion", 150, 2, indication="depression"), patient=SEIZURES)
    finding = only(result, SEIZURE)
    assert finding.drugs == ("bupropion", "tramadol")
    assert "seizure disorder" in finding.message


def test_no_seizure_risk_without_both_tramadol_and_a_trigger(check) -> None:
    assert not fired(check(TRAMADOL, patient=Patient(age_years=40)), SEIZURE)
    assert not fired(check(order("duloxetine", 60, 1), patient=SEIZURES), SEIZURE)
