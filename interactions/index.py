"""Frozen lookup indexes derived from the interaction graph at start-up.

Every per-request question (which classes does this ingredient belong to, which interactions
touch this node) is a dictionary lookup here; the graph itself is never walked per request.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import networkx as nx

from regimenguard.interactions.graph import (
    build_graph,
    class_hierarchy,
    class_node,
    condition_node,
    drug_node,
)
from regimenguard.interactions.knowledge_base import (
    CONDITION_LABELS,
    CONDITIONS,
    InteractionData,
    InteractionEdge,
    SerotonergicAdvice,
)
from regimenguard.interactions.severity import Severity


@dataclass(frozen=True, slots=True)
class InteractionIndex:
    # ingredient -> its own drug node plus every class node it belongs to, by route
    systemic_nodes: Mapping[str, frozenset[str]]
    topical_nodes: Mapping[str, frozenset[str]]
    # ingredient -> its class ids by route, sorted (what answers list as "classes")
    systemic_classes: Mapping[str, tuple[str, ...]]
    topical_classes: Mapping[str, tuple[str, ...]]
    # ingredient -> (daily mg above which it joins these class nodes, those nodes)
    conditional_nodes: Mapping[str, tuple[tuple[float, frozenset[str]], ...]]
    # node -> (the node at the other end, position of the edge in ``edges``)
    edges_by_node: Mapping[str, tuple[tuple[str, int], ...]]
    edges: tuple[InteractionEdge, ...]
    condition_nodes: Mapping[str, str]
    class_labels: Mapping[str, str]
    # class node -> every ingredient of the knowledge base in it, sorted
    class_members: Mapping[str, tuple[str, ...]]
    duplicate_severity: Mapping[str, Severity]
    rxcui: Mapping[str, str]
    serotonergic_advice: Mapping[str, SerotonergicAdvice]
    needs_confirmation: frozenset[str]

    def label(self, node: str) -> str:
        """Human words for a node: a class label, a drug or condition name."""
        kind, _, name = node.partition(":")
        if kind == "condition":
            return CONDITION_LABELS[name]
        return self.class_labels.get(node) or name


def build_index(data: InteractionData) -> tuple[nx.MultiDiGraph, InteractionIndex]:
    graph = build_graph(data)
    return graph, index_graph(graph, data)


def index_graph(graph: nx.MultiDiGraph, data: InteractionData) -> InteractionIndex:
    members = class_hierarchy(graph)
    systemic_only = {class_node(c.class_id) for c in data.classes if c.systemic_only}
    # A class's closure (itself and every class above it) is computed once, parents before
    # children (one topological order of the acyclic hierarchy), so that each closure is its own
    # node plus its parents' closures; a topical closure leaves out the systemic-only classes and
    # everything reached only through them. An ingredient's is the union over its classes.
    systemic_closures: dict[str, frozenset[str]] = {}
    topical_closures: dict[str, frozenset[str]] = {}
    for node in reversed(list(nx.topological_sort(members))):
        parents = tuple(members.successors(node))
        systemic_closures[node] = frozenset({node}.union(*(systemic_closures[p] for p in parents)))
        if node not in systemic_only:
            topical_closures[node] = frozenset(
                {node}.union(*(topical_closures[p] for p in parents if p in topical_closures))
            )
    class_closures = {"systemic": systemic_closures, "topical": topical_closures}
    systemic_nodes = {}
    topical_nodes = {}
    for ingredient in data.ingredients:
        node = drug_node(ingredient.name)
        classes = [class_node(class_id) for class_id in ingredient.classes]
        systemic_nodes[ingredient.name] = frozenset(
            {node}.union(*(class_closures["systemic"][c] for c in classes))
        )
        topical_nodes[ingredient.name] = frozenset(
            {node}.union(
                *(class_closures["topical"][c] for c in classes if c in class_closures["topical"])
            )
        )

    conditional: dict[str, list[tuple[float, frozenset[str]]]] = {}
    for row in data.conditional_classes:
        nodes = systemic_closures[class_node(row.class_id)]
        conditional.setdefault(row.ingredient, []).append((row.above_mg_per_day, nodes))

    edges_by_node: dict[str, list[tuple[str, int]]] = {}
    for position, edge in enumerate(data.edges):  # the graph's ``interacts`` edges, in order
        edges_by_node.setdefault(edge.node_a, []).append((edge.node_b, position))
        edges_by_node.setdefault(edge.node_b, []).append((edge.node_a, position))

    return InteractionIndex(
        systemic_nodes=_freeze(systemic_nodes),
        topical_nodes=_freeze(topical_nodes),
        systemic_classes=_freeze({k: _class_ids(v) for k, v in systemic_nodes.items()}),
        topical_classes=_freeze({k: _class_ids(v) for k, v in topical_nodes.items()}),
        conditional_nodes=_freeze({k: tuple(v) for k, v in conditional.items()}),
        edges_by_node=_freeze(
            {k: tuple(sorted(v, key=lambda e: e[1])) for k, v in edges_by_node.items()}
        ),
        edges=data.edges,
        condition_nodes=_freeze({name: condition_node(name) for name in CONDITIONS}),
        class_labels=_freeze({class_node(c.class_id): c.label for c in data.classes}),
        class_members=_freeze(_class_members(systemic_nodes)),
        duplicate_severity=_freeze(
            {
                class_node(c.class_id): c.duplicate_severity
                for c in data.classes
                if c.duplicate_severity
            }
        ),
        rxcui=_freeze({i.name: i.rxcui for i in data.ingredients}),
        serotonergic_advice=_freeze(
            {advice.ingredient: advice for advice in data.serotonergic_advice}
        ),
        needs_confirmation=frozenset(i.name for i in data.ingredients if i.needs_confirmation),
    )


def _class_ids(nodes: frozenset[str]) -> tuple[str, ...]:
    return tuple(sorted(node.removeprefix("class:") for node in nodes if node.startswith("class:")))


def _class_members(nodes_by_ingredient: dict[str, frozenset[str]]) -> dict[str, tuple[str, ...]]:
    members: dict[str, list[str]] = {}
    for ingredient in sorted(nodes_by_ingredient):
        for node in nodes_by_ingredient[ingredient]:
            if node.startswith("class:"):
                members.setdefault(node, []).append(ingredient)
    return {node: tuple(names) for node, names in members.items()}


def _freeze(mapping: dict) -> Mapping:  # type: ignore[type-arg]
    return MappingProxyType(dict(mapping))
