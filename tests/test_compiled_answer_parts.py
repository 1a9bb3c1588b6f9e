"""The per-edge and per-condition tables compiled at start-up equal what they replace, and the
answer's parts built from them (fired interactions, patient conditions, acknowledged findings,
the findings' order) equal those built the general way, on generated regimens."""

from __future__ import annotations

import dataclasses
import itertools

import pytest

from bench.bulkgen import Generator
from bench.regimens import AS_OF_DATE
from regimenguard.regimen.compiled import edge_marker
from regimenguard.regimen.engine import RegimenChecker, summary
from regimenguard.regimen.facts import (
    IngredientUse,
    RegimenFacts,
    _conditions,
    _single_use,
    build_facts,
)
from regimenguard.regimen.knowledge import Knowledge
from regimenguard.regimen.model import (
    PATIENT_CONDITIONS,
    Acknowledgement,
    Finding,
    FiredInteraction,
    IngredientDose,
    MedicationOrder,
    OrderAction,
    Patient,
    RegimenRequest,
    Route,
    Severity,
)
from regimenguard.regimen.validation import (
    CONTROL_CHARACTERS,
    RequestInvalid,
    normalized,
    order_violations,
    request_error,
)
from regimenguard.server.convert import decode_request
from regimenguard.v1 import regimen_checker_pb2 as pb

SAMPLE = 1500


def _requests(knowledge: Knowledge, unique: bool) -> list[RegimenRequest]:
    generator = Generator(unique_orders=unique)
    requests = []
    for i in range(0, SAMPLE * 3, 3):
        message = pb.CheckRegimenRequest.FromString(generator.regimen(i))
        decoded = decode_request(message, knowledge)
        if isinstance(decoded, RequestInvalid):
            continue
        if request_error(decoded, knowledge.settings, knowledge) is None:
            requests.append(normalized(decoded))
    return requests


def test_edge_rows_are_each_edges_fields(knowledge: Knowledge) -> None:
    compiled = knowledge.compiled
    edges = knowledge.index.edges
    assert sorted(compiled.edge_rows) == [1 << position for position in range(len(edges))]
    for position, edge in enumerate(edges):
        assert compiled.edge_rows[1 << position] == (
            edge,
            position,
            edge.node_a,
            edge.node_b,
            edge.requires_any,
            edge.states_presence_of,
            edge.rule_id,
            1 << compiled.bit[edge_marker(edge.rule_id)],
        )
        assert compiled.edge_summaries[position] == (
            edge.node_a,
            edge.node_b,
            edge.rule_id,
            edge.severity,
        )


def test_patient_condition_nodes_follow_the_patient_flags(knowledge: Knowledge) -> None:
    nodes = knowledge.index.condition_nodes
    assert knowledge.compiled.patient_condition_nodes == tuple(
        nodes[flag] for flag in PATIENT_CONDITIONS
    )


def _reference_conditions(
    patient: Patient, knowledge: Knowledge, older_adult: bool, minor: bool
) -> frozenset[str]:
    nodes = knowledge.index.condition_nodes
    present = {nodes[flag] for flag in PATIENT_CONDITIONS if getattr(patient, flag)}
    if older_adult:
        present.add(nodes["older_adult"])
    if minor:
        present.add(nodes["minor"])
    return frozenset(present)


def test_conditions_are_the_flags_that_hold(knowledge: Knowledge) -> None:
    flags = PATIENT_CONDITIONS
    compared = 0
    # every single flag, every pair, all of them; with and without the age conditions
    chosen = [(), *itertools.combinations(flags, 1), *itertools.combinations(flags, 2), flags]
    for held in chosen:
        patient = Patient(**dict.fromkeys(held, True))
        for older_adult, minor in ((False, False), (True, False), (False, True)):
            found = _conditions(patient, knowledge, older_adult=older_adult, minor=minor)
            assert found == _reference_conditions(patient, knowledge, older_adult, minor), held
            compared += 1
    assert compared == 3 * len(chosen)
    everything = _conditions(
        Patient(**dict.fromkeys(flags, True)), knowledge, older_adult=True, minor=False
    )
    assert len(everything) == len(flags) + 1


def _reference_interactions(facts: RegimenFacts) -> tuple[FiredInteraction, ...]:
    hits = [*facts.edge_hits]
    for found in facts.washout_hits_by_rule.values():
        hits.extend(washout.hit for washout in found)
    return tuple(
        FiredInteraction(
            hit.edge.node_a, hit.edge.node_b, hit.edge.rule_id, hit.edge.severity, hit.drugs
        )
        for hit in hits
    )


