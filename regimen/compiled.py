"""The knowledge base compiled at start-up into integer masks (issue 13 point 2).

The networkx graph stays the source that is built and validated; from its index this module
gives every node (ingredient ``drug:``, ``class:``, ``condition:``) and every marker rules are
gated on (``order:start``, ``edges:RULE_ID``, ...) one bit, so that per request:

- the nodes present in a regimen are one integer (the OR of its ingredients' masks);
- a rule whose trigger mask does not meet that integer is skipped with one AND;
- the interaction edges that fire are ``A & B``, where ``A`` has a bit for every edge whose
  ``node_a`` is present and ``B`` for every edge whose ``node_b`` is: both ends present.

Nothing here depends on a request; it is built once and never changes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import networkx as nx

from regimenguard.interactions.datafile import DataError
from regimenguard.interactions.index import InteractionIndex
from regimenguard.interactions.knowledge_base import InteractionEdge
from regimenguard.interactions.severity import Severity
from regimenguard.regimen.edge_wording import EdgeWording, compile_edge_wordings
from regimenguard.regimen.model import PATIENT_CONDITIONS, OrderAction

# Markers rules are gated on besides graph nodes (see regimenguard.regimen.facts): what an order does, an
# order that did not resolve, one ingredient in two active orders.
ACTION_MARKERS = {action: f"order:{action.value}" for action in OrderAction}
UNRESOLVED = "order:unresolved"
REPEATED_INGREDIENT = "order:repeated_ingredient"
# What one active order alone must bring for a rule to be able to fire (regimenguard.regimen.facts,
# ``order_rule_markers``): an opioid started in a long-acting form, or in a form (or at an
# amount) for opioid-tolerant patients only, not for opioid use disorder; an SNRI started for
# back pain. And an order of an opioid overdose reversal agent alone (naloxone, not Suboxone).
REVERSAL_AGENT_ALONE = "order:overdose_reversal_agent_alone"
LONG_ACTING_OPIOID_START = "order:long_acting_opioid_start"
TOLERANT_ONLY_OPIOID_START = "order:tolerant_only_opioid_start"
SNRI_START = "order:snri_start_for_back_pain"
ORDER_MARKERS = (
    *ACTION_MARKERS.values(),
    UNRESOLVED,
    REPEATED_INGREDIENT,
    LONG_ACTING_OPIOID_START,
    TOLERANT_ONLY_OPIOID_START,
    SNRI_START,
    REVERSAL_AGENT_ALONE,
)


def edge_marker(rule_id: str) -> str:
    """The marker present when an edge of ``rule_id`` fired (``edges:RULE_ID``)."""
    return f"edges:{rule_id}"


def schedule_marker(rule_id: str) -> str:
    """The marker present when a back-pain order breaks a scheduling constraint of ``rule_id``
    (schedule_constraints.csv): ``schedule:RULE_ID``."""
    return f"schedule:{rule_id}"


# (the edge, its position, node_a, node_b, requires_any, states_presence_of, rule_id, the bit
# of its rule's ``edges:RULE_ID`` marker as a mask)
EdgeRow = tuple[InteractionEdge, int, str, str, tuple[str, ...], tuple[str, ...], str, int]


# an ingredient's (RxCUI or "", graph nodes, class ids) for one kind of route
IngredientRow = tuple[str, frozenset[str], tuple[str, ...]]


@dataclass(frozen=True, slots=True)
class NodeMasks:
    """One set of nodes as masks: the nodes, the edges at their ``node_a``, at their ``node_b``."""

    nodes: int
    edges_a: int
    edges_b: int


@dataclass(frozen=True, slots=True)
class CompiledKnowledge:
    # node or marker -> its bit number; and back
    bit: Mapping[str, int]
    names: tuple[str, ...]
    # the node sets of the index (each ingredient's by route, each condition) -> their masks
    known_sets: Mapping[frozenset[str], NodeMasks]
    # edge position -> the bit of its rule's ``edges:RULE_ID`` marker
    edge_rule_bit: tuple[int, ...]
    # node -> edges (as a mask of positions) with that node at end a, and at end b
    edges_at_a: Mapping[str, int]
    edges_at_b: Mapping[str, int]
    # condition node -> its masks
    conditions: Mapping[str, NodeMasks]
    # edge position -> the words of its findings that no request changes (regimen.edge_wording)
    edge_wordings: tuple[EdgeWording, ...]
    # edge position -> (node_a, node_b, rule_id, severity): its FiredInteraction's fields but
    # the drugs (regimenguard.regimen.engine.summary)
    edge_summaries: tuple[tuple[str, str, str, Severity], ...] = ()
    # an edge's bit (``1 << position``) -> what the facts read of it as one tuple
    # (regimenguard.regimen.facts._edge_hits): its lowest bit of a mask of fired edges is the key
    edge_rows: Mapping[int, EdgeRow] = field(default_factory=dict)
    # each patient condition's node, in the order of PATIENT_CONDITIONS (the Patient's flags)
    patient_condition_nodes: tuple[str, ...] = ()
    # ingredient -> (its RxCUI or "", its nodes, its classes) for a systemic route, and for a
    # topical one: what an order's resolution reads of the index in one look-up
    # (regimenguard.regimen.resolution)
    systemic_ingredients: Mapping[str, IngredientRow] = field(default_factory=dict)
    topical_ingredients: Mapping[str, IngredientRow] = field(default_factory=dict)

    def mask(self, nodes: Iterable[str]) -> int:
        """The mask of ``nodes``; DataError naming any the knowledge base does not have."""
        bit = self.bit
        unknown = sorted(node for node in nodes if node not in bit)
        if unknown:
            raise DataError(f"not nodes of the knowledge base: {', '.join(unknown)}")
        value = 0
        for node in nodes:
            value |= 1 << bit[node]
        return value

    def masks_of(self, nodes: frozenset[str]) -> NodeMasks:
        """An ingredient's masks: the compiled ones, or (for a node set a request changed: a
        class held only above a dose, one an indication drops) computed."""
        known = self.known_sets.get(nodes)
        if known is not None:
            return known
        return _node_masks(nodes, self.bit, self.edges_at_a, self.edges_at_b)

    def nodes_in(self, mask: int) -> list[str]:
        """The names of the bits set in ``mask``, by bit number."""
        return [self.names[position] for position in bits(mask)]


def bits(mask: int) -> Iterator[int]:
    """The positions of the bits set in ``mask``, lowest first."""
    while mask:
        low = mask & -mask
        yield low.bit_length() - 1
        mask ^= low


def compile_knowledge(
    graph: nx.MultiDiGraph, index: InteractionIndex, rule_ids: Iterable[str]
) -> CompiledKnowledge:
    """Bits for every node of the graph and every marker; masks for the index's node sets."""
    rule_ids = tuple(rule_ids)
    nodes: dict[str, None] = dict.fromkeys(sorted(graph.nodes))
    nodes.update(dict.fromkeys(ORDER_MARKERS))
    nodes.update(dict.fromkeys(edge_marker(rule_id) for rule_id in rule_ids))
    nodes.update(dict.fromkeys(schedule_marker(rule_id) for rule_id in rule_ids))
    names = tuple(nodes)
    bit = {name: position for position, name in enumerate(names)}
    edges_at_a: dict[str, int] = {}
    edges_at_b: dict[str, int] = {}
    for position, edge in enumerate(index.edges):
        edges_at_a[edge.node_a] = edges_at_a.get(edge.node_a, 0) | 1 << position
        edges_at_b[edge.node_b] = edges_at_b.get(edge.node_b, 0) | 1 << position
    known: dict[frozenset[str], NodeMasks] = {}
    for node_set in (*index.systemic_nodes.values(), *index.topical_nodes.values()):
        known[node_set] = _node_masks(node_set, bit, edges_at_a, edges_at_b)
    conditions = {
        node: _node_masks((node,), bit, edges_at_a, edges_at_b)
        for node in index.condition_nodes.values()
    }
    condition_nodes = index.condition_nodes
    missing = [flag for flag in PATIENT_CONDITIONS if flag not in condition_nodes]
    if missing:
        raise DataError(f"patient conditions without a graph node: {', '.join(missing)}")
    # plain dicts, not read-only views, for what is read per request or per new order (bit,
    # known_sets, conditions, the rows: a mappingproxy's look-up is a call more); nothing
    # writes to them once compiled
    edge_rows: dict[int, EdgeRow] = {
        1 << position: (
            edge,
            position,
            edge.node_a,
            edge.node_b,
            edge.requires_any,
            edge.states_presence_of,
            edge.rule_id,
            1 << bit[edge_marker(edge.rule_id)],
        )
        for position, edge in enumerate(index.edges)
    }
    return CompiledKnowledge(
        bit=bit,
        names=names,
        known_sets=known,
        edge_rule_bit=tuple(bit[edge_marker(edge.rule_id)] for edge in index.edges),
        edges_at_a=MappingProxyType(edges_at_a),
        edges_at_b=MappingProxyType(edges_at_b),
        conditions=conditions,
        edge_wordings=compile_edge_wordings(index),
        edge_summaries=tuple(
            (edge.node_a, edge.node_b, edge.rule_id, edge.severity) for edge in index.edges
        ),
        edge_rows=edge_rows,
        patient_condition_nodes=tuple(condition_nodes[flag] for flag in PATIENT_CONDITIONS),
        systemic_ingredients=_ingredient_rows(index, index.systemic_nodes, index.systemic_classes),
        topical_ingredients=_ingredient_rows(index, index.topical_nodes, index.topical_classes),
    )


def _ingredient_rows(
    index: InteractionIndex,
    nodes: Mapping[str, frozenset[str]],
    classes: Mapping[str, tuple[str, ...]],
) -> dict[str, IngredientRow]:
    """Each ingredient of ``nodes`` (one kind of route) -> its RxCUI, nodes and classes."""
    rxcui = index.rxcui
    return {name: (rxcui.get(name, ""), nodes[name], classes[name]) for name in nodes}


def _node_masks(
    nodes: Iterable[str], bit: Mapping[str, int], at_a: Mapping[str, int], at_b: Mapping[str, int]
) -> NodeMasks:
    mask = edges_a = edges_b = 0
    for node in nodes:
        mask |= 1 << bit[node]
        edges_a |= at_a.get(node, 0)
        edges_b |= at_b.get(node, 0)
    return NodeMasks(mask, edges_a, edges_b)
