"""NSAID_WITH_ACETAMINOPHEN with the amounts, and which product carries which ingredient.

The edge (interactions.csv) decides that the pair fires; the finding adds each ingredient's
daily amount with the orders it comes from (Excedrin carries both aspirin and acetaminophen),
and says when an ingredient is an NSAID only because of its amount (aspirin above its
antiplatelet 325 mg/day, conditional_classes.csv).
"""

from __future__ import annotations

from collections.abc import Iterable

from regimenguard.interactions.knowledge_base import RuleSpec
from regimenguard.regimen.facts import RegimenFacts
from regimenguard.regimen.knowledge import Knowledge
from regimenguard.regimen.model import Finding, ResolvedOrder
from regimenguard.regimen.rules.base import amount, daily_amounts, kept_value, order_label
from regimenguard.regimen.rules.interaction_edges import edge_findings
from regimenguard.regimen.vocabulary import NSAID


def nsaid_with_acetaminophen(facts: RegimenFacts, spec: RuleSpec) -> Iterable[Finding]:
    def reword(drugs: tuple[str, ...], message: str, recommendation: str) -> tuple[str, str]:
        return _amounts(facts, drugs, spec) + message, recommendation

    return edge_findings(facts, spec, reword=reword)


def _carried(facts: RegimenFacts, name: str, spec: RuleSpec) -> str:
    """``aspirin 1,000 mg/day (Excedrin 1,000 mg/day)``, with every order carrying it."""
    use = facts.ingredients[name]
    orders = use.orders
    if len(orders) == 1:
        named, text = kept_value(orders[0], _carried_alone, facts.knowledge, spec)
        if named == name:
            return text
    total_text, amounts, sources = daily_amounts(facts, name)
    if not sources:  # an order whose amount is unknown says so
        sources = "; ".join(
            [text or f"{order_label(order)}, amount unknown" for order, text in amounts]
        )
    total = "" if use.amount_unknown and not use.mg_per_day else f" {total_text}/day"
    return f"{name}{total} ({sources})"


def _carried_alone(order: ResolvedOrder, knowledge: Knowledge, spec: RuleSpec) -> tuple[str, str]:
    """The ingredient an order is written as (its label is the ingredient's name), and
    ``_carried`` of it when the order is its only one (``ibuprofen 1,200 mg/day``, from the
    order's amounts of it as the ingredient's use sums them); ("", "") for any other order."""
    name = order_label(order).casefold()
    days = []
    parts = 0
    for ingredient in order.ingredients:
        if ingredient.name == name:
            parts += 1
            if ingredient.mg_per_day is not None:
                days.append(ingredient.mg_per_day)
    if not parts:
        return "", ""
    if len(days) < parts:  # the amount is unknown
        return name, name
    return name, f"{name} {amount(sum(days))}/day"


def _amounts(facts: RegimenFacts, drugs: tuple[str, ...], spec: RuleSpec) -> str:
    """What the message starts with: each drug's daily amount, and which one is an NSAID only
    because of its amount."""
    conditional = facts.knowledge.index.conditional_nodes
    uses = facts.ingredients
    nsaids: list[str] = []
    others: list[str] = []
    for name in drugs:
        (nsaids if NSAID in uses[name].nodes else others).append(name)
    notes = ""
    for name in nsaids:
        for threshold, extra in conditional.get(name, ()):
            if NSAID in extra:
                notes += f" {name.capitalize()} counts as an NSAID at this amount (above {amount(threshold)}/day)."
    if len(nsaids) == 1 and len(others) == 1:  # the common case: one of each
        amounts = (
            f"NSAID {_carried(facts, nsaids[0], spec)} with {_carried(facts, others[0], spec)}."
        )
    else:
        amounts = (
            f"NSAID {'; '.join([_carried(facts, n, spec) for n in nsaids])} with "
            f"{'; '.join([_carried(facts, n, spec) for n in others])}."
        )
    return f"{amounts}{notes} "