@pytest.mark.parametrize("unique", [False, True], ids=["orders-repeat", "every-order-unique"])
def test_summary_interactions_are_the_edges_fields_and_drugs(
    knowledge: Knowledge, unique: bool
) -> None:
    fired = 0
    for request in _requests(knowledge, unique):
        facts = build_facts(request, knowledge)
        made = summary(facts)
        assert made.interactions == _reference_interactions(facts)
        assert all(type(item) is FiredInteraction for item in made.interactions)
        assert made.serotonergic_agents == len(facts.serotonergic)
        assert made.oud_treatment_drugs == facts.oud_treatment_drugs
        assert made.mme_uncounted_drugs == tuple(sorted({n for _, n in facts.mme_uncounted}))
        fired += len(made.interactions)
    assert fired > SAMPLE  # the sample fires interactions, not only quiet regimens


def test_a_hit_of_another_edge_table_is_summarised_from_its_edge(knowledge: Knowledge) -> None:
    """A hit whose position is not its edge's row here is worded from the edge it carries."""
    generator = Generator()
    for i in range(200):
        message = pb.CheckRegimenRequest.FromString(generator.regimen(i))
        request = decode_request(message, knowledge)
        if isinstance(request, RequestInvalid) or request_error(request, knowledge.settings):
            continue
        facts = build_facts(normalized(request), knowledge)
        if len(facts.edge_hits) > 1:
            break
    else:
        pytest.fail("no regimen with two interactions")
    first, second = facts.edge_hits[:2]
    moved = dataclasses.replace(first, position=second.position)
    facts.edge_hits = (moved, *facts.edge_hits[1:])
    assert summary(facts).interactions[0] == _reference_interactions(facts)[0]
    assert summary(facts).interactions[0].rule_id == first.edge.rule_id


def _reference_acknowledged(
    finding: Finding, acknowledgements: tuple[Acknowledgement, ...]
) -> bool:
    """Whether an acknowledgement covers ``finding`` (of a regimen whose drugs are canonical)."""
    return finding.severity < Severity.CRITICAL and any(
        ack.rule_id == finding.rule_id and (not ack.drugs or set(ack.drugs) >= set(finding.drugs))
        for ack in acknowledgements
    )


@pytest.mark.parametrize("unique", [False, True], ids=["orders-repeat", "every-order-unique"])
def test_findings_are_in_the_reference_order_and_acknowledged_alike(
    knowledge: Knowledge, unique: bool
) -> None:
    checker = RegimenChecker(knowledge)
    position = {spec.rule_id: i for i, spec in enumerate(knowledge.rules)}
    acknowledged = several = 0
    for i, request in enumerate(_requests(knowledge, unique)):
        found = checker.check(request).findings
        reference = sorted(
            found, key=lambda f: (-f.severity, position[f.rule_id], f.drugs, f.message)
        )
        assert list(found) == reference
        several += len({f.severity for f in found}) > 1
        if not found:
            continue
        # acknowledge one finding's rule: every finding of it, or only those of its drugs
        chosen = found[i % len(found)]
        acks = (Acknowledgement(chosen.rule_id, "reviewed", () if i % 2 else chosen.drugs),)
        marked = checker.check(dataclasses.replace(request, acknowledgements=acks)).findings
        expected = tuple(f._replace(acknowledged=_reference_acknowledged(f, acks)) for f in found)
        assert marked == expected
        assert all(type(f) is Finding for f in marked)
        acknowledged += sum(f.acknowledged for f in marked)
    assert acknowledged > SAMPLE // 4 and several > SAMPLE // 10


def _spoiled(request: RegimenRequest, i: int) -> RegimenRequest:
    """``request`` with one thing wrong (or nothing, for every eighth), chosen by ``i``."""
    replace = dataclasses.replace
    ack = Acknowledgement("NSAID_RISK", "reviewed with the patient")
    kind = i % 13
    if kind == 1:
        return replace(request, request_id="x" * 300)
    if kind == 2:
        return replace(request, request_id="bad\x07id")
    if kind == 3:
        return replace(request, patient=replace(request.patient, age_years=131))
    if kind == 4:
        return replace(request, patient=replace(request.patient, pain_duration_weeks=-1))
    if kind == 5:
        return replace(request, acknowledgements=(replace(ack, rule_id="NO_SUCH_RULE"),))
    if kind == 6:
        return replace(request, acknowledgements=(replace(ack, reason="   "),))
    if kind == 7:
        return replace(request, acknowledgements=(replace(ack, reason="r" * 2001),))
    if kind == 8:
        return replace(request, acknowledgements=(replace(ack, drugs=("ibu\nprofen",)),))
    if kind == 9:
        return replace(request, acknowledgements=(replace(ack, drugs=("x",) * 60),))
    if kind == 10:
        return replace(request, acknowledgements=(ack,) * 201)
    if kind == 11 and request.medications:
        first = replace(request.medications[0], dose_mg=float("nan"))
        return replace(request, medications=(first, *request.medications[1:]))
    if kind == 12 and request.medications:
        parts = (IngredientDose("ibuprofen", 200.0),) * 21
        first = replace(request.medications[0], drug="", ingredients=parts)
        return replace(request, medications=(first, *request.medications[1:]))
    return replace(request, acknowledgements=(ack,))


