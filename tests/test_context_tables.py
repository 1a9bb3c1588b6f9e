"""The clinical context tables of issue 11: loaded once, every bad row stops start-up by name."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from regimenguard.dosing.tables import DATA_DIR as DOSING_DATA_DIR
from regimenguard.interactions.datafile import DataError
from regimenguard.interactions.knowledge_base import DATA_DIR as INTERACTION_DATA_DIR
from regimenguard.regimen.context_tables import NO_PROFILE, normalize_indication
from regimenguard.regimen.knowledge import Knowledge, load_knowledge
from regimenguard.regimen.model import Route


@pytest.fixture
def copies(tmp_path: Path) -> tuple[Path, Path]:
    interaction_dir = tmp_path / "interactions" / "data"
    dosing_dir = tmp_path / "dosing" / "data"
    shutil.copytree(INTERACTION_DATA_DIR, interaction_dir)
    shutil.copytree(DOSING_DATA_DIR, dosing_dir)
    return interaction_dir, dosing_dir


def _append(path: Path, row: str) -> int:
    text = path.read_text(encoding="utf-8")
    text += ("" if text.endswith("\n") else "\n") + row + "\n"
    path.write_text(text, encoding="utf-8")
    return text.count("\n")


@pytest.mark.parametrize(
    ("directory", "filename", "row", "expected"),
    [
        (
            0,
            "washouts.csv",
            "class:nope,class:maoi,CONTRAINDICATED_COMBINATION,14,,x",
            "unknown node",
        ),
        (0, "washouts.csv", "class:maoi,class:serotonergic,NO_SUCH_RULE,14,,x", "unknown rule id"),
        (
            0,
            "washouts.csv",
            "class:maoi,class:serotonergic,CONTRAINDICATED_COMBINATION,-1,,x",
            "positive",
        ),
        (
            0,
            "indication_treatments.csv",
            "opioid_use_disorder,unobtainium,,x",
            "unknown ingredient",
        ),
        (
            0,
            "indication_treatments.csv",
            "opioid_use_disorder,methadone,no_class,x",
            "unknown class",
        ),
        (0, "context_severity.csv", "moon_phase,OPIOID_DAILY_MME,INFO,x", "unknown condition"),
        (0, "context_severity.csv", "palliative_care,OPIOID_DAILY_MME,LOW,x", "severity"),
        (1, "opioid_forms.csv", "fentanyl,nasal,any,,yes,,,,x", "route"),
        (1, "opioid_forms.csv", "oxycodone,oral,yes,,,,40,,x", "tolerant_only"),
        (1, "dose_exemptions.csv", "doxepin,tca,zero,x", "not a number"),
        (1, "opioid_thresholds.csv", "mystery_threshold,1,x", "unknown threshold"),
        (1, "taper_on_stop.csv", "drug:nothing,abrupt,x", "unknown node"),
    ],
)
def test_a_bad_row_stops_start_up_naming_file_and_row(
    copies, directory, filename, row, expected
) -> None:  # type: ignore[no-untyped-def]
    path = copies[directory] / filename
    line = _append(path, row)
    with pytest.raises(DataError) as raised:
        load_knowledge(interaction_dir=copies[0], dosing_dir=copies[1])
    assert f"{filename} row {line}" in str(raised.value)
    assert expected in str(raised.value)


def test_a_missing_threshold_stops_start_up(copies) -> None:  # type: ignore[no-untyped-def]
    path = copies[1] / "opioid_thresholds.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(line for line in lines if not line.startswith("naloxone_")) + "\n")
    with pytest.raises(DataError, match="naloxone_mme_per_day"):
        load_knowledge(interaction_dir=copies[0], dosing_dir=copies[1])


def test_the_tables_change_the_knowledge_base_version(copies, knowledge: Knowledge) -> None:  # type: ignore[no-untyped-def]
    _append(copies[0] / "indications.csv", "opioid treatment program,opioid_use_disorder,SAMHSA")
    changed = load_knowledge(interaction_dir=copies[0], dosing_dir=copies[1])
    assert changed.version != knowledge.version
    assert changed.context.meaning("Opioid treatment program") == "opioid_use_disorder"


def test_every_row_names_a_source(knowledge: Knowledge) -> None:
    context = knowledge.context
    rows = [
        *context.washouts,
        *context.treatments.values(),
        *(cap for caps in context.severity_caps.values() for cap in caps),
        *context.older_adult_advice,
        *(form for forms in context.opioid_forms.values() for form in forms),
        *context.daily_starts.values(),
        *(e for rows in context.dose_exemptions.values() for e in rows),
        *context.tapers,
    ]
    assert rows and all(row.source.strip() for row in rows)


def test_indication_spellings_are_normalized(knowledge: Knowledge) -> None:
    assert normalize_indication("  Opioid   Use Disorder. ") == "opioid use disorder"
    for written in ("OUD", "opioid dependence", "MAT", "MOUD", "opioid use disorder"):
        assert knowledge.context.meaning(written) == "opioid_use_disorder"
    assert knowledge.context.meaning("chronic pain") == ""
    assert knowledge.context.meaning("") == ""


def test_opioid_form_profiles_compiled_at_start_up_are_those_of_the_rows(
    knowledge: Knowledge,
) -> None:
    context = knowledge.context
    assert set(context.form_profiles) == {
        (ingredient, route.value, extended)
        for ingredient in context.opioid_forms
        for route in Route
        for extended in (False, True)
    }
    for (ingredient, route, extended), profile in context.form_profiles.items():
        assert profile == context.form_of_rows(ingredient, route, extended)
    patch = context.form("fentanyl", "transdermal", False)
    assert patch.long_acting and patch.tolerant_only
    assert context.form("oxycodone", "oral", False) == NO_PROFILE
    assert context.form("ibuprofen", "oral", False) == NO_PROFILE
    assert context.form("methadone", "unlisted-route", False).long_acting  # read from the rows
