"""Integrity of the knowledge base: the data files, the graph, the catalogue and their loading.

The expected catalogue, MME factors and combination products are hard-coded here from
shared/spec/clinical-rules.md and shared/spec/drug-reference.md, so a data edit that drifts
from the spec fails a test instead of silently changing clinical behaviour.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import networkx as nx
import pytest

from regimenguard.dosing.tables import DATA_DIR as DOSING_DATA_DIR
from regimenguard.interactions.datafile import DataError
from regimenguard.interactions.graph import INTERACTS, MEMBER_OF, membership_graph
from regimenguard.interactions.knowledge_base import DATA_DIR as INTERACTION_DATA_DIR
from regimenguard.interactions.severity import Severity
from regimenguard.regimen.knowledge import Knowledge, load_knowledge
from regimenguard.regimen.rules import RULES

C, W, INFO = Severity.CRITICAL, Severity.WARNING, Severity.INFO

# clinical-rules.md, "Rules": rule id -> (NCPDP reason code, default severity), in catalogue
# order. Where the spec gives variants, the default is the general case (e.g. DUPLICATE_THERAPY
# is WARNING, CRITICAL only for two NSAIDs; NOT_RECOMMENDED is INFO, WARNING for benzodiazepines).
EXPECTED_CATALOGUE: dict[str, tuple[str, Severity]] = {
    "ACETAMINOPHEN_DAILY_MAX": ("HD", C),
    "DOSE_ABOVE_MAX": ("HD", C),
    "DOSE_ABOVE_GUIDELINE_RANGE": ("HD", W),
    "NSAID_WITH_ACETAMINOPHEN": ("SR", W),
    "DUPLICATE_THERAPY": ("TD", W),
    "SEROTONERGIC_COMBINATION": ("AT", W),
    "CONTRAINDICATED_COMBINATION": ("DD", C),
    "BENZODIAZEPINE_WITH_OPIOID": ("DD", C),
    "CNS_DEPRESSANT_COMBINATION": ("AT", W),
    "MULTIPLE_NEW_AGENTS": ("SR", W),
    "ADD_BEFORE_STOPPING_INEFFECTIVE": ("SR", W),
    "START_LOW": ("HD", W),
    "TITRATION_INTERVAL": ("SR", W),
    "DOSING_SCHEDULE": ("SR", W),
    "MUSCLE_RELAXANT_DURATION": ("MX", W),
    "TRAMADOL_EXTENDED_RELEASE_START": ("SF", W),
    "SEIZURE_RISK": ("MC", W),
    "MISUSE_RISK": ("MC", W),
    "OPIOID_NOT_FIRST_LINE": ("SD", W),
    "OPIOID_DAILY_MME": ("HD", W),
    "NOT_RECOMMENDED_FOR_BACK_PAIN": ("SD", INFO),
    "NONPREFERRED_MUSCLE_RELAXANT": ("PS", INFO),
    "NSAID_RISK": ("MC", W),
    "NSAID_PREVIOUSLY_INEFFECTIVE": ("SD", W),
    "OLDER_ADULT_CAUTION": ("PA", W),
    "DULOXETINE_SUBACUTE": ("SD", INFO),
    "DRUG_CONDITION": ("MC", W),
    "UNKNOWN_DRUG": ("MS", W),
    # issue 11 (clinical fidelity)
    "LONG_ACTING_OPIOID_START": ("SF", W),
    "OPIOID_TOLERANT_ONLY": ("SF", C),
    "MME_INCOMPLETE": ("MS", W),
    "NALOXONE_NOT_PRESCRIBED": ("AD", W),
    "PATIENT_UNDER_18": ("PA", W),
    "DUPLICATE_INGREDIENT": ("ID", W),
    # issue 10: interactions with the outpatient formulary's co-medications
    "NSAID_DRUG_INTERACTION": ("DD", W),
    "OPIOID_CYP_INTERACTION": ("DD", W),
    "QT_PROLONGATION": ("DD", W),
}

# The severities each edge-driven rule may carry (clinical-rules.md).
EDGE_SEVERITIES: dict[str, set[Severity]] = {
    "NSAID_WITH_ACETAMINOPHEN": {W},
    "CONTRAINDICATED_COMBINATION": {C},
    "BENZODIAZEPINE_WITH_OPIOID": {C},
    "CNS_DEPRESSANT_COMBINATION": {W, INFO},
    "SEIZURE_RISK": {W},
    "MISUSE_RISK": {W, C},
    "NSAID_RISK": {W, INFO},
    "OLDER_ADULT_CAUTION": {W},
    "DRUG_CONDITION": {W},
    "NSAID_DRUG_INTERACTION": {W},
    "OPIOID_CYP_INTERACTION": {C, W},
    "QT_PROLONGATION": {W},
}

# drug-reference.md, "Combination products (per unit)": name to type -> (SCD RxCUI, ingredients)
COMBINATION_PRODUCTS: dict[str, tuple[str, dict[str, float]]] = {
    "Norco 5/325": ("857002", {"hydrocodone": 5, "acetaminophen": 325}),
    "Lortab 5/325": ("857002", {"hydrocodone": 5, "acetaminophen": 325}),
    "Norco 7.5/325": ("857005", {"hydrocodone": 7.5, "acetaminophen": 325}),
    "Lortab 7.5/325": ("857005", {"hydrocodone": 7.5, "acetaminophen": 325}),
    "Norco 10/325": ("856999", {"hydrocodone": 10, "acetaminophen": 325}),
    "Lortab 10/325": ("856999", {"hydrocodone": 10, "acetaminophen": 325}),
    "Vicodin 5/300": ("856987", {"hydrocodone": 5, "acetaminophen": 300}),
    "Percocet 5/325": ("1049221", {"oxycodone": 5, "acetaminophen": 325}),
    "Endocet 5/325": ("1049221", {"oxycodone": 5, "acetaminophen": 325}),
    "Percocet 7.5/325": ("1049225", {"oxycodone": 7.5, "acetaminophen": 325}),
    "Percocet 10/325": ("1049214", {"oxycodone": 10, "acetaminophen": 325}),
    "Ultracet": ("836395", {"tramadol": 37.5, "acetaminophen": 325}),
    "Ultracet 37.5/325": ("836395", {"tramadol": 37.5, "acetaminophen": 325}),
    "Tylenol with Codeine #3": ("993781", {"codeine": 30, "acetaminophen": 300}),
    "Tylenol with Codeine #4": ("993890", {"codeine": 60, "acetaminophen": 300}),
}

# drug-reference.md, CDC 2022 MME factors (per mg; fentanyl per mcg/h transdermal).
MME_FACTORS = {
    "codeine": 0.15,
    "hydrocodone": 1,
    "hydromorphone": 5,
    "methadone": 4.7,
    "morphine": 1,
    "oxycodone": 1.5,
    "oxymorphone": 3,
    "tapentadol": 0.4,
    "tramadol": 0.2,
}


def _load_copy(tmp_path: Path) -> tuple[Path, Path]:
    """Copies of both data directories, each still named ``data``."""
    interaction_dir = tmp_path / "interactions" / "data"
    dosing_dir = tmp_path / "dosing" / "data"
    shutil.copytree(INTERACTION_DATA_DIR, interaction_dir)
    shutil.copytree(DOSING_DATA_DIR, dosing_dir)
    return interaction_dir, dosing_dir


def _edit_line(path: Path, line: int, old: str, new: str) -> None:
    """Replace ``old`` by ``new`` in the 1-based ``line`` of a file (which must contain it)."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    assert old in lines[line - 1], f"{path.name} line {line} is {lines[line - 1]!r}"
    lines[line - 1] = lines[line - 1].replace(old, new, 1)
    path.write_text("".join(lines), encoding="utf-8")