@pytest.mark.parametrize("unique", [False, True], ids=["orders-repeat", "every-order-unique"])
def test_request_error_with_known_order_violations_is_the_general_one(
    knowledge: Knowledge, unique: bool
) -> None:
    """Given each order's own violations (the records'), ``request_error`` answers as it
    does when it looks at every field itself: the same violations, the same reason."""
    settings = knowledge.settings
    refused = 0
    for i, request in enumerate(_requests(knowledge, unique)):
        request = _spoiled(request, i)
        orders = [
            order_violations(order, settings.max_text_length, knowledge)
            for order in request.medications
        ]
        given = request_error(request, settings, knowledge, orders=orders)
        general = request_error(request, settings, knowledge)
        if general is None:
            assert given is None, i
            continue
        assert given is not None, i
        assert (given.violations, given.reason) == (general.violations, general.reason), i
        refused += 1
    assert refused > SAMPLE * 11 // 13 - 50  # every spoiled request is refused


def _spoiled_order(order: MedicationOrder, i: int) -> MedicationOrder:
    """``order`` with one field changed (or none, for every fifteenth), chosen by ``i``."""
    replace = dataclasses.replace
    changes: list[dict[str, object]] = [
        {},
        {"dose_mg": 0.0},
        {"doses_per_day": 0.0},
        {"dose_mg": float("nan")},
        {"dose_mg": 2_000_000.0},
        {"route": Route.TRANSDERMAL, "rate_mcg_per_hour": 0.0, "dose_mg": 0.0},
        {"route": Route.TRANSDERMAL, "rate_mcg_per_hour": 25.0},
        {"stopped_on": AS_OF_DATE},
        {"action": OrderAction.STOP, "doses_per_day": 0.0, "dose_mg": 0.0},
        {"indication": "back\x00pain"},
        {"indication": "x" * 300},
        {"drug": "   "},
        {"drug": "Norco 10/325", "dose_mg": 10.0},
        {"drug": "no such drug", "dose_mg": 0.0},
        {"planned_days": -1},
    ]
    return replace(order, **changes[i % len(changes)])  # type: ignore[arg-type]


@pytest.mark.parametrize("unique", [False, True], ids=["orders-repeat", "every-order-unique"])
def test_order_violations_with_the_name_looked_up_are_the_general_ones(
    knowledge: Knowledge, unique: bool
) -> None:
    """Given what the order's drug name resolves to (the record's look-up), an order's
    violations are those found when validation looks the name up itself."""
    limit = knowledge.settings.max_text_length
    refused = compared = 0
    for i, request in enumerate(_requests(knowledge, unique)[: SAMPLE // 3]):
        for j, received in enumerate(request.medications):
            order = _spoiled_order(received, i + j)
            drug = order.drug.strip()
            match = knowledge.resolver.resolve(drug) if drug else None
            given = order_violations(order, limit, knowledge, match)
            assert given == order_violations(order, limit, knowledge), (i, j, order)
            refused += bool(given)
            compared += 1
    assert compared > SAMPLE and refused > compared // 3


def test_a_printable_text_has_no_control_character() -> None:
    """The quick test validation asks first: no character the search refuses is printable."""
    refused = [chr(code) for code in range(0x110000) if CONTROL_CHARACTERS.match(chr(code))]
    assert len(refused) == 0x20 - 1 + 0x21  # C0 but tab, DEL and C1
    assert not any(character.isprintable() for character in refused)
    assert all(f"a{character}b".isprintable() is False for character in refused)


def test_ingredient_rows_are_the_index_entries(knowledge: Knowledge) -> None:
    index, compiled = knowledge.index, knowledge.compiled
    for rows, nodes, classes in (
        (compiled.systemic_ingredients, index.systemic_nodes, index.systemic_classes),
        (compiled.topical_ingredients, index.topical_nodes, index.topical_classes),
    ):
        assert set(rows) == set(nodes) == set(classes)
        for name, row in rows.items():
            assert row == (index.rxcui.get(name, ""), nodes[name], classes[name]), name
    assert sum(bool(rxcui) for rxcui, _, _ in compiled.systemic_ingredients.values()) > 100


def test_an_orders_own_ingredient_use_is_the_one_its_class_builds(knowledge: Knowledge) -> None:
    """``_single_use`` fills an IngredientUse's slots itself: every one, as its __init__ would."""
    compared = 0
    for request in _requests(knowledge, True)[:300]:
        facts = build_facts(request, knowledge)
        for order in facts.active_orders:
            for part in order.ingredients:
                use = _single_use(order, part, knowledge)
                expected = IngredientUse(
                    use.name,
                    (order,),
                    part.mg_per_day or 0.0,
                    part.mg_per_dose,
                    part.mg_per_day is None,
                    use.nodes,
                    order.order.action is OrderAction.START,
                    not order.order.indication,
                    knowledge.compiled.masks_of(use.nodes),
                )
                assert use == expected
                assert use.within_label_at_any_age is None
                assert all(hasattr(use, name) for name in IngredientUse.__slots__)
                compared += 1
    assert compared > 600
