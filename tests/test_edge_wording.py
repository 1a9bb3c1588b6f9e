"""Edge findings worded at start-up (regimenguard.regimen.edge_wording) read as the data says.

The words of an edge that no request changes are compiled once; a request only joins drug names
into them. Which end of an edge is the patient condition is the data's choice and does not
change the finding; an ingredient name that could be read as a node stops start-up.
"""

from __future__ import annotations

import csv
import shutil
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType

import pytest

from regimenguard.interactions.datafile import DataError
from regimenguard.interactions.knowledge_base import DATA_DIR
from regimenguard.regimen.edge_wording import CONFIRMATION_NOTE, compile_edge_wordings
from regimenguard.regimen.engine import RegimenChecker
from regimenguard.regimen.facts import EdgeHit
from regimenguard.regimen.knowledge import Knowledge, load_knowledge
from regimenguard.regimen.model import Patient, RegimenRequest
from regimenguard.regimen.rules.interaction_edges import _sentence
from tests.conftest import AS_OF
from tests.rule_helpers import order


def test_the_confirmation_note_follows_only_unconfirmed_edges(knowledge: Knowledge) -> None:
    wordings = knowledge.compiled.edge_wordings
    assert len(wordings) == len(knowledge.index.edges)
    for edge, wording in zip(knowledge.index.edges, wordings, strict=True):
        assert wording.tail.startswith(f": {edge.rationale}")
        assert wording.tail.endswith(CONFIRMATION_NOTE) is edge.needs_confirmation
        assert len(wording.presence) == len(edge.states_presence_of)


def test_an_unconfirmed_interaction_says_so(check) -> None:  # type: ignore[no-untyped-def]
    result = check(order("duloxetine", 60, 1), order("thioridazine", 50, 2))
    [finding] = [f for f in result.findings if f.rule_id == "CONTRAINDICATED_COMBINATION"]
    assert finding.drugs == ("duloxetine", "thioridazine")
    assert finding.message.startswith("Duloxetine with thioridazine: ")
    assert finding.message.endswith(CONFIRMATION_NOTE)


def test_an_ingredient_name_with_a_colon_stops_start_up(knowledge: Knowledge) -> None:
    index = knowledge.index
    with_colon = replace(index, systemic_nodes={**index.systemic_nodes, "drug:x": frozenset()})
    with pytest.raises(DataError, match="drug:x"):
        compile_edge_wordings(with_colon)


def _conditions_first(tmp_path: Path) -> Path:
    """The interaction data with every drug-condition edge written condition first."""
    directory = tmp_path / "data"
    shutil.copytree(DATA_DIR, directory)
    (directory / "interaction_data.snapshot").unlink(missing_ok=True)
    path = directory / "interactions.csv"
    with path.open(newline="", encoding="utf-8") as file:
        reader = csv.DictReader(file)
        columns, rows = reader.fieldnames, list(reader)
    assert columns is not None
    swapped = 0
    for row in rows:
        if row["node_b"].startswith("condition:"):
            row["node_a"], row["node_b"] = row["node_b"], row["node_a"]
            swapped += 1
    assert swapped >= 5
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return directory


def test_a_condition_at_either_end_of_an_edge_reads_the_same(
    tmp_path: Path, checker: RegimenChecker
) -> None:
    mirrored = RegimenChecker(load_knowledge(interaction_dir=_conditions_first(tmp_path)))
    requests = [
        (
            (order("ibuprofen", 400, 3), order("sertraline", 50, 1)),
            Patient(age_years=72, renal_impairment=True, gi_bleed_history=True),
        ),
        (
            (order("duloxetine", 60, 1), order("tizanidine", 4, 3)),
            Patient(age_years=40, hepatic_impairment=True, alcohol_use_disorder=True),
        ),
        ((order("amitriptyline", 25, 1), order("cyclobenzaprine", 10, 3)), Patient(age_years=80)),
    ]
    for medications, patient in requests:
        request = RegimenRequest("mirrored", AS_OF, patient, medications)
        expected = checker.check(request)
        assert any("in a patient" in finding.message for finding in expected.findings)
        assert mirrored.check(request).findings == expected.findings


def test_a_drug_with_a_condition_reads_as_worded_per_request(knowledge: Knowledge) -> None:
    """The sentences of one drug with a condition, worded at start-up, are those a request
    would word (and cover the NSAIDs of the renal-impairment edge)."""
    checked = 0
    for position, (edge, wording) in enumerate(
        zip(knowledge.index.edges, knowledge.compiled.edge_wordings, strict=True)
    ):
        bare = replace(wording, alone_a=MappingProxyType({}), alone_b=MappingProxyType({}))
        for name, text in wording.alone_a.items():
            hit = EdgeHit(edge, (name,), (), position)
            assert _sentence(wording, hit, (name,), ()) == text
            assert _sentence(bare, hit, (name,), ()) == text
            checked += 1
        for name, text in wording.alone_b.items():
            hit = EdgeHit(edge, (), (name,), position)
            assert _sentence(bare, hit, (), (name,)) == text
            checked += 1
        if "condition:renal_impairment" in (edge.node_a, edge.node_b) and "nsaid" in edge.node_a:
            assert {"ibuprofen", "naproxen", "ketorolac"} <= set(wording.alone_a)
    assert checked > 50


def test_a_drug_pair_reads_as_worded_per_request(knowledge: Knowledge) -> None:
    """The halves of a drug-drug edge's sentence, worded at start-up, join into the sentence a
    request would word, for every pair of ingredients that can realise its two ends (the label
    alone for a ``drug:`` end's own ingredient)."""
    checked = 0
    for position, (edge, wording) in enumerate(
        zip(knowledge.index.edges, knowledge.compiled.edge_wordings, strict=True)
    ):
        if edge.node_a.startswith("condition:") or edge.node_b.startswith("condition:"):
            assert not wording.pair_first and not wording.pair_rest
            continue
        assert wording.pair_first and wording.pair_rest, edge
        bare = replace(wording, pair_first=MappingProxyType({}), pair_rest=MappingProxyType({}))
        for a in wording.pair_first:
            for b in wording.pair_rest:
                hit = EdgeHit(edge, (a,), (b,), position)
                expected = _sentence(bare, hit, (a,), (b,))
                assert _sentence(wording, hit, (a,), (b,)) == expected
                checked += 1
    assert checked > 300
    # e.g. an opioid with a gabapentinoid, and acetaminophen (a ``drug:`` end) by its label
    samples = {
        (edge.node_a, edge.node_b): wording
        for edge, wording in zip(
            knowledge.index.edges, knowledge.compiled.edge_wordings, strict=True
        )
    }
    wording = samples["class:nsaid", "drug:acetaminophen"]
    assert wording.pair_first["ibuprofen"] == "Systemic NSAIDs (ibuprofen)"
    assert wording.pair_rest["acetaminophen"].startswith(" with acetaminophen: The guideline")