def _append_line(path: Path, text: str) -> int:
    """Append a row; returns its 1-based line number."""
    content = path.read_text(encoding="utf-8")
    if not content.endswith("\n"):
        content += "\n"
    content += text + "\n"
    path.write_text(content, encoding="utf-8")
    return content.count("\n")


# --- the catalogue -----------------------------------------------------------------------------


def test_catalogue_has_exactly_the_rule_ids_of_the_spec_in_order(knowledge: Knowledge) -> None:
    """The spec's 28 rules, then the 6 of issue 11 (clinical fidelity), then issue 10's 3."""
    assert [spec.rule_id for spec in knowledge.rules] == list(EXPECTED_CATALOGUE)
    assert len(knowledge.rules) == 37


def test_catalogue_default_severities_and_ncpdp_codes_match_the_spec(
    knowledge: Knowledge,
) -> None:
    actual = {
        spec.rule_id: (spec.ncpdp_reason_code, spec.default_severity) for spec in knowledge.rules
    }
    assert actual == EXPECTED_CATALOGUE
    assert all(spec.guideline_section.strip() and spec.summary.strip() for spec in knowledge.rules)


def test_every_catalogue_rule_has_exactly_one_rule_registered(knowledge: Knowledge) -> None:
    assert set(RULES) == {spec.rule_id for spec in knowledge.rules}


