"""Issue 13 point 5: the ids rules name are checked at start-up; their thresholds are data."""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from regimenguard.dosing.tables import DATA_DIR as DOSING_DATA_DIR
from regimenguard.interactions.datafile import DataError
from regimenguard.interactions.knowledge_base import DATA_DIR as INTERACTION_DATA_DIR
from regimenguard.regimen.engine import RegimenChecker
from regimenguard.regimen.knowledge import Knowledge, load_knowledge
from regimenguard.regimen.model import OrderAction, Patient, RegimenRequest, Route, Severity
from regimenguard.regimen.vocabulary import VOCABULARY, check_vocabulary
from tests.rule_helpers import fired, only, order

AS_OF = dt.date(2026, 11, 23)


@pytest.fixture
def copies(tmp_path: Path) -> tuple[Path, Path]:
    interaction_dir = tmp_path / "interactions" / "data"
    dosing_dir = tmp_path / "dosing" / "data"
    shutil.copytree(INTERACTION_DATA_DIR, interaction_dir)
    shutil.copytree(DOSING_DATA_DIR, dosing_dir)
    return interaction_dir, dosing_dir


def _load(copies: tuple[Path, Path]) -> Knowledge:
    return load_knowledge(interaction_dir=copies[0], dosing_dir=copies[1])


def _set_threshold(copies: tuple[Path, Path], name: str, value: str) -> None:
    path = copies[0] / "rule_thresholds.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    changed = [
        f"{name},{value},{line.split(',', 2)[2]}" if line.startswith(f"{name},") else line
        for line in lines
    ]
    assert changed != lines, name
    path.write_text("\n".join(changed) + "\n", encoding="utf-8")


def _check(knowledge: Knowledge, *orders, patient: Patient | None = None):  # type: ignore[no-untyped-def]
    request = RegimenRequest("t", AS_OF, patient or Patient(), tuple(orders))
    return RegimenChecker(knowledge).check(request)


def test_every_declared_id_is_a_node_of_the_knowledge_base(knowledge: Knowledge) -> None:
    assert "class:preferred_muscle_relaxant" in VOCABULARY
    assert "condition:older_adult" in VOCABULARY
    check_vocabulary(knowledge.graph)  # does not raise


def test_a_class_renamed_in_the_data_stops_start_up(copies: tuple[Path, Path]) -> None:
    # Renamed consistently in every file: the data alone is valid, but the rule's class is gone.
    for directory in copies:
        for path in directory.glob("*.csv"):
            text = path.read_text(encoding="utf-8")
            path.write_text(
                text.replace("preferred_muscle_relaxant", "favoured_muscle_relaxant"),
                encoding="utf-8",
            )
    with pytest.raises(DataError, match="class:preferred_muscle_relaxant"):
        _load(copies)


def test_an_id_missing_from_the_graph_is_named() -> None:
    with pytest.raises(DataError, match="class:no_such_class"):
        check_vocabulary({"class:nsaid"}, frozenset({"class:nsaid", "class:no_such_class"}))


def test_the_thresholds_come_from_the_catalogue(knowledge: Knowledge) -> None:
    thresholds = knowledge.thresholds
    assert thresholds.serotonergic_critical_agents == 3
    assert thresholds.cns_active_drugs_older_adult == 3
    assert thresholds.subacute_max_weeks == 12
    assert thresholds.older_adult_age_years == 65
    assert thresholds.adult_age_years == 18


def test_three_serotonergic_agents_are_critical_by_the_catalogue_row(
    knowledge: Knowledge, copies: tuple[Path, Path]
) -> None:
    orders = (
        order("duloxetine", 60, 1),
        order("tramadol", 50, 4),
        order("sertraline", 50, 1, indication="depression"),
    )
    assert only(_check(knowledge, *orders), "SEROTONERGIC_COMBINATION").severity is (
        Severity.CRITICAL
    )
    _set_threshold(copies, "serotonergic_critical_agents", "4")
    relaxed = only(_check(_load(copies), *orders), "SEROTONERGIC_COMBINATION")
    assert relaxed.severity is Severity.WARNING


