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
from regimenguard.regimen.model import Finding
from regimenguard.regimen.rules.base import amount, daily_amounts, order_label
from regimenguard.regimen.rules.interaction_edges import edge_findings
from regimenguard.regimen.vocabulary import NSAID


def nsaid_with_acetaminophen(facts: RegimenFacts, spec: RuleSpec) -> Iterable[Finding]:
    def reword(drugs: tuple[str, ...], message: str, recommendation: str) -> tuple[str, str]:
        return _amounts(facts, drugs) + message, recommendation

    return edge_findings(facts, spec, reword=reword)


def _carried(facts: RegimenFacts, name: str) -> str:
    """``aspirin 1,000 mg/day (Excedrin 1,000 mg/day)``, with every order carrying it."""
    use = facts.ingredients[name]
    orders = use.orders
    if len(orders) == 1 and order_label(orders[0]).casefold() == name:
        return name if use.amount_unknown else f"{name} {amount(use.mg_per_day)}/day"
    sources = [text or f"{label}, amount unknown" for label, text in daily_amounts(facts, name)]
    total = "" if use.amount_unknown and not use.mg_per_day else f" {amount(use.mg_per_day)}/day"
    return f"{name}{total} ({'; '.join(sources)})"


def _amounts(facts: RegimenFacts, drugs: tuple[str, ...]) -> str:
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
    amounts = (
        f"NSAID {'; '.join([_carried(facts, n) for n in nsaids])} with "
        f"{'; '.join([_carried(facts, n) for n in others])}."
    )
    return f"{amounts}{notes} "
