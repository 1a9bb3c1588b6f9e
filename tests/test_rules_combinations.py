"""Rules over the mix of agents: NSAID + acetaminophen, duplicates, serotonergic load,
contraindicated pairs, benzodiazepine + opioid and CNS depressants with an opioid."""

from __future__ import annotations

import pytest

from regimenguard.regimen.model import (
    MedicationOrder,
    OrderAction,
    Route,
    Severity,
    Verdict,
)
from tests.rule_helpers import fired, only, order

IBUPROFEN = order("ibuprofen", 400, 3)
NAPROXEN = order("naproxen", 500, 2)
APAP = order("acetaminophen", 650, 4)
TOPICAL_DICLOFENAC = order("diclofenac", 4, 4, route=Route.TOPICAL)
DULOXETINE = order("duloxetine", 60, 1)
CYCLOBENZAPRINE = order("cyclobenzaprine", 5, 3, as_needed=True)
TRAMADOL = order("tramadol", 50, 4, as_needed=True)

# --- NSAID_WITH_ACETAMINOPHEN ------------------------------------------------------------------

NWA = "NSAID_WITH_ACETAMINOPHEN"


def test_systemic_nsaid_with_acetaminophen_is_a_warning(check) -> None:
    result = check(IBUPROFEN, APAP)
    finding = only(result, NWA)
    assert finding.severity is Severity.WARNING
    assert finding.drugs == ("acetaminophen", "ibuprofen")
    assert "ibuprofen" in finding.message.lower() and "acetaminophen" in finding.message.lower()
    assert "muscle relaxant" in finding.recommendation and "duloxetine" in finding.recommendation
    assert finding.guideline_section == "Guideline: Nonopioid analgesics"
    assert finding.ncpdp_reason_code == "SR"
    assert result.verdict is Verdict.REVIEW
    # acetaminophen from any source, a combination opioid product included
    percocet = MedicationOrder("Percocet 5/325", doses_per_day=4)
    assert only(check(IBUPROFEN, percocet), NWA).drugs == ("acetaminophen", "ibuprofen")


def test_topical_diclofenac_with_acetaminophen_is_not_flagged(check) -> None:
    result = check(TOPICAL_DICLOFENAC, APAP)
    assert not fired(result, NWA)
    assert result.verdict is Verdict.ACCEPT


def test_aspirin_pairs_with_acetaminophen_only_at_analgesic_doses(check) -> None:
    assert not fired(check(order("aspirin", 81, 1), APAP), NWA)
    assert not fired(check(order("aspirin", 325, 1), APAP), NWA)
    assert only(check(order("aspirin", 650, 4), APAP), NWA).drugs == ("acetaminophen", "aspirin")


def test_stopped_nsaid_does_not_pair_with_acetaminophen(check) -> None:
    result = check(order("ibuprofen", 400, 3, action=OrderAction.STOP), APAP)
    assert not fired(result, NWA)


# --- DUPLICATE_THERAPY -------------------------------------------------------------------------

DUP = "DUPLICATE_THERAPY"


@pytest.mark.parametrize(
    ("orders", "severity", "drugs", "label"),
    [
        ((IBUPROFEN, NAPROXEN), Severity.CRITICAL, ("ibuprofen", "naproxen"), "systemic NSAIDs"),
        (
            (IBUPROFEN, order("celecoxib", 200, 1)),
            Severity.CRITICAL,
            ("celecoxib", "ibuprofen"),
            "systemic NSAIDs",
        ),
        (
            (CYCLOBENZAPRINE, order("tizanidine", 2, 3)),
            Severity.WARNING,
            ("cyclobenzaprine", "tizanidine"),
            "skeletal muscle relaxants",
        ),
        (
            (order("amitriptyline", 25, 1), order("nortriptyline", 25, 1)),
            Severity.WARNING,
            ("amitriptyline", "nortriptyline"),
            "tricyclic antidepressants",
        ),
        (
            (order("diazepam", 5, 1), order("lorazepam", 1, 1)),
            Severity.WARNING,
            ("diazepam", "lorazepam"),
            "benzodiazepines",
        ),
        (
            (order("oxycodone", 5, 2), MedicationOrder("Norco 10/325", doses_per_day=2)),
            Severity.WARNING,
            ("hydrocodone", "oxycodone"),
            "opioids",
        ),
    ],
)
def test_two_ingredients_of_one_class(
    check,
    orders: tuple[MedicationOrder, ...],
    severity: Severity,
    drugs: tuple[str, ...],
    label: str,
) -> None:
    finding = only(check(*orders), DUP)
    assert finding.severity is severity
    assert finding.drugs == drugs
    assert label.lower() in finding.message.lower()
    assert all(drug in finding.message for drug in drugs)
    assert all(drug in finding.recommendation for drug in drugs)
    assert finding.guideline_section == "Guideline: Combination therapy"
    assert finding.ncpdp_reason_code == "TD"


