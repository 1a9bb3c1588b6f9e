"""The words of each interaction edge's finding that no request changes, compiled at start-up.

An edge finding (regimenguard.regimen.rules.interaction_edges) reads ``Opioids (oxycodone) with
gabapentinoids (gabapentin): <rationale>`` or ``Ibuprofen in a patient with renal impairment:
<rationale>``, followed by what the edge states about other nodes (``No gastroprotective agents
in the regimen.``). Only the drug names come from the request; the labels of the edge's nodes,
its rationale with or without the pharmacist-confirmation note, its recommendation, section and
NCPDP code are the edge's own. They are worded here once per edge, indexed like
``InteractionIndex.edges`` (an ``EdgeHit``'s ``position``), so that a request only joins names.

Nothing here depends on a request; it is built once with the compiled knowledge and never changes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from regimenguard.interactions.datafile import DataError
from regimenguard.interactions.index import InteractionIndex
from regimenguard.interactions.severity import Severity

CONFIRMATION_NOTE = " (interaction awaiting pharmacist confirmation)"


@dataclass(frozen=True, slots=True)
class EdgeWording:
    """One edge's request-independent words (see the module docstring)."""

    severity: Severity
    # the labels of the edge's two nodes, and ``label_a`` as a sentence's first word
    label_a: str
    label_b: str
    first_a: str
    # `` in a patient <label>``: the edge's drugs with its node_a (or node_b) a condition
    patient_a: str
    patient_b: str
    # ``: <rationale><confirmation note>``
    tail: str
    # the tail when an escalation was met: ``: <rationale without its period>, here with ``,
    # what met it, then ``.<confirmation note>``
    witness_head: str
    witness_end: str
    # each node of ``requires_any`` -> its label
    witness_labels: Mapping[str, str]
    # for each node of ``states_presence_of``, in order: the sentence's start when some of its
    # drugs are in the regimen (``Gastroprotective agents in the regimen: ``), and the whole
    # sentence when none is (``No gastroprotective agents in the regimen.``)
    presence: tuple[tuple[str, str], ...]
    recommendation: str
    section: str  # the edge's own; empty: the rule's
    ncpdp_reason_code: str  # the edge's own; empty: the rule's
    # a drug-condition edge: each ingredient that can realise its drug end (on side a, node_b
    # the condition; or on side b) -> the whole sentence for it alone, no escalation met:
    # ``Ibuprofen in a patient with renal impairment: <rationale>``
    alone_a: Mapping[str, str]
    alone_b: Mapping[str, str]
    # a drug-drug edge: the sentence of one drug on each side, no escalation met, in two
    # halves a request only joins: each ingredient that can realise node_a -> the sentence's
    # start (``Opioids (oxycodone)``; the label alone for a ``drug:`` node's own ingredient),
    # each that can realise node_b -> the rest (`` with gabapentinoids (gabapentin): <rationale>``)
    pair_first: Mapping[str, str]
    pair_rest: Mapping[str, str]


def compile_edge_wordings(index: InteractionIndex) -> tuple[EdgeWording, ...]:
    """Every edge's words, by position; DataError if an ingredient name could be read as a
    node (a finding tells the drugs of a pair from its condition by the ``:`` of a node)."""
    with_colon = sorted(name for name in index.systemic_nodes if ":" in name)
    if with_colon:
        raise DataError(f"ingredient names cannot contain ':': {', '.join(with_colon)}")
    label = index.label
    realisers = _realisers(index)
    wordings = []
    for edge in index.edges:
        confirmation = CONFIRMATION_NOTE if edge.needs_confirmation else ""
        label_a, label_b = label(edge.node_a), label(edge.node_b)
        tail = f": {edge.rationale}{confirmation}"
        alone_a, alone_b = {}, {}
        pair_first, pair_rest = {}, {}
        if edge.node_b.startswith(CONDITION):
            patient = f" in a patient {label_b}"
            alone_a = {name: f"{_sentence(name)}{patient}{tail}" for name in realisers(edge.node_a)}
        elif edge.node_a.startswith(CONDITION):
            patient = f" in a patient {label_a}"
            alone_b = {name: f"{_sentence(name)}{patient}{tail}" for name in realisers(edge.node_b)}
        else:
            first_a = _sentence(label_a)
            pair_first = {
                name: first_a if name == label_a else f"{first_a} ({name})"
                for name in realisers(edge.node_a)
            }
            pair_rest = {
                name: f" with {label_b}{tail}"
                if name == label_b
                else f" with {label_b} ({name}){tail}"
                for name in realisers(edge.node_b)
            }
        presence = []
        for node in edge.states_presence_of:
            node_label = label(node)
            presence.append(
                (_sentence(f"{node_label} in the regimen: "), f"No {node_label} in the regimen.")
            )
        wordings.append(
            EdgeWording(
                severity=edge.severity,
                label_a=label_a,
                label_b=label_b,
                first_a=_sentence(label_a),
                patient_a=f" in a patient {label_a}",
                patient_b=f" in a patient {label_b}",
                tail=tail,
                witness_head=f": {edge.rationale.rstrip('.')}, here with ",
                witness_end=f".{confirmation}",
                witness_labels=MappingProxyType({node: label(node) for node in edge.requires_any}),
                presence=tuple(presence),
                recommendation=edge.recommendation,
                section=edge.section,
                ncpdp_reason_code=edge.ncpdp_reason_code,
                alone_a=MappingProxyType(alone_a),
                alone_b=MappingProxyType(alone_b),
                pair_first=MappingProxyType(pair_first),
                pair_rest=MappingProxyType(pair_rest),
            )
        )
    return tuple(wordings)


CONDITION = "condition:"


def _realisers(index: InteractionIndex) -> Callable[[str], list[str]]:
    """The ingredients that can realise a node: those having it by route or by amount."""
    nodes_of = {name: set(nodes) for name, nodes in index.systemic_nodes.items()}
    for name, nodes in index.topical_nodes.items():
        nodes_of.setdefault(name, set()).update(nodes)
    for name, conditional in index.conditional_nodes.items():
        for _, extra in conditional:
            nodes_of.setdefault(name, set()).update(extra)
    return lambda node: sorted(name for name, nodes in nodes_of.items() if node in nodes)


def _sentence(text: str) -> str:
    """As ``regimenguard.regimen.rules.base.sentence`` (which this module cannot import: the
    rules import the knowledge): the first letter upper-case, the rest as written."""
    return text[:1].upper() + text[1:]
