"""The interaction graph: ingredient, class and patient-condition nodes.

``member_of`` edges run from an ingredient to its classes and from a class to its parent classes;
``interacts`` edges join two nodes and carry the rule id, severity and source of an interaction.
The graph is built and validated once at start-up; requests never traverse it (see index.py).
"""

from __future__ import annotations

import networkx as nx

from regimenguard.interactions.knowledge_base import CONDITIONS, DataError, InteractionData

MEMBER_OF = "member_of"
INTERACTS = "interacts"


def class_node(class_id: str) -> str:
    return f"class:{class_id}"


def drug_node(name: str) -> str:
    return f"drug:{name}"


def condition_node(name: str) -> str:
    return f"condition:{name}"


def build_graph(data: InteractionData) -> nx.MultiDiGraph:
    """Build the graph from validated data and check its structure."""
    graph = nx.MultiDiGraph(version=data.version)
    graph.add_nodes_from(
        (class_node(c.class_id), {"kind": "class", "record": c}) for c in data.classes
    )
    graph.add_nodes_from(
        (drug_node(i.name), {"kind": "drug", "record": i}) for i in data.ingredients
    )
    graph.add_nodes_from((condition_node(c), {"kind": "condition"}) for c in sorted(CONDITIONS))
    graph.add_edges_from(
        (class_node(c.class_id), class_node(parent), {"kind": MEMBER_OF})
        for c in data.classes
        for parent in c.parents
    )
    graph.add_edges_from(
        (drug_node(i.name), class_node(class_id), {"kind": MEMBER_OF})
        for i in data.ingredients
        for class_id in i.classes
    )
    graph.add_edges_from(
        (edge.node_a, edge.node_b, {"kind": INTERACTS, "position": position, "record": edge})
        for position, edge in enumerate(data.edges)
    )
    _check_structure(graph)
    return graph


def membership_graph(graph: nx.MultiDiGraph) -> nx.DiGraph:
    """The ``member_of`` edges alone, as a simple directed graph."""
    members = nx.DiGraph()
    members.add_nodes_from(graph.nodes(data=True))
    members.add_edges_from(
        (source, target) for source, target, kind in graph.edges(data="kind") if kind == MEMBER_OF
    )
    return members


def class_hierarchy(graph: nx.MultiDiGraph) -> nx.DiGraph:
    """The ``member_of`` edges between classes alone (an ingredient is never a parent, so
    cycles and class closures need only these)."""
    classes = nx.DiGraph()
    classes.add_nodes_from(
        (node, attributes)
        for node, attributes in graph.nodes(data=True)
        if attributes["kind"] == "class"
    )
    classes.add_edges_from(
        (source, target)
        for source, target, kind in graph.edges(data="kind")
        if kind == MEMBER_OF and source in classes
    )
    return classes


def _check_structure(graph: nx.MultiDiGraph) -> None:
    members = class_hierarchy(graph)
    if not nx.is_directed_acyclic_graph(members):
        cycle = " -> ".join(source for source, _ in nx.find_cycle(members))
        raise DataError(f"classes.csv: the class hierarchy has a cycle: {cycle}")
    for source, target, kind in graph.edges(data="kind"):
        if kind == MEMBER_OF and graph.nodes[target]["kind"] != "class":
            raise DataError(f"{source} is a member of {target}, which is not a class")
    for source, target, kind in graph.edges(data="kind"):
        if (
            kind == INTERACTS
            and graph.nodes[source]["kind"] == graph.nodes[target]["kind"] == "condition"
        ):
            raise DataError(f"interactions.csv: edge {source} - {target} joins two conditions")