# --- ingredients, classes, aliases -------------------------------------------------------------


def test_every_ingredient_class_exists(knowledge: Knowledge) -> None:
    classes = {c.class_id for c in knowledge.data.classes}
    missing = {
        (ingredient.name, class_id)
        for ingredient in knowledge.data.ingredients
        for class_id in ingredient.classes
        if class_id not in classes
    }
    assert not missing
    # quiet co-medications (statins, metformin, ...) belong to no class a rule uses
    assert {"atorvastatin", "metformin", "levothyroxine"} <= {
        ingredient.name for ingredient in knowledge.data.ingredients if not ingredient.classes
    }


def test_every_class_parent_exists(knowledge: Knowledge) -> None:
    classes = {c.class_id for c in knowledge.data.classes}
    assert all(parent in classes for c in knowledge.data.classes for parent in c.parents)


def test_every_alias_resolves_to_its_existing_ingredient(knowledge: Knowledge) -> None:
    ingredients = {i.name for i in knowledge.data.ingredients}
    salts = {salt.salt: salt.ingredient for salt in knowledge.data.salts}
    for alias in knowledge.data.aliases:
        ingredient = salts.get(alias.ingredient, alias.ingredient)  # "Anaprox": naproxen sodium
        assert ingredient in ingredients, alias
        match = knowledge.resolver.resolve(alias.alias)
        assert match is not None, alias.alias
        assert match.ingredients == ((ingredient, None),), alias.alias
        # case-insensitive
        assert knowledge.resolver.resolve(alias.alias.upper()) == match


def test_no_alias_duplicates_ignoring_case(knowledge: Knowledge) -> None:
    folded = [alias.alias.casefold() for alias in knowledge.data.aliases]
    assert len(folded) == len(set(folded))
    ingredient_names = {i.name.casefold() for i in knowledge.data.ingredients}
    assert not set(folded) & ingredient_names


def test_ingredient_names_and_rxcuis_are_unique(knowledge: Knowledge) -> None:
    names = [i.name.casefold() for i in knowledge.data.ingredients]
    assert len(names) == len(set(names))
    rxcuis = [i.rxcui for i in knowledge.data.ingredients if i.rxcui]
    rxcuis += [p.rxcui for p in knowledge.data.products if p.rxcui]
    assert len(rxcuis) == len(set(rxcuis))


def test_every_ingredient_resolves_by_name_and_rxcui(knowledge: Knowledge) -> None:
    for ingredient in knowledge.data.ingredients:
        assert knowledge.resolver.resolve(ingredient.name).ingredients == ((ingredient.name, None),)
        if ingredient.rxcui:
            match = knowledge.resolver.resolve(f"rxcui:{ingredient.rxcui}")
            assert match is not None and match.ingredients == ((ingredient.name, None),)


def test_rxcuis_match_drug_reference(knowledge: Knowledge) -> None:
    expected = {
        "acetaminophen": "161",
        "ibuprofen": "5640",
        "cyclobenzaprine": "21949",
        "tizanidine": "57258",
        "duloxetine": "72625",
        "tramadol": "10689",
        "oxycodone": "7804",
        "gabapentin": "25480",
    }
    assert {name: knowledge.index.rxcui[name] for name in expected} == expected


def test_combination_table_resolves_by_brand_and_strength_and_by_rxcui(
    knowledge: Knowledge,
) -> None:
    for name, (rxcui, ingredients) in COMBINATION_PRODUCTS.items():
        match = knowledge.resolver.resolve(name)
        assert match is not None and not match.is_ambiguous and match.is_combination, name
        assert dict(match.ingredients) == ingredients, name
        by_code = knowledge.resolver.resolve(f"rxcui:{rxcui}")
        assert by_code is not None and dict(by_code.ingredients) == ingredients, rxcui


