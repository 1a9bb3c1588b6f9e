"""Start-up check: every class of the knowledge base is used by some rule.

A class is used when a rule can see it: an interaction edge, serotonergic advice, a conditional
class, a dosing row or a duplicate-therapy severity names it, a rule is triggered by it, or rule
code reads it (a module-level ``class:...`` constant of the rule modules). A class in the same
hierarchy as a used class is used through it: below it (``ace_inhibitor`` under
``raas_inhibitor``) or grouping it (``opioid_antagonist`` above ``opioid_overdose_reversal``). A
class nothing uses is a data error: it would look meaningful in the drug list while no check
ever looks at it.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from typing import Any

from regimenguard.interactions.datafile import DataError
from regimenguard.regimen.knowledge import Knowledge

CODE_MODULES = ("regimen", "dosing", "interactions")


def classes_read_by_code() -> frozenset[str]:
    """The ``class:...`` string constants of the loaded rule modules."""
    found = set()
    for name, module in list(sys.modules.items()):
        if module is None or not name.startswith(CODE_MODULES):
            continue
        for value in vars(module).values():
            if isinstance(value, str) and value.startswith("class:"):
                found.add(value)
    return frozenset(found)


def _strings(root: object) -> Iterable[str]:
    """Every string inside the loaded tables (dataclasses, tuples, mappings), once."""
    seen: set[int] = set()
    pending = [root]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            yield item
            continue
        if item is None or isinstance(item, int | float | bool) or id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, Mapping):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, tuple | list | set | frozenset):
            pending.extend(item)
        elif hasattr(item, "__dataclass_fields__"):
            pending.extend(getattr(item, name) for name in item.__dataclass_fields__)


def check_classes_used(knowledge: Knowledge, trigger_nodes: Iterable[str]) -> None:
    data = knowledge.data
    dosing = knowledge.dosing
    used = set(trigger_nodes) | classes_read_by_code()
    for edge in data.edges:
        used.update((edge.node_a, edge.node_b, *edge.requires_any, *edge.states_presence_of))
    used.update(advice.with_node for advice in data.serotonergic_advice)
    used.update(f"class:{row.class_id}" for row in data.conditional_classes)
    used.update(dosing.course_limits)
    used.update(dosing.schedule_constraints)
    used.update(node for start in dosing.starting_doses.values() for node in start.combined_with)
    used.update(knowledge.index.duplicate_severity)
    class_ids = {drug_class.class_id for drug_class in data.classes}
    for text in _strings((knowledge.dosing, getattr(knowledge, "context", None))):
        # any other table (washouts, indication treatments, ...) naming a class uses it
        if text.startswith("class:"):
            used.add(text)
        elif text in class_ids:
            used.add(f"class:{text}")
    parents = {drug_class.class_id: drug_class.parents for drug_class in data.classes}
    children: dict[str, list[str]] = {}
    for class_id, above in parents.items():
        for parent in above:
            children.setdefault(parent, []).append(class_id)

    def reachable(class_id: str, links: dict[str, Any]) -> set[str]:
        found, pending = set(), [class_id]
        while pending:
            current = pending.pop()
            if current not in found:
                found.add(current)
                pending.extend(links.get(current, ()))
        return found

    unused = sorted(
        c.class_id
        for c in data.classes
        if not any(
            f"class:{related}" in used
            for related in reachable(c.class_id, parents) | reachable(c.class_id, children)
        )
    )
    if unused:
        raise DataError(f"classes.csv: no rule uses the class(es) {', '.join(unused)}")
