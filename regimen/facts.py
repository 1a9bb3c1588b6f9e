"""Facts about one request, computed once and shared by every rule.

Resolution of each order, per-ingredient amounts across the whole resulting regimen, the graph
nodes present (ingredients, their classes, the patient's conditions), the interaction edges
that fire among them, MME and the acetaminophen total. Everything here is dictionary lookups
on the indexes built at start-up; nothing walks the graph.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from dosing.acetaminophen import ACETAMINOPHEN, acetaminophen_limit_mg_per_day
from dosing.mme import mme_per_day
from interactions.knowledge_base import InteractionEdge
from interactions.resolver import NameMatch
from regimen.knowledge import Knowledge
from regimen.model import (
    PATIENT_CONDITIONS,
    MedicationOrder,
    OrderAction,
    Patient,
    RegimenRequest,
    ResolvedIngredient,
    ResolvedOrder,
    Route,
)

OPIOID = "class:opioid"
UNRESOLVED = "order:unresolved"
ORDER_MARKERS = {action: f"order:{action.value}" for action in OrderAction}
SEROTONERGIC = "class:serotonergic"


@dataclass(frozen=True, slots=True)
class IngredientUse:
    """One ingredient across every active order of the regimen."""

    name: str
    orders: tuple[ResolvedOrder, ...]
    mg_per_day: float
    max_mg_per_dose: float | None
    amount_unknown: bool
    nodes: frozenset[str]
    is_new: bool
    for_back_pain: bool


@dataclass(frozen=True, slots=True)
class EdgeHit:
    """An interaction edge whose two ends are both present, with the drugs on each side."""

    edge: InteractionEdge
    drugs_a: tuple[str, ...]
    drugs_b: tuple[str, ...]
    position: int = 0  # the edge's row in interactions.csv: a cheap identity
    # what met the edge's ``requires_any``: (node, its drugs; empty for a patient condition)
    witnesses: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # for each node the edge states the presence of: (node, its drugs in the regimen)
    presence: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def drugs(self) -> tuple[str, ...]:
        return tuple(sorted({*self.drugs_a, *self.drugs_b}))


@dataclass(frozen=True, slots=True)
class RegimenFacts:
    request: RegimenRequest
    knowledge: Knowledge
    orders: tuple[ResolvedOrder, ...]
    active_orders: tuple[ResolvedOrder, ...]
    stopped_orders: tuple[ResolvedOrder, ...]
    ingredients: Mapping[str, IngredientUse]
    members: Mapping[str, tuple[str, ...]]
    conditions: frozenset[str]
    edge_hits: tuple[EdgeHit, ...]
    acetaminophen_mg_per_day: float
    acetaminophen_limit_mg_per_day: float
    mme_per_day: float
    mme_by_ingredient: Mapping[str, float]
    mme_excluded: tuple[str, ...]
    edge_hits_by_rule: Mapping[str, tuple[EdgeHit, ...]]
    # every node present (drugs, classes, conditions) plus markers rules are gated on:
    # ``order:start``, ``order:change_dose``, ``order:unresolved``, ``edges:RULE_ID``
    present: frozenset[str]
    # derived values two rules share within this request (e.g. the label check of a drug)
    memo: dict[object, object] = field(default_factory=dict, compare=False)

    @property
    def patient(self) -> Patient:
        return self.request.patient

    @property
    def as_of(self) -> dt.date:
        return self.request.as_of

    def members_of(self, node: str) -> tuple[str, ...]:
        """Active ingredients that realise a node (``class:nsaid``), sorted; empty if absent."""
        return self.members.get(node, ())

    @property
    def serotonergic(self) -> tuple[str, ...]:
        return self.members_of(SEROTONERGIC)


def build_facts(request: RegimenRequest, knowledge: Knowledge) -> RegimenFacts:
    orders = tuple(
        resolve_order(index, order, knowledge) for index, order in enumerate(request.medications)
    )
    active = tuple(order for order in orders if order.order.is_active)
    stopped = tuple(order for order in orders if not order.order.is_active)
    ingredients = _ingredient_uses(active, stopped, knowledge)
    members = _members(ingredients)
    conditions = _conditions(request.patient, knowledge)
    patient = request.patient
    acetaminophen = ingredients.get(ACETAMINOPHEN)
    mme_by_ingredient, excluded = _mme(active, knowledge)
    edge_hits = _edge_hits(members, conditions, knowledge)
    by_rule: dict[str, list[EdgeHit]] = {}
    for hit in edge_hits:
        by_rule.setdefault(hit.edge.rule_id, []).append(hit)
    markers = [f"edges:{rule_id}" for rule_id in by_rule]
    for order in active:
        markers.append(ORDER_MARKERS[order.order.action])
        if order.unresolved_names:
            markers.append(UNRESOLVED)
    return RegimenFacts(
        request=request,
        knowledge=knowledge,
        orders=orders,
        active_orders=active,
        stopped_orders=stopped,
        ingredients=ingredients,
        members=members,
        conditions=conditions,
        edge_hits=edge_hits,
        acetaminophen_mg_per_day=acetaminophen.mg_per_day if acetaminophen else 0.0,
        acetaminophen_limit_mg_per_day=acetaminophen_limit_mg_per_day(
            knowledge.settings.acetaminophen,
            older_adult=patient.is_older_adult,
            hepatic_impairment=patient.hepatic_impairment,
            alcohol_use_disorder=patient.alcohol_use_disorder,
        ),
        mme_per_day=sum(mme_by_ingredient.values()),
        mme_by_ingredient=mme_by_ingredient,
        mme_excluded=excluded,
        edge_hits_by_rule={rule: tuple(hits) for rule, hits in by_rule.items()},
        present=frozenset((*members, *conditions, *markers)),
    )


def resolve_order(position: int, order: MedicationOrder, knowledge: Knowledge) -> ResolvedOrder:
    """What one order contributes: ingredients with per-dose and per-day amounts.

    A product's dose form decides the route, release form and, for a transdermal system, the
    delivery rate: the resolved order carries them (``rxcui:197696``, one patch, is fentanyl
    75 mcg/h, transdermal). It depends on the (frozen) order and the knowledge base alone, so it
    is memoized.
    """
    effective, product, ingredients, unresolved = knowledge.order_cache.get_or_compute(
        order, lambda: _contribution(order, knowledge)
    )
    return ResolvedOrder(position, effective, product, ingredients, unresolved)


_ROUTES = {route.value: route for route in Route}


def _contribution(
    order: MedicationOrder, knowledge: Knowledge
) -> tuple[MedicationOrder, str, tuple[ResolvedIngredient, ...], tuple[str, ...]]:
    resolver = knowledge.resolver
    unresolved: list[str] = []
    product = ""
    # (ingredient, counted mg per dose or None, salt of the stated weight, its factor)
    amounts: list[tuple[str, float | None, str, float]] = []

    if order.ingredients:
        match = resolver.resolve(order.drug) if order.drug else None
        product = match.product if match and match.is_combination else ""
        for ingredient in order.ingredients:
            part = resolver.resolve(ingredient.name)
            if part is None or part.is_combination or part.is_ambiguous or part.is_product:
                unresolved.append(ingredient.name)
            else:
                factor = part.factor(0)
                amounts.append(
                    (part.ingredients[0][0], ingredient.dose_mg * factor, part.salt(0), factor)
                )
    else:
        match = resolver.resolve(order.drug)
        if match is None:
            unresolved.append(order.drug)
        elif match.is_ambiguous:
            unresolved.append(order.drug)
            amounts.extend((name, None, "", 1.0) for name, _ in match.ingredients)
        elif match.is_product:
            product = match.product
            order = _with_product_form(order, match)
            units = order.units_per_dose or 1.0
            single = len(match.ingredients) == 1 and not any(match.rates)
            for position, (name, mg) in enumerate(match.ingredients):
                factor = match.factor(position)
                if single and order.dose_mg > 0:  # "Aleve 440 mg": the product's own substance
                    dose: float | None = order.dose_mg * factor
                else:
                    dose = None if mg is None else mg * units
                amounts.append((name, dose, match.salt(position), factor))
        else:
            transdermal_rate = order.route is Route.TRANSDERMAL and order.rate_mcg_per_hour > 0
            factor = match.factor(0)
            dose = None if transdermal_rate else order.dose_mg * factor
            amounts.append((match.ingredients[0][0], dose, match.salt(0), factor))

    index = knowledge.index
    systemic = order.route.is_systemic
    route_nodes = index.systemic_nodes if systemic else index.topical_nodes
    route_classes = index.systemic_classes if systemic else index.topical_classes
    transdermal_rate = order.route is Route.TRANSDERMAL and order.rate_mcg_per_hour > 0
    resolved = []
    for name, mg_per_dose, salt, factor in amounts:
        if transdermal_rate:
            mg_per_day: float | None = order.rate_mcg_per_hour * 24 / 1000
        else:
            mg_per_day = None if mg_per_dose is None else mg_per_dose * order.doses_per_day
        resolved.append(
            ResolvedIngredient(
                name=name,
                rxcui=index.rxcui.get(name, ""),
                mg_per_dose=None if mg_per_dose is None else round(mg_per_dose, 6),
                mg_per_day=None if mg_per_day is None else round(mg_per_day, 6),
                nodes=route_nodes[name],
                classes=route_classes[name],
                salt=salt,
                salt_factor=factor,
            )
        )
    return order, product, tuple(resolved), tuple(unresolved)


def _with_product_form(order: MedicationOrder, match: NameMatch) -> MedicationOrder:
    """The order as its product makes it: the dose form's route, release form and patch rate."""
    route = _ROUTES.get(match.route, order.route)
    extended = order.extended_release or match.extended_release
    rate = order.rate_mcg_per_hour
    rates = [r for r in match.rates if r is not None]
    if rates and rate == 0:
        rate = rates[0] * (order.units_per_dose or 1.0)
    if (route, extended, rate) == (order.route, order.extended_release, order.rate_mcg_per_hour):
        return order
    return replace(order, route=route, extended_release=extended, rate_mcg_per_hour=rate)