def test_every_combination_product_of_the_drug_reference_table_is_a_product_row(
    knowledge: Knowledge,
) -> None:
    spec_codes = {rxcui for rxcui, _ in COMBINATION_PRODUCTS.values()}
    assert spec_codes <= {product.rxcui for product in knowledge.data.products}


def test_brand_sold_in_several_strengths_is_ambiguous_without_strength(
    knowledge: Knowledge,
) -> None:
    for brand in ("Norco", "Lortab", "Percocet"):
        match = knowledge.resolver.resolve(brand)
        assert match is not None and match.is_ambiguous, brand
        assert len(match.candidates) >= 3, brand  # RxNorm: Percocet also comes as 2.5/325
        assert all(knowledge.resolver.resolve(candidate) for candidate in match.candidates)


# --- classes that drive rules (drug-reference.md) ----------------------------------------------


def test_serotonergic_class_matches_drug_reference(knowledge: Knowledge) -> None:
    members = set(knowledge.index.class_members["class:serotonergic"])
    expected_in = {
        "duloxetine", "venlafaxine", "amitriptyline", "nortriptyline", "cyclobenzaprine",
        "tramadol", "tapentadol", "meperidine", "methadone", "fentanyl", "sertraline",
        "fluoxetine", "trazodone", "st john's wort", "sumatriptan", "lithium",
    }  # fmt: skip
    expected_out = {
        "ibuprofen", "naproxen", "acetaminophen", "baclofen", "tizanidine", "carisoprodol",
        "methocarbamol", "diazepam", "gabapentin", "pregabalin", "prednisone", "bupropion",
        "morphine", "hydromorphone", "oxycodone", "hydrocodone",
    }  # fmt: skip
    assert expected_in <= members
    assert not expected_out & members


def test_maoi_class_matches_drug_reference(knowledge: Knowledge) -> None:
    assert set(knowledge.index.class_members["class:maoi"]) == {
        "phenelzine",
        "tranylcypromine",
        "isocarboxazid",
        "selegiline",
        "rasagiline",
        "linezolid",
        "methylene blue",
    }


def test_beers_muscle_relaxants_exclude_tizanidine_and_baclofen(knowledge: Knowledge) -> None:
    beers = set(knowledge.index.class_members["class:beers_avoid_older_adult"])
    relaxants = set(knowledge.index.class_members["class:skeletal_muscle_relaxant"])
    assert relaxants - beers == {"tizanidine", "baclofen"}


def test_topical_route_drops_the_systemic_nsaid_class(knowledge: Knowledge) -> None:
    assert "class:nsaid" in knowledge.index.systemic_nodes["diclofenac"]
    assert "class:nsaid" not in knowledge.index.topical_nodes["diclofenac"]
    # aspirin is an NSAID only above 325 mg/day (conditional class), never by default
    assert "class:nsaid" not in knowledge.index.systemic_nodes["aspirin"]
    assert [threshold for threshold, _ in knowledge.index.conditional_nodes["aspirin"]] == [325]


def test_mme_factors_are_the_cdc_2022_table(knowledge: Knowledge) -> None:
    table = knowledge.dosing.mme
    for name, factor in MME_FACTORS.items():
        row = table.factor(name, transdermal=False)
        assert row is not None and row.factor == pytest.approx(factor) and row.unit == "mg"
    fentanyl = table.factor("fentanyl", transdermal=True)
    assert fentanyl is not None and fentanyl.factor == pytest.approx(2.4)
    assert fentanyl.unit == "mcg_per_hour"
    assert table.factor("buprenorphine", transdermal=True) is None
    assert table.factor("buprenorphine", transdermal=False) is None
    assert knowledge.dosing.mme_table == "CDC 2022"


# --- the graph ---------------------------------------------------------------------------------


def test_every_edge_rule_id_is_in_the_catalogue(knowledge: Knowledge) -> None:
    catalogue = {spec.rule_id for spec in knowledge.rules}
    assert {edge.rule_id for edge in knowledge.data.edges} <= catalogue


def test_every_edge_severity_is_one_the_spec_allows_for_its_rule(knowledge: Knowledge) -> None:
    for edge in knowledge.data.edges:
        assert edge.severity in EDGE_SEVERITIES[edge.rule_id], edge