def test_three_nsaids_are_one_finding_naming_all(check) -> None:
    finding = only(check(IBUPROFEN, NAPROXEN, order("meloxicam", 7.5, 1)), DUP)
    assert finding.drugs == ("ibuprofen", "meloxicam", "naproxen")
    assert "3" in finding.message
    assert all(drug in finding.recommendation for drug in finding.drugs)


@pytest.mark.parametrize(
    "orders",
    [
        (TOPICAL_DICLOFENAC, IBUPROFEN),
        (IBUPROFEN, order("ibuprofen", 400, 2, as_needed=True)),
        (
            order("ibuprofen", 400, 3, action=OrderAction.STOP),
            order("naproxen", 500, 2, action=OrderAction.START),
        ),
    ],
    ids=["topical-diclofenac-with-oral-ibuprofen", "scheduled-plus-prn-ibuprofen", "nsaid-switch"],
)
def test_not_duplicate_therapy(check, orders: tuple[MedicationOrder, ...]) -> None:
    result = check(*orders)
    assert not fired(result, DUP)
    assert result.verdict is Verdict.ACCEPT


def test_aspirin_duplicates_an_nsaid_only_above_325_mg_a_day(check) -> None:
    assert not fired(check(order("aspirin", 81, 1), IBUPROFEN), DUP)
    assert not fired(check(order("aspirin", 325, 1), IBUPROFEN), DUP)
    finding = only(check(order("aspirin", 650, 4), IBUPROFEN), DUP)
    assert finding.severity is Severity.CRITICAL
    assert finding.drugs == ("aspirin", "ibuprofen")


# --- SEROTONERGIC_COMBINATION ------------------------------------------------------------------

SERO = "SEROTONERGIC_COMBINATION"


def test_duloxetine_with_cyclobenzaprine_is_a_warning_recommending_tizanidine(check) -> None:
    finding = only(check(DULOXETINE, CYCLOBENZAPRINE), SERO)
    assert finding.severity is Severity.WARNING
    assert finding.drugs == ("cyclobenzaprine", "duloxetine")
    assert "2" in finding.message
    assert "cyclobenzaprine" in finding.message and "duloxetine" in finding.message
    assert "tizanidine" in finding.recommendation
    assert "Guideline: Combination therapy" in finding.guideline_section
    assert finding.ncpdp_reason_code == "AT"
    # the same advice for metaxalone, the other serotonergic muscle relaxant
    metaxalone = only(check(DULOXETINE, order("metaxalone", 800, 3)), SERO)
    assert "tizanidine" in metaxalone.recommendation


def test_three_serotonergic_agents_are_critical_even_with_another_indication(check) -> None:
    result = check(DULOXETINE, CYCLOBENZAPRINE, order("sertraline", 50, 1, indication="depression"))
    finding = only(result, SERO)
    assert finding.severity is Severity.CRITICAL
    assert finding.drugs == ("cyclobenzaprine", "duloxetine", "sertraline")
    assert "3" in finding.message and "sertraline" in finding.message
    assert result.summary.serotonergic_agents == 3
    assert result.verdict is Verdict.REJECT


def test_tramadol_recommendation_names_serotonin_syndrome_and_seizures(check) -> None:
    finding = only(check(DULOXETINE, TRAMADOL), SERO)
    assert finding.drugs == ("duloxetine", "tramadol")
    assert "serotonin syndrome" in finding.recommendation
    assert "seizure" in finding.recommendation


def test_duloxetine_with_tizanidine_is_not_serotonergic(check) -> None:
    result = check(DULOXETINE, order("tizanidine", 4, 3, as_needed=True))
    assert not fired(result, SERO)
    assert result.summary.serotonergic_agents == 1


def test_same_ingredient_twice_counts_once(check) -> None:
    result = check(DULOXETINE, order("tramadol", 50, 2), TRAMADOL)
    finding = only(result, SERO)
    assert finding.severity is Severity.WARNING
    assert finding.drugs == ("duloxetine", "tramadol")


def test_stopped_serotonergic_agent_does_not_count(check) -> None:
    result = check(
        order("sertraline", 50, 1, indication="depression", action=OrderAction.STOP),
        DULOXETINE,
        CYCLOBENZAPRINE,
    )
    assert only(result, SERO).severity is Severity.WARNING


def test_fentanyl_patch_counts_as_serotonergic(check) -> None:
    patch = MedicationOrder("Duragesic", route=Route.TRANSDERMAL, rate_mcg_per_hour=12)
    assert only(check(patch, DULOXETINE), SERO).drugs == ("duloxetine", "fentanyl")


# --- CONTRAINDICATED_COMBINATION ---------------------------------------------------------------

CONTRA = "CONTRAINDICATED_COMBINATION"