def test_the_older_adult_age_is_the_catalogue_row(
    knowledge: Knowledge, copies: tuple[Path, Path]
) -> None:
    patient = Patient(age_years=67)
    assert (
        _check(
            knowledge, order("acetaminophen", 650, 4), patient=patient
        ).summary.acetaminophen_limit_mg_per_day
        == 2000
    )
    _set_threshold(copies, "older_adult_age_years", "70")
    result = _check(_load(copies), order("acetaminophen", 650, 4), patient=patient)
    assert result.summary.acetaminophen_limit_mg_per_day == 3000
    assert not fired(result, "OLDER_ADULT_CAUTION")


def test_the_subacute_weeks_and_the_adult_age_are_catalogue_rows(
    knowledge: Knowledge, copies: tuple[Path, Path]
) -> None:
    start = order("duloxetine", 30, 1, action=OrderAction.START)
    patient = Patient(age_years=17, pain_duration_weeks=14)
    result = _check(knowledge, start, patient=patient)
    assert not fired(result, "DULOXETINE_SUBACUTE")
    assert fired(result, "PATIENT_UNDER_18")
    _set_threshold(copies, "subacute_max_weeks", "16")
    _set_threshold(copies, "adult_age_years", "16")
    changed = _check(_load(copies), start, patient=patient)
    assert "over 16 weeks" in only(changed, "DULOXETINE_SUBACUTE").message
    assert not fired(changed, "PATIENT_UNDER_18")


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ("mystery_threshold,1,SEROTONERGIC_COMBINATION,x", "unknown threshold"),
        ("subacute_max_weeks,12,NO_SUCH_RULE,x", "unknown rule id"),
        ("subacute_max_weeks,12.5,DULOXETINE_SUBACUTE,x", "whole number"),
        ("subacute_max_weeks,-3,DULOXETINE_SUBACUTE,x", "positive"),
        ("subacute_max_weeks,12,DULOXETINE_SUBACUTE,", "source"),
        ("subacute_max_weeks,12,DULOXETINE_SUBACUTE,again", "given twice"),
    ],
)
def test_a_bad_threshold_row_stops_start_up_naming_file_and_row(
    copies: tuple[Path, Path], row: str, expected: str
) -> None:
    path = copies[0] / "rule_thresholds.csv"
    text = path.read_text(encoding="utf-8")
    path.write_text(text + row + "\n", encoding="utf-8")
    with pytest.raises(DataError, match=expected) as raised:
        _load(copies)
    assert f"rule_thresholds.csv row {text.count(chr(10)) + 1}" in str(raised.value)


def test_a_missing_threshold_stops_start_up(copies: tuple[Path, Path]) -> None:
    path = copies[0] / "rule_thresholds.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(x for x in lines if not x.startswith("adult_age_years")) + "\n")
    with pytest.raises(DataError, match="missing adult_age_years"):
        _load(copies)


def test_the_thresholds_change_the_knowledge_base_version(
    knowledge: Knowledge, copies: tuple[Path, Path]
) -> None:
    _set_threshold(copies, "subacute_max_weeks", "11")
    assert _load(copies).version != knowledge.version


def test_mme_incomplete_names_the_thresholds_in_force(knowledge: Knowledge) -> None:
    """The advice quotes the site's MME thresholds (50 and 90 by default), not fixed numbers."""
    buccal = order("fentanyl", 0.1, 4, route=Route.BUCCAL)  # no CDC factor: not counted
    default = only(_check(knowledge, buccal), "MME_INCOMPLETE")
    assert "against 50 and 90 MME/day" in default.recommendation
    site = replace(
        knowledge,
        settings=replace(knowledge.settings, mme_warning_per_day=40, mme_critical_per_day=80),
    )
    tightened = only(_check(site, buccal), "MME_INCOMPLETE")
    assert "against 40 and 80 MME/day" in tightened.recommendation
