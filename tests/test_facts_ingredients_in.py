"""``RegimenFacts.ingredients_in`` over the back-pain orders looks only at the orders of the
node's members (an ingredient realising a node in one order realises it in the regimen, unless a
dose exemption takes the class away): it answers what walking every back-pain order answers,
for every node of the knowledge base, on generated regimens and every clinical scenario."""

from __future__ import annotations

import pytest

from regimenguard.regimen.facts import RegimenFacts
from regimenguard.regimen.knowledge import Knowledge
from tests.test_rule_gates import sample_facts


def _walked(facts: RegimenFacts, node: str) -> list[tuple[object, object]]:
    return [
        (order, ingredient)
        for order in facts.back_pain_orders()
        for ingredient in order.ingredients
        if node in ingredient.nodes
    ]


@pytest.mark.parametrize("unique", [False, True], ids=["orders-repeat", "every-order-unique"])
def test_ingredients_in_is_the_walk_over_back_pain_orders(
    knowledge: Knowledge, unique: bool
) -> None:
    nodes = [node for node in knowledge.compiled.bit if node.startswith(("class:", "drug:"))]
    assert knowledge.context.exempted_class_nodes  # the exemptions keep the walk
    found = 0
    # a quarter of the sample: every node is asked of each regimen
    for facts in sample_facts(knowledge, unique, every=4):
        for node in nodes:
            expected = _walked(facts, node)
            assert facts.ingredients_in(node) == expected, node
            found += bool(expected)
    assert found > 1000
