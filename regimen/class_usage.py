"""Start-up check: every class of the knowledge base is used by some rule.

A class is used when a rule can see it: an interaction edge, serotonergic advice, a conditional
class, a dosing row or a duplicate-therapy severity names it, a rule is triggered by it, or rule
code reads it (a module-level ``class:...`` constant of the rule modules); a class below a used
class (``ace_inhibitor`` under ``raas_inhibitor``) is used through it. A class nothing uses is a
data error: it would look meaningful in the drug list while no check ever looks at it.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable

from interactions.datafile import DataError
from regimen.knowledge import Knowledge

CODE_MODULES = ("regimen.rules", "regimen.facts", "regimen.knowledge")


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
    parents = {drug_class.class_id: drug_class.parents for drug_class in data.classes}

    def is_used(class_id: str, seen: frozenset[str] = frozenset()) -> bool:
        if f"class:{class_id}" in used:
            return True
        return any(
            is_used(parent, seen | {class_id})
            for parent in parents.get(class_id, ())
            if parent not in seen
        )

    unused = sorted(c.class_id for c in data.classes if not is_used(c.class_id))
    if unused:
        raise DataError(f"classes.csv: no rule uses the class(es) {', '.join(unused)}")
