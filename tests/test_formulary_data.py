"""The formulary's data discipline: the RxNorm grammar, start-up refusals, the site NDC crosswalk."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from regimenguard.dosing.tables import DATA_DIR as DOSING_DATA_DIR
from regimenguard.interactions.datafile import DataError
from regimenguard.interactions.knowledge_base import DATA_DIR as INTERACTION_DATA_DIR
from regimenguard.interactions.rxnorm_names import Component, parse_rxnorm_name
from regimenguard.regimen.engine import RegimenChecker
from regimenguard.regimen.knowledge import load_knowledge
from regimenguard.regimen.settings import SettingsError, load_settings

# --- the RxNorm normalized-name grammar ---------------------------------------------------------


def test_grammar_reads_a_combination_tablet() -> None:
    parsed = parse_rxnorm_name("acetaminophen 325 MG / oxycodone hydrochloride 5 MG Oral Tablet")
    assert parsed is not None
    assert parsed.components == (
        Component("acetaminophen", 325, "MG"),
        Component("oxycodone hydrochloride", 5, "MG"),
    )
    assert (parsed.dose_form, parsed.brand, parsed.release_hours) == ("Oral Tablet", "", None)
    assert not parsed.extended_release


def test_grammar_reads_release_hours_and_brand() -> None:
    parsed = parse_rxnorm_name(
        "24 HR tramadol hydrochloride 100 MG Extended Release Oral Capsule [ConZip]"
    )
    assert parsed is not None
    assert parsed.components == (Component("tramadol hydrochloride", 100, "MG"),)
    assert (parsed.release_hours, parsed.brand) == (24, "ConZip")
    assert parsed.dose_form == "Extended Release Oral Capsule" and parsed.extended_release


def test_grammar_reads_a_patch_rate_and_a_volume() -> None:
    patch = parse_rxnorm_name("72 HR fentanyl 0.075 MG/HR Transdermal System")
    assert patch is not None and patch.components == (Component("fentanyl", 0.075, "MG/HR"),)
    assert patch.release_hours == 72 and not patch.extended_release  # a patch's wear time
    syringe = parse_rxnorm_name("1 ML buprenorphine 0.3 MG/ML Injection [Buprenex]")
    assert syringe is not None and (syringe.quantity, syringe.quantity_unit) == (1, "ML")
    assert syringe.components == (Component("buprenorphine", 0.3, "MG/ML"),)


def test_grammar_reads_qualifiers_and_packs() -> None:
    embeda = parse_rxnorm_name(
        "Abuse-Deterrent morphine sulfate 20 MG / naltrexone hydrochloride 0.8 MG "
        "Extended Release Oral Capsule [Embeda]"
    )
    assert embeda is not None and embeda.qualifiers == ("Abuse-Deterrent",)
    assert [c.substance for c in embeda.components] == [
        "morphine sulfate",
        "naltrexone hydrochloride",
    ]
    kit = parse_rxnorm_name(
        "{2 (0.1 ML) (diazepam 100 MG/ML Nasal Spray [Valtoco]) } Pack [Valtoco 20 MG Dose Kit]"
    )
    assert kit is not None and kit.pack_count == 2 and kit.quantity == 0.1
    assert kit.components == (Component("diazepam", 100, "MG/ML"),)


@pytest.mark.parametrize(
    "text", ["Norco 10/325", "naproxen", "", "tramadol 50 MG", "50 MG Oral Tablet"]
)
def test_grammar_refuses_what_is_not_an_rxnorm_name(text: str) -> None:
    assert parse_rxnorm_name(text) is None


# --- start-up refusals --------------------------------------------------------------------------


def _copy(tmp_path: Path) -> tuple[Path, Path]:
    interaction_dir = tmp_path / "interactions" / "data"
    dosing_dir = tmp_path / "dosing" / "data"
    shutil.copytree(INTERACTION_DATA_DIR, interaction_dir)
    shutil.copytree(DOSING_DATA_DIR, dosing_dir)
    return interaction_dir, dosing_dir


def _append(path: Path, line: str) -> int:
    text = path.read_text(encoding="utf-8")
    text += ("" if text.endswith("\n") else "\n") + line + "\n"
    path.write_text(text, encoding="utf-8")
    return text.count("\n")


def test_a_product_whose_ingredient_is_unknown_stops_start_up(tmp_path: Path) -> None:
    interaction_dir, dosing_dir = _copy(tmp_path)
    row = _append(
        interaction_dir / "products.csv",
        ",fakeprofen 200 MG Oral Tablet,fakeprofen:200 MG,,,Oral Tablet,oral,,,,test",
    )
    with pytest.raises(
        DataError, match=rf"products\.csv row {row}: unknown ingredient 'fakeprofen'"
    ):
        load_knowledge(interaction_dir=interaction_dir, dosing_dir=dosing_dir)


def test_a_code_for_two_different_things_stops_start_up(tmp_path: Path) -> None:
    interaction_dir, dosing_dir = _copy(tmp_path)
    row = _append(
        interaction_dir / "products.csv",
        "856999,ibuprofen 999 MG Oral Tablet,ibuprofen:999 MG,,,Oral Tablet,oral,,,,test",
    )
    with pytest.raises(DataError, match=rf"products\.csv row {row}: rxcui 856999 is already used"):
        load_knowledge(interaction_dir=interaction_dir, dosing_dir=dosing_dir)


def test_a_class_no_ingredient_has_stops_start_up(tmp_path: Path) -> None:
    interaction_dir, dosing_dir = _copy(tmp_path)
    row = _append(interaction_dir / "classes.csv", "empty_class,empty class,,,,test")
    with pytest.raises(
        DataError, match=rf"classes\.csv row {row}: class 'empty_class' has no ingredient"
    ):
        load_knowledge(interaction_dir=interaction_dir, dosing_dir=dosing_dir)


def test_a_class_no_rule_uses_stops_start_up(tmp_path: Path) -> None:
    interaction_dir, dosing_dir = _copy(tmp_path)
    _append(interaction_dir / "classes.csv", "statin,statins,,,,test")
    path = interaction_dir / "ingredients.csv"
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            "atorvastatin,83367,,", "atorvastatin,83367,statin,"
        ),
        encoding="utf-8",
    )
    knowledge = load_knowledge(interaction_dir=interaction_dir, dosing_dir=dosing_dir)
    with pytest.raises(DataError, match=r"no rule uses the class\(es\) statin"):
        RegimenChecker(knowledge)


def test_a_dose_limit_for_an_unknown_salt_stops_start_up(tmp_path: Path) -> None:
    interaction_dir, dosing_dir = _copy(tmp_path)
    row = _append(
        dosing_dir / "dose_limits.csv", "naproxen,oral,any,0,,1650,naproxen lysinate,,test"
    )
    with pytest.raises(DataError, match=rf"dose_limits\.csv row {row}: basis 'naproxen lysinate'"):
        load_knowledge(interaction_dir=interaction_dir, dosing_dir=dosing_dir)


def test_a_dose_limit_stated_for_the_salt_is_converted(tmp_path: Path) -> None:
    interaction_dir, dosing_dir = _copy(tmp_path)
    _append(dosing_dir / "dose_limits.csv", "naproxen,oral,any,0,,1100,naproxen sodium,,test")
    knowledge = load_knowledge(interaction_dir=interaction_dir, dosing_dir=dosing_dir)
    limits = [row.max_mg_per_day for row in knowledge.dosing.dose_limits["naproxen"]]
    assert limits == [1500, 1000]  # 1,100 mg of naproxen sodium is 1,000 mg of naproxen


# --- the site's NDC crosswalk -------------------------------------------------------------------


def _site(tmp_path: Path, rows: list[str]) -> Path:
    (tmp_path / "ndc.csv").write_text("ndc,rxcui,source\n" + "".join(r + "\n" for r in rows))
    config = tmp_path / "site.toml"
    config.write_text('[site]\nname = "clinic"\n[formulary]\nndc_crosswalk = "ndc.csv"\n')
    return config


def test_ndc_crosswalk_resolves_ndc_codes(tmp_path: Path) -> None:
    config = _site(tmp_path, ["0406-0123-01,856999,site pharmacy table"])
    knowledge = load_knowledge(load_settings(config))
    for code in ("ndc:0406-0123-01", "ndc:0406012301", "NDC:0406012301"):
        match = knowledge.resolver.resolve(code)
        assert match is not None and dict(match.ingredients) == {
            "acetaminophen": 325,
            "hydrocodone": 10,
        }
    assert ".ndc" in knowledge.version  # the crosswalk is part of the site configuration


def test_ndc_crosswalk_refuses_an_ndc_for_two_rxcuis(tmp_path: Path) -> None:
    config = _site(tmp_path, ["0406012301,856999,a", "0406-0123-01,197696,b"])
    with pytest.raises(SettingsError, match=r"ndc\.csv row 3: ndc 0406012301 maps to two"):
        load_knowledge(load_settings(config))


def test_ndc_crosswalk_refuses_an_unknown_rxcui(tmp_path: Path) -> None:
    config = _site(tmp_path, ["0406012301,99999999,a"])
    with pytest.raises(SettingsError, match=r"rxcui 99999999, which is not known"):
        load_knowledge(load_settings(config))