def _ingredient_uses(
    active: tuple[ResolvedOrder, ...], stopped: tuple[ResolvedOrder, ...], knowledge: Knowledge
) -> dict[str, IngredientUse]:
    """Each active ingredient across its orders.

    A new agent is an ingredient that appears only in START orders: one the request also
    stops (stop 30 mg, start 60 mg; short-acting stopped, extended-release started) is a drug
    the patient already takes.
    """
    being_stopped = {name for order in stopped for name in order.ingredient_names}
    grouped: dict[str, list[tuple[ResolvedOrder, ResolvedIngredient]]] = {}
    for order in active:
        for ingredient in order.ingredients:
            grouped.setdefault(ingredient.name, []).append((order, ingredient))
    conditional = knowledge.index.conditional_nodes
    start = OrderAction.START
    uses = {}
    for name, parts in grouped.items():
        if len(parts) == 1:  # the common case: one order of this ingredient
            order, part = parts[0]
            orders: tuple[ResolvedOrder, ...] = (order,)
            mg_per_day = part.mg_per_day or 0.0
            max_dose = part.mg_per_dose
            amount_unknown = part.mg_per_day is None
            nodes = part.nodes
            is_new = order.order.action is start
            for_back_pain = order.order.is_back_pain_therapy
        else:
            orders = tuple(order for order, _ in parts)
            days = [part.mg_per_day for _, part in parts if part.mg_per_day is not None]
            doses = [part.mg_per_dose for _, part in parts if part.mg_per_dose is not None]
            mg_per_day = sum(days)
            max_dose = max(doses) if doses else None
            amount_unknown = len(days) < len(parts)
            nodes = frozenset().union(*(part.nodes for _, part in parts))
            is_new = all(order.order.action is start for order in orders)
            for_back_pain = any(order.order.is_back_pain_therapy for order in orders)
        for threshold, extra in conditional.get(name, ()):
            if mg_per_day > threshold and any(order.order.route.is_systemic for order in orders):
                nodes = nodes | extra
        uses[name] = IngredientUse(
            name=name,
            orders=orders,
            mg_per_day=mg_per_day,
            max_mg_per_dose=max_dose,
            amount_unknown=amount_unknown,
            nodes=nodes,
            is_new=is_new and name not in being_stopped,
            for_back_pain=for_back_pain,
        )
    return uses


