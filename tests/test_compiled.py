"""Issue 13 point 2: the compiled masks answer exactly what the node sets answer.

The reference here is the definition, over the facts' own sets: an edge fires when both of its
ends are present (a drug or class some active ingredient realises, or a patient condition), the
two ends are not one ingredient alone, and an escalation edge has one of its ``requires_any``; the nodes present are the members, the conditions
and the markers. The masks must say the same on 5,000 generated regimens.
"""

from __future__ import annotations

import pytest

from bench.bulkgen import Generator
from regimenguard.interactions.datafile import DataError
from regimenguard.regimen.compiled import (
    ACTION_MARKERS,
    LONG_ACTING_OPIOID_START,
    REPEATED_INGREDIENT,
    REVERSAL_AGENT_ALONE,
    SNRI_START,
    TOLERANT_ONLY_OPIOID_START,
    UNRESOLVED,
    bits,
    edge_marker,
    schedule_marker,
)
from regimenguard.regimen.facts import SCHEDULE_BREAKS, RegimenFacts, build_facts
from regimenguard.regimen.knowledge import Knowledge
from regimenguard.regimen.model import OrderAction
from regimenguard.regimen.validation import RequestInvalid, normalized, request_error
from regimenguard.regimen.vocabulary import OPIOID, OPIOID_OVERDOSE_REVERSAL, SNRI
from regimenguard.server.convert import decode_request
from regimenguard.v1 import regimen_checker_pb2 as pb

SAMPLE = 5000


def _facts(knowledge: Knowledge, generator: Generator, i: int) -> RegimenFacts | None:
    decoded = decode_request(pb.CheckRegimenRequest.FromString(generator.regimen(i)), knowledge)
    if isinstance(decoded, RequestInvalid) or request_error(decoded, knowledge.settings, knowledge):
        return None
    return build_facts(normalized(decoded), knowledge)


def _reference_edges(facts: RegimenFacts) -> list[int]:
    members, conditions = facts.members, facts.conditions
    fired = []
    for position, edge in enumerate(facts.knowledge.index.edges):
        if not all(end in members or end in conditions for end in (edge.node_a, edge.node_b)):
            continue
        a, b = members.get(edge.node_a, ()), members.get(edge.node_b, ())
        if a and b and not any(x != y for x in a for y in b):
            continue
        on_edge = {*a, *b}
        if edge.requires_any and not any(
            node in conditions or set(members.get(node, ())) - on_edge for node in edge.requires_any
        ):
            continue  # an escalation needs one of its nodes, by a drug not on the edge
        fired.append(position)
    return fired


def _reference_present(facts: RegimenFacts) -> set[str]:
    present = {*facts.members, *facts.conditions}
    present.update(edge_marker(rule_id) for rule_id in facts.edge_hits_by_rule)
    present.update(edge_marker(rule_id) for rule_id in facts.washout_hits_by_rule)
    for order in facts.active_orders:
        present.add(ACTION_MARKERS[order.order.action])
        if order.unresolved_names:
            present.add(UNRESOLVED)
        if order.ingredients and all(
            OPIOID_OVERDOSE_REVERSAL in part.nodes for part in order.ingredients
        ):
            present.add(REVERSAL_AGENT_ALONE)
    if any(len(use.orders) > 1 for use in facts.ingredients.values()):
        present.add(REPEATED_INGREDIENT)
    present.update(_reference_order_rule_markers(facts))
    return present


def _reference_order_rule_markers(facts: RegimenFacts) -> set[str]:
    """What one active order alone brings for the rules gated on it (facts.order_rule_markers)."""
    knowledge = facts.knowledge
    dosing = knowledge.dosing
    found = set()
    for order in facts.active_orders:
        medication = order.order
        started = medication.action is OrderAction.START
        for ingredient in order.ingredients:
            if medication.is_back_pain_therapy:
                for node in ingredient.nodes:
                    for constraint in dosing.schedule_constraints.get(node, ()):
                        breaks = SCHEDULE_BREAKS.get(constraint.rule_id, {})
                        if breaks.get(constraint.constraint, lambda _: False)(order):
                            found.add(schedule_marker(constraint.rule_id))
            if not started:
                continue
            if OPIOID in ingredient.nodes and not facts.is_oud_treatment(order):
                profile = knowledge.context.form(
                    ingredient.name, medication.route.value, medication.extended_release
                )
                er_rule = dosing.schedule_nodes.get("TRAMADOL_EXTENDED_RELEASE_START", frozenset())
                if profile.long_acting and er_rule.isdisjoint(ingredient.nodes):
                    found.add(LONG_ACTING_OPIOID_START)
                if profile.needs_tolerance(ingredient.mg_per_dose, ingredient.mg_per_day) and (
                    profile.tolerant_only or not medication.rate_mcg_per_hour
                ):
                    found.add(TOLERANT_ONLY_OPIOID_START)
            if medication.is_back_pain_therapy and SNRI in ingredient.nodes:
                found.add(SNRI_START)
    return found


@pytest.mark.parametrize("unique", [False, True], ids=["orders-repeat", "every-order-unique"])
def test_masks_agree_with_the_node_sets_on_generated_regimens(
    knowledge: Knowledge, unique: bool
) -> None:
    generator = Generator(unique_orders=unique)
    compiled = knowledge.compiled
    checked = fired = 0
    for i in range(0, SAMPLE // 2 * 7, 7):  # 2,500 regimens each, every template and variant
        facts = _facts(knowledge, generator, i)
        if facts is None:
            continue
        checked += 1
        assert [hit.position for hit in facts.edge_hits] == _reference_edges(facts), i
        assert set(compiled.nodes_in(facts.present)) == _reference_present(facts), i
        fired += bool(facts.edge_hits)
    assert checked >= SAMPLE // 2 - 1
    assert fired > checked // 4  # the sample exercises the edges, not only quiet regimens


def test_every_node_and_marker_has_its_own_bit(knowledge: Knowledge) -> None:
    compiled = knowledge.compiled
    assert set(knowledge.graph.nodes) <= set(compiled.bit)
    assert len(set(compiled.bit.values())) == len(compiled.bit) == len(compiled.names)
    assert compiled.nodes_in(compiled.mask(["class:nsaid", "order:start"])) == sorted(
        ["class:nsaid", "order:start"], key=compiled.bit.__getitem__
    )
    assert list(bits(0b101001)) == [0, 3, 5]


def test_an_ingredient_mask_is_its_nodes(knowledge: Knowledge) -> None:
    compiled = knowledge.compiled
    nodes = knowledge.index.systemic_nodes["ibuprofen"]
    masks = compiled.masks_of(nodes)
    assert set(compiled.nodes_in(masks.nodes)) == set(nodes)
    edges = knowledge.index.edges
    assert [p for p in bits(masks.edges_a)] == [
        p for p, edge in enumerate(edges) if edge.node_a in nodes
    ]
    topical = compiled.masks_of(knowledge.index.topical_nodes["diclofenac"])
    assert "class:nsaid" not in compiled.nodes_in(topical.nodes)  # systemic-only class


def test_a_trigger_the_knowledge_base_does_not_have_is_refused(knowledge: Knowledge) -> None:
    with pytest.raises(DataError, match="class:no_such_class"):
        knowledge.compiled.mask(["class:nsaid", "class:no_such_class"])