def test_every_edge_joins_nodes_of_the_graph(knowledge: Knowledge) -> None:
    graph = knowledge.graph
    for edge in knowledge.data.edges:
        assert edge.node_a in graph and edge.node_b in graph
    interacts = [e for _, _, e in graph.edges(data="kind") if e == INTERACTS]
    assert len(interacts) == len(knowledge.data.edges)


def test_member_of_part_of_the_graph_is_acyclic(knowledge: Knowledge) -> None:
    members = membership_graph(knowledge.graph)
    assert members.number_of_edges() > 0
    assert nx.is_directed_acyclic_graph(members)
    for _source, target, kind in knowledge.graph.edges(data="kind"):
        if kind == MEMBER_OF:
            assert knowledge.graph.nodes[target]["kind"] == "class"


def test_pairwise_rules_are_graph_edges(knowledge: Knowledge) -> None:
    pairs = {(e.node_a, e.node_b, e.rule_id) for e in knowledge.data.edges}
    assert ("class:nsaid", "drug:acetaminophen", "NSAID_WITH_ACETAMINOPHEN") in pairs
    assert ("class:benzodiazepine", "class:opioid", "BENZODIAZEPINE_WITH_OPIOID") in pairs
    assert ("class:maoi", "class:serotonergic", "CONTRAINDICATED_COMBINATION") in pairs
    assert (
        "drug:tizanidine",
        "class:strong_cyp1a2_inhibitor",
        "CONTRAINDICATED_COMBINATION",
    ) in pairs


# --- loading corrupted copies ------------------------------------------------------------------


def test_an_unchanged_copy_loads_with_the_same_version(
    tmp_path: Path, knowledge: Knowledge
) -> None:
    interaction_dir, dosing_dir = _load_copy(tmp_path)
    copy = load_knowledge(interaction_dir=interaction_dir, dosing_dir=dosing_dir)
    assert copy.version == knowledge.version
    assert copy.version.startswith("2026.11.0+kb.")


def test_ingredient_with_unknown_class_names_file_and_row(tmp_path: Path) -> None:
    interaction_dir, dosing_dir = _load_copy(tmp_path)
    _edit_line(
        interaction_dir / "ingredients.csv", 5, "diclofenac,3355,nsaid,", "diclofenac,3355,nsaidz,"
    )
    with pytest.raises(DataError, match=r"ingredients\.csv row 5: unknown class 'nsaidz'"):
        load_knowledge(interaction_dir=interaction_dir, dosing_dir=dosing_dir)


@pytest.mark.parametrize(
    ("bad", "problem"),
    [("eight hundred", "not a number"), ("-800", "positive number")],
)
def test_dose_limit_with_bad_number_names_file_and_row(
    tmp_path: Path, bad: str, problem: str
) -> None:
    interaction_dir, dosing_dir = _load_copy(tmp_path)
    _edit_line(
        dosing_dir / "dose_limits.csv",
        4,
        "ibuprofen,oral,any,0,800,",
        f"ibuprofen,oral,any,0,{bad},",
    )
    with pytest.raises(
        DataError, match=rf"dose_limits\.csv row 4: column 'max_mg_per_dose'.*{problem}"
    ):
        load_knowledge(interaction_dir=interaction_dir, dosing_dir=dosing_dir)


def test_duplicate_alias_ignoring_case_names_file_and_row(tmp_path: Path) -> None:
    interaction_dir, dosing_dir = _load_copy(tmp_path)
    row = _append_line(interaction_dir / "aliases.csv", "TYLENOL,acetaminophen,brand,test")
    with pytest.raises(DataError, match=rf"aliases\.csv row {row}: alias 'TYLENOL'"):
        load_knowledge(interaction_dir=interaction_dir, dosing_dir=dosing_dir)


def test_alias_to_unknown_ingredient_names_file_and_row(tmp_path: Path) -> None:
    interaction_dir, dosing_dir = _load_copy(tmp_path)
    row = _append_line(interaction_dir / "aliases.csv", "Fakeprofen,fakeprofen,brand,test")
    with pytest.raises(
        DataError, match=rf"aliases\.csv row {row}: unknown ingredient 'fakeprofen'"
    ):
        load_knowledge(interaction_dir=interaction_dir, dosing_dir=dosing_dir)