def _members(uses: Mapping[str, IngredientUse]) -> dict[str, tuple[str, ...]]:
    members: dict[str, list[str]] = {}
    for name in sorted(uses):
        for node in uses[name].nodes:
            members.setdefault(node, []).append(name)
    return {node: tuple(names) for node, names in members.items()}


def _conditions(patient: Patient, knowledge: Knowledge) -> frozenset[str]:
    nodes = knowledge.index.condition_nodes
    present = [nodes[name] for name in PATIENT_CONDITIONS if getattr(patient, name)]
    if patient.is_older_adult:
        present.append(nodes["older_adult"])
    return frozenset(present)


def _edge_hits(
    members: Mapping[str, tuple[str, ...]], conditions: frozenset[str], knowledge: Knowledge
) -> tuple[EdgeHit, ...]:
    index = knowledge.index
    edges_by_node = index.edges_by_node
    fired: set[int] = set()
    for node in (*members, *conditions):
        for other, position in edges_by_node.get(node, ()):
            if other in members or other in conditions:
                fired.add(position)
    hits = []
    for position in sorted(fired):
        edge = index.edges[position]
        drugs_a = members.get(edge.node_a, ())
        drugs_b = members.get(edge.node_b, ())
        if drugs_a and drugs_b and not any(a != b for a in drugs_a for b in drugs_b):
            continue  # one ingredient alone on both sides is not an interaction
        witnesses = _witnesses(edge, members, conditions, {*drugs_a, *drugs_b})
        if edge.requires_any and not witnesses:
            continue  # an escalation whose condition is not met
        presence = tuple((node, members.get(node, ())) for node in edge.states_presence_of)
        hits.append(EdgeHit(edge, drugs_a, drugs_b, position, witnesses, presence))
    return tuple(hits)


