"""BENZODIAZEPINE_WITH_OPIOID, written so that a prescriber can act on it.

The edge (interactions.csv) decides that the pair fires and how severely; the finding names each
drug's daily amount and the opioids' MME, mentions tramadol as an opioid only when tramadol is
there, and recommends tapering one of the two and offering naloxone. A nonbenzodiazepine muscle
relaxant is suggested only when the benzodiazepine was ordered for back pain (no indication):
a benzodiazepine for anxiety, panic or sleep is not replaced by a muscle relaxant.
"""

from __future__ import annotations

from collections.abc import Iterable

from regimenguard.interactions.knowledge_base import RuleSpec
from regimenguard.regimen.facts import OPIOID, RegimenFacts
from regimenguard.regimen.model import Finding, ResolvedOrder
from regimenguard.regimen.order_mme import OrderMme
from regimenguard.regimen.rules.base import amount, join, order_amount, order_label
from regimenguard.regimen.rules.interaction_edges import edge_findings
from regimenguard.regimen.vocabulary import BENZODIAZEPINE, RESTRICTED_OPIOID

_BENZODIAZEPINE_NODES = frozenset({BENZODIAZEPINE})


def benzodiazepine_with_opioid(facts: RegimenFacts, spec: RuleSpec) -> Iterable[Finding]:
    def words(drugs: tuple[str, ...]) -> tuple[str, str]:
        return _words(facts, drugs)

    return edge_findings(facts, spec, words=words)


def _orders_of(facts: RegimenFacts, names: Iterable[str]) -> list[tuple[ResolvedOrder, str]]:
    """Each (active order, ingredient name) of ``names``, in request order: read from those
    ingredients' own orders, not from every order of the regimen."""
    wanted = set(names)
    if not wanted:
        return []
    uses = facts.ingredients
    orders = {order.index: order for name in wanted for order in uses[name].orders}
    return [
        (order, ingredient.name)
        for _, order in sorted(orders.items())
        for ingredient in order.ingredients
        if ingredient.name in wanted
    ]


def _opioid_text(order: ResolvedOrder, name: str, mme: OrderMme, for_oud: bool) -> str:
    """``oxycodone 5 mg 4 times a day (20 mg/day), 30 MME/day``, and what it is for when it
    treats opioid use disorder."""
    equivalent = mme.by_ingredient.get(name)
    daily = f", {amount(equivalent, 'MME')}/day" if equivalent is not None else ""
    purpose = ", for opioid use disorder" if for_oud else ""
    return f"{order_amount(order, name)}{daily}{purpose}"


def _words(facts: RegimenFacts, drugs: tuple[str, ...]) -> tuple[str, str]:
    """The message and recommendation of a finding over ``drugs``."""
    benzodiazepine_members = facts.members_of(BENZODIAZEPINE)
    opioid_members = facts.members_of(OPIOID)
    benzodiazepines = [d for d in drugs if d in benzodiazepine_members]
    opioids = [d for d in drugs if d in opioid_members]
    benzo_orders = _orders_of(facts, benzodiazepines)
    opioid_orders = _orders_of(facts, opioids)
    benzo_text = "; ".join(
        order_amount(order, name)
        + (f", for {order.order.indication}" if order.order.indication else "")
        for order, name in benzo_orders
    )
    opioid_parts = []
    oud_orders = facts.oud_orders
    for order, name in opioid_orders:
        record = order.record
        if record is None or record.ingredients is not order.ingredients:
            oud = bool(oud_orders) and facts.is_oud_treatment(order)
            opioid_parts.append(_opioid_text(order, name, facts.mme_of(order), oud))
            continue
        # the text depends on the order alone (its MME and whether it treats opioid use
        # disorder are its record's, as the facts'): the record keeps it (rules.base.order_amount)
        key = f"mme:{name}"
        kept = record.amount_texts
        text = kept.get(key)
        if text is None:
            text = kept[key] = _opioid_text(order, name, record.mme, record.treats_oud)
        opioid_parts.append(text)
    # tramadol is the opioid outside class:restricted_opioid, and the one most often not
    # counted as an opioid: the finding says it is one only when it is there
    nodes = facts.knowledge.index.systemic_nodes
    unrestricted = [name for name in opioids if RESTRICTED_OPIOID not in nodes[name]]
    tramadol_note = (
        f" {join(unrestricted).capitalize()} is an opioid too, with the same boxed warning."
        if unrestricted
        else ""
    )
    taper = facts.knowledge.context.taper_reason(_BENZODIAZEPINE_NODES)
    advice = [
        f"Taper one of the two, usually taper the benzodiazepine, gradually ({taper}); if both must "
        "continue, use the lowest doses, monitor sedation and breathing, and offer naloxone.",
    ]
    for_back_pain = [
        order_label(order) for order, _ in benzo_orders if order.order.is_back_pain_therapy
    ]
    indicated = [
        f"{order_label(order)} ({order.order.indication})"
        for order, _ in benzo_orders
        if not order.order.is_back_pain_therapy
    ]
    if for_back_pain:
        advice.append(
            f"For muscle spasm, a nonbenzodiazepine muscle relaxant for a short course can replace "
            f"{join(for_back_pain)}."
        )
    if indicated:
        advice.append(
            f"Review {join(indicated)} with its prescriber for a non-benzodiazepine treatment."
        )
    return (
        f"Benzodiazepine: {benzo_text}. Opioid: {'; '.join(opioid_parts)}. Together they "
        "sharply raise the risk of respiratory depression and fatal overdose (boxed warning)."
        + tramadol_note,
        " ".join(advice),
    )