@pytest.mark.parametrize(
    ("first", "second", "drugs", "section"),
    [
        (
            order("phenelzine", 15, 3, indication="depression"),
            DULOXETINE,
            ("duloxetine", "phenelzine"),
            "FDA label",
        ),
        (
            order("linezolid", 600, 2, indication="pneumonia"),
            TRAMADOL,
            ("linezolid", "tramadol"),
            "FDA label",
        ),
        (
            order("tizanidine", 2, 3),
            order("ciprofloxacin", 500, 2, indication="UTI"),
            ("ciprofloxacin", "tizanidine"),
            "FDA label: tizanidine",
        ),
        (
            order("tizanidine", 2, 3),
            order("Luvox", 100, 1, indication="OCD"),
            ("fluvoxamine", "tizanidine"),
            "FDA label: tizanidine",
        ),
        (
            DULOXETINE,
            order("thioridazine", 50, 2, indication="schizophrenia"),
            ("duloxetine", "thioridazine"),
            "FDA label: duloxetine",
        ),
    ],
)
def test_label_contraindicated_pairs_are_critical(
    check,
    first: MedicationOrder,
    second: MedicationOrder,
    drugs: tuple[str, ...],
    section: str,
) -> None:
    result = check(first, second)
    finding = only(result, CONTRA)
    assert finding.severity is Severity.CRITICAL
    assert finding.drugs == drugs
    assert all(drug in finding.message.lower() for drug in drugs)
    assert finding.recommendation.startswith("Do not combine")
    assert finding.guideline_section == section
    assert finding.ncpdp_reason_code == "DD"
    assert result.verdict is Verdict.REJECT


def test_maoi_or_cyp1a2_inhibitor_without_its_partner_is_not_contraindicated(check) -> None:
    assert not fired(check(order("selegiline", 5, 2, indication="Parkinson"), NAPROXEN), CONTRA)
    cipro = order("ciprofloxacin", 500, 2, indication="UTI")
    assert not fired(check(CYCLOBENZAPRINE, cipro), CONTRA)  # only tizanidine is a CYP1A2 victim


# --- BENZODIAZEPINE_WITH_OPIOID ----------------------------------------------------------------

BENZO = "BENZODIAZEPINE_WITH_OPIOID"


def test_benzodiazepine_with_tramadol_is_critical(check) -> None:
    result = check(order("diazepam", 5, 2, indication="anxiety"), TRAMADOL)
    finding = only(result, BENZO)
    assert finding.severity is Severity.CRITICAL
    assert finding.drugs == ("diazepam", "tramadol")
    assert "diazepam" in finding.message.lower() and "tramadol" in finding.message.lower()
    assert "taper the benzodiazepine" in finding.recommendation
    assert finding.guideline_section == "Guideline: Pharmacologic therapies (Benzodiazepines)"
    assert finding.ncpdp_reason_code == "DD"
    assert result.verdict is Verdict.REJECT


def test_benzodiazepine_with_a_combination_opioid_product_but_not_once_stopped(check) -> None:
    norco = MedicationOrder("Norco 10/325", doses_per_day=4)
    assert only(check(order("Ativan", 1, 1), norco), BENZO).drugs == ("hydrocodone", "lorazepam")
    stopped = order("lorazepam", 1, 1, action=OrderAction.STOP)
    assert not fired(check(stopped, norco), BENZO)


# --- CNS_DEPRESSANT_COMBINATION ----------------------------------------------------------------

CNS = "CNS_DEPRESSANT_COMBINATION"


def test_opioid_with_gabapentinoid_is_a_warning(check) -> None:
    for gabapentinoid in ("gabapentin", "pregabalin"):
        result = check(
            order("oxycodone", 5, 4), order(gabapentinoid, 75, 2, indication="neuropathy")
        )
        finding = only(result, CNS)
        assert finding.severity is Severity.WARNING
        assert finding.drugs == tuple(sorted((gabapentinoid, "oxycodone")))
        assert gabapentinoid in finding.message.lower() and "oxycodone" in finding.message.lower()
        assert "naloxone" in finding.recommendation
        assert finding.guideline_section == "FDA label; CDC opioid guideline"
        assert finding.ncpdp_reason_code == "AT"


def test_opioid_with_carisoprodol_is_one_warning_not_also_the_relaxant_info(check) -> None:
    finding = only(check(TRAMADOL, order("carisoprodol", 350, 3)), CNS)
    assert finding.severity is Severity.WARNING
    assert finding.drugs == ("carisoprodol", "tramadol")
    assert "carisoprodol" in finding.message.lower()


def test_opioid_with_a_preferred_muscle_relaxant_is_info(check) -> None:
    result = check(TRAMADOL, order("tizanidine", 2, 3, as_needed=True))
    finding = only(result, CNS)
    assert finding.severity is Severity.INFO
    assert finding.drugs == ("tizanidine", "tramadol")
    assert result.verdict is Verdict.ACCEPT


def test_gabapentinoid_without_an_opioid_is_not_flagged(check) -> None:
    result = check(NAPROXEN, order("gabapentin", 300, 3, indication="neuropathy"))
    assert not fired(result, CNS)