def test_edge_with_unknown_rule_id_names_file_and_row(tmp_path: Path) -> None:
    interaction_dir, dosing_dir = _load_copy(tmp_path)
    _edit_line(
        interaction_dir / "interactions.csv", 2, "NSAID_WITH_ACETAMINOPHEN", "NSAID_PLUS_APAP"
    )
    with pytest.raises(
        DataError, match=r"interactions\.csv row 2: unknown rule id 'NSAID_PLUS_APAP'"
    ):
        load_knowledge(interaction_dir=interaction_dir, dosing_dir=dosing_dir)


def test_edge_with_unknown_node_names_file_and_row(tmp_path: Path) -> None:
    interaction_dir, dosing_dir = _load_copy(tmp_path)
    _edit_line(interaction_dir / "interactions.csv", 3, "class:benzodiazepine", "class:benzo")
    with pytest.raises(DataError, match=r"interactions\.csv row 3: unknown node 'class:benzo'"):
        load_knowledge(interaction_dir=interaction_dir, dosing_dir=dosing_dir)


def test_dosing_row_with_unknown_rule_id_names_file_and_row(tmp_path: Path) -> None:
    interaction_dir, dosing_dir = _load_copy(tmp_path)
    _edit_line(dosing_dir / "course_limits.csv", 3, "MUSCLE_RELAXANT_DURATION", "RELAXANT_COURSE")
    with pytest.raises(
        DataError, match=r"course_limits\.csv row 3: unknown rule id 'RELAXANT_COURSE'"
    ):
        load_knowledge(interaction_dir=interaction_dir, dosing_dir=dosing_dir)


def test_starting_dose_for_unknown_ingredient_names_file_and_row(tmp_path: Path) -> None:
    interaction_dir, dosing_dir = _load_copy(tmp_path)
    _edit_line(dosing_dir / "starting_doses.csv", 2, "duloxetine,30", "duloxetin,30")
    with pytest.raises(
        DataError, match=r"starting_doses\.csv row 2: unknown ingredient 'duloxetin'"
    ):
        load_knowledge(interaction_dir=interaction_dir, dosing_dir=dosing_dir)


def test_class_hierarchy_cycle_is_rejected(tmp_path: Path) -> None:
    interaction_dir, dosing_dir = _load_copy(tmp_path)
    # antidepressant -> cns_active already; make cns_active a child of antidepressant
    _edit_line(
        interaction_dir / "classes.csv",
        4,
        "cns_active,CNS-active drugs,,",
        "cns_active,CNS-active drugs,antidepressant,",
    )
    with pytest.raises(DataError, match=r"classes\.csv.*cycle"):
        load_knowledge(interaction_dir=interaction_dir, dosing_dir=dosing_dir)


def test_missing_data_file_is_named(tmp_path: Path) -> None:
    interaction_dir, dosing_dir = _load_copy(tmp_path)
    (interaction_dir / "rules.csv").unlink()
    with pytest.raises(DataError, match=r"rules\.csv: data file missing"):
        load_knowledge(interaction_dir=interaction_dir, dosing_dir=dosing_dir)


def test_catalogue_row_without_rule_function_stops_the_checker(tmp_path: Path) -> None:
    from regimenguard.regimen.engine import RegimenChecker

    interaction_dir, dosing_dir = _load_copy(tmp_path)
    _append_line(interaction_dir / "rules.csv", "NEW_RULE,INFO,SD,Guideline: x,A new rule.,test")
    knowledge = load_knowledge(interaction_dir=interaction_dir, dosing_dir=dosing_dir)
    with pytest.raises(DataError, match="NEW_RULE"):
        RegimenChecker(knowledge)


def test_knowledge_base_version_changes_when_any_data_file_changes(
    tmp_path: Path, knowledge: Knowledge
) -> None:
    interaction_dir, dosing_dir = _load_copy(tmp_path)
    versions = {knowledge.version}
    edits = [
        (dosing_dir / "dose_limits.csv", 5, "FDA label (Naprosyn)", "FDA label (Naprosyn) 2026"),
        (interaction_dir / "aliases.csv", 2, "brand,RxNorm", "brand,RxNorm 2026"),
    ]
    for path, line, old, new in edits:
        _edit_line(path, line, old, new)
        changed = load_knowledge(interaction_dir=interaction_dir, dosing_dir=dosing_dir)
        assert changed.version not in versions, path.name
        assert changed.version.split("+")[0] == knowledge.version.split("+")[0]  # same release
        versions.add(changed.version)