def _witnesses(
    edge: InteractionEdge,
    members: Mapping[str, tuple[str, ...]],
    conditions: frozenset[str],
    on_the_edge: set[str],
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The required nodes present, each realised by a drug not already on the edge itself."""
    found = []
    for node in edge.requires_any:
        if node in conditions:
            found.append((node, ()))
        else:
            others = tuple(drug for drug in members.get(node, ()) if drug not in on_the_edge)
            if others:
                found.append((node, others))
    return tuple(found)


def _mme(
    active: tuple[ResolvedOrder, ...], knowledge: Knowledge
) -> tuple[dict[str, float], tuple[str, ...]]:
    """MME/day by opioid, and the opioids that could not be counted (no CDC factor or amount)."""
    table = knowledge.dosing.mme
    by_ingredient: dict[str, float] = {}
    excluded: set[str] = set()
    for order in active:
        transdermal = order.order.route is Route.TRANSDERMAL
        for ingredient in order.ingredients:
            if OPIOID not in ingredient.nodes:
                continue
            factor = table.factor(ingredient.name, transdermal=transdermal)
            if factor is None or (ingredient.mg_per_day is None and factor.unit == "mg"):
                excluded.add(ingredient.name)
                continue
            by_ingredient[ingredient.name] = by_ingredient.get(ingredient.name, 0.0) + mme_per_day(
                factor,
                mg_per_day=ingredient.mg_per_day or 0.0,
                rate_mcg_per_hour=order.order.rate_mcg_per_hour,
            )
    return by_ingredient, tuple(sorted(excluded))
