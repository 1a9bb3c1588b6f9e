"""UNKNOWN_DRUG: unresolved names get suggestions, ambiguous brands list their strengths, and
the rest of the regimen is still checked."""

from __future__ import annotations

from regimenguard.regimen.model import (
    IngredientDose,
    MedicationOrder,
    OrderAction,
    Severity,
    Verdict,
)
from tests.rule_helpers import fired, only, order

UNKNOWN = "UNKNOWN_DRUG"


def test_misspelled_drug_is_a_warning_with_suggestions(check) -> None:
    result = check(order("ibuprofin", 400, 3))
    finding = only(result, UNKNOWN)
    assert finding.severity is Severity.WARNING
    assert finding.drugs == ("ibuprofin",)
    assert "ibuprofin" in finding.message
    assert "ibuprofen" in finding.recommendation
    assert finding.guideline_section
    assert finding.ncpdp_reason_code == "MS"
    assert result.verdict is Verdict.REVIEW


def test_suggestions_for_brand_and_generic_typos(check) -> None:
    for typed, suggestion in [
        ("tizanadine", "tizanidine"),
        ("Cymbalt", "Cymbalta"),
        ("Norco 10", "Norco 10/325"),
        ("hydrocodone 10/300", "hydrocodone"),
    ]:
        finding = only(check(order(typed, 10, 1)), UNKNOWN)
        assert finding.drugs == (typed,)
        assert suggestion in finding.recommendation, typed


def test_unknown_name_or_code_without_close_match_still_gives_advice(check) -> None:
    for typed in ("xyzzy", "rxcui:99999999"):
        finding = only(check(order(typed, 10, 1)), UNKNOWN)
        assert finding.drugs == (typed,)
        assert "rxcui" in finding.recommendation  # how to name the drug instead


def test_the_rest_of_the_regimen_is_still_checked(check) -> None:
    result = check(order("ibuprofin", 400, 3), order("acetaminophen", 1000, 4))
    assert only(result, UNKNOWN).drugs == ("ibuprofin",)
    apap = only(result, "ACETAMINOPHEN_DAILY_MAX")
    assert apap.severity is Severity.CRITICAL and "4,000 mg" in apap.message
    assert result.verdict is Verdict.REJECT


def test_norco_without_strength_is_ambiguous_and_lists_its_strengths(check) -> None:
    finding = only(check(MedicationOrder("Norco", doses_per_day=4)), UNKNOWN)
    assert finding.severity is Severity.WARNING
    assert finding.drugs == ("acetaminophen", "hydrocodone")
    for strength in ("Norco 5/325", "Norco 7.5/325", "Norco 10/325"):
        assert strength in finding.message
    assert "Norco" in finding.recommendation and "/325" in finding.recommendation


def test_ambiguous_norco_still_counts_for_interactions_but_not_amounts(check) -> None:
    result = check(
        MedicationOrder("Norco", doses_per_day=4),
        order("diazepam", 5, 1, indication="anxiety"),
        order("naproxen", 500, 2),
        order("oxycodone", 10, 4),
    )
    assert only(result, "BENZODIAZEPINE_WITH_OPIOID").drugs == (
        "diazepam",
        "hydrocodone",
        "oxycodone",
    )
    assert only(result, "NSAID_WITH_ACETAMINOPHEN").drugs == ("acetaminophen", "naproxen")
    mme = only(result, "OPIOID_DAILY_MME")
    assert mme.drugs == ("oxycodone",)
    assert "60 MME" in mme.message and "hydrocodone" in mme.message  # named, not counted
    assert result.summary.acetaminophen_mg_per_day == 0
    assert result.verdict is Verdict.REJECT


def test_unknown_ingredient_of_an_explicit_ingredient_list(check) -> None:
    result = check(
        MedicationOrder(
            "house combination",
            ingredients=(IngredientDose("acetaminophen", 650), IngredientDose("zzzapam", 5)),
            doses_per_day=5,
        )
    )
    assert only(result, UNKNOWN).drugs == ("zzzapam",)
    assert "3,250 mg" in only(result, "ACETAMINOPHEN_DAILY_MAX").message


def test_unknown_name_in_a_stop_order_is_not_reported(check) -> None:
    result = check(order("foobarol", 10, 1, action=OrderAction.STOP), order("naproxen", 500, 2))
    assert not fired(result, UNKNOWN)
    assert result.verdict is Verdict.ACCEPT
