"""Facts about one request, computed once and shared by every rule.

Resolution of each order, per-ingredient amounts across the whole resulting regimen, the graph
nodes present (ingredients, their classes, the patient's conditions), the interaction edges
that fire among them, MME and the acetaminophen total. Everything here is dictionary lookups
on the indexes built at start-up; nothing walks the graph.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from regimenguard.dosing.acetaminophen import ACETAMINOPHEN, acetaminophen_limit_mg_per_day
from regimenguard.dosing.mme import mme_per_day
from regimenguard.interactions.knowledge_base import InteractionEdge
from regimenguard.interactions.resolver import NameMatch
from regimenguard.regimen.cache import OrderRecords
from regimenguard.regimen.compiled import (
    ACTION_MARKERS,
    REPEATED_INGREDIENT,
    UNRESOLVED,
    NodeMasks,
)
from regimenguard.regimen.context_tables import OPIOID_USE_DISORDER, Washout
from regimenguard.regimen.knowledge import Knowledge
from regimenguard.regimen.model import (
    PATIENT_CONDITIONS,
    MedicationOrder,
    OrderAction,
    Patient,
    RegimenRequest,
    ResolvedIngredient,
    ResolvedOrder,
    Route,
)
from regimenguard.regimen.slots_init import fast_init
from regimenguard.regimen.vocabulary import OPIOID, SEROTONERGIC


@fast_init
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
    masks: NodeMasks  # ``nodes`` compiled (regimenguard.regimen.compiled)


@dataclass(slots=True, unsafe_hash=True)
class EdgeHit:
    """An interaction edge whose two ends are both present, with the drugs on each side (each
    side sorted without repeats, as ``RegimenFacts.members``; empty for a patient condition).

    Not frozen, so that its ``__init__`` is plain slot stores (a frozen one's costs about four
    times as much, and a request builds one per edge that fires); never assigned after it is
    built, and it compares and hashes by value as a frozen one does.
    """

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
        """Both sides' drugs, sorted (each side is sorted without repeats already)."""
        if not self.drugs_a:
            return self.drugs_b
        if not self.drugs_b:
            return self.drugs_a
        return tuple(sorted({*self.drugs_a, *self.drugs_b}))


@fast_init
@dataclass(frozen=True, slots=True)
class WashoutHit:
    """An interaction edge between a drug stopped within its washout and an active drug."""

    hit: EdgeHit
    stopped_drug: str
    stopped_on: dt.date
    days_ago: int  # negative: the stop is still ahead
    washout: Washout


@fast_init
@dataclass(frozen=True, slots=True)
class OrderMme:
    """What one order's opioids contribute to MME/day, and which of them cannot be counted."""

    by_ingredient: Mapping[str, float]
    uncounted: tuple[str, ...] = ()  # no factor for this route/product, or no amount
    not_applicable: tuple[str, ...] = ()  # the CDC does not convert it (buprenorphine)


@fast_init
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
    # every node present (drugs, classes, conditions) plus markers rules are gated on
    # (``order:start``, ``order:change_dose``, ``order:unresolved``, ``edges:RULE_ID``), as the
    # mask of their bits (regimenguard.regimen.compiled)
    present: int
    # opioids the pain MME cannot count (the total is then a lower bound), by order
    mme_uncounted: tuple[tuple[ResolvedOrder, str], ...] = ()
    # orders that treat opioid use disorder (methadone or buprenorphine for OUD)
    oud_orders: tuple[ResolvedOrder, ...] = ()
    # interactions of drugs stopped within their washout, by rule id
    washout_hits_by_rule: Mapping[str, tuple[WashoutHit, ...]] = field(default_factory=dict)
    # the active orders with no indication: the back-pain therapy the guideline judges
    back_pain: tuple[ResolvedOrder, ...] = ()
    # the patient's age against the catalogue's thresholds (rule_thresholds.csv)
    older_adult: bool = False
    minor: bool = False
    # the checker's cache (regimenguard.regimen.cache), for what a rule asks of the knowledge base by name
    records: OrderRecords | None = field(default=None, compare=False)
    # derived values two rules share within this request (e.g. the label check of a drug)
    memo: dict[object, object] = field(default_factory=dict, compare=False)
    # each counted order's MME contribution, by its index in the request (see ``mme_of``)
    order_mme_by_index: Mapping[int, tuple[ResolvedOrder, OrderMme]] = field(
        default_factory=dict, compare=False
    )

    @property
    def patient(self) -> Patient:
        return self.request.patient

    @property
    def as_of(self) -> dt.date:
        return self.request.as_of

    def back_pain_orders(self) -> tuple[ResolvedOrder, ...]:
        """Active orders for back pain (no indication), in request order."""
        return self.back_pain

    def ingredients_in(
        self, node: str, orders: tuple[ResolvedOrder, ...] | None = None
    ) -> list[tuple[ResolvedOrder, ResolvedIngredient]]:
        """Each (order, ingredient) whose ingredient realises ``node`` (``class:nsaid``) for
        that order's route, among ``orders`` (default: the back-pain orders), in order."""
        return [
            (order, ingredient)
            for order in (self.back_pain if orders is None else orders)
            for ingredient in order.ingredients
            if node in ingredient.nodes
        ]

    def close_matches(self, name: str) -> tuple[str, ...]:
        """Known names close to an unknown one, best first (a search over every known name,
        kept in the checker's records by name: the same unknown name recurs in many orders)."""
        suggest = self.knowledge.resolver.suggest
        if self.records is None:
            return suggest(name)
        return self.records.get_or_compute(("close matches", name), lambda: suggest(name))

    def members_of(self, node: str) -> tuple[str, ...]:
        """Active ingredients that realise a node (``class:nsaid``), sorted; empty if absent."""
        return self.members.get(node, ())

    @property
    def serotonergic(self) -> tuple[str, ...]:
        return self.members_of(SEROTONERGIC)

    @property
    def oud_treatment_drugs(self) -> tuple[str, ...]:
        return tuple(sorted({n for order in self.oud_orders for n in order.ingredient_names}))

    def mme_of(self, order: ResolvedOrder) -> OrderMme:
        """``order_mme`` of one of this request's orders: the total's own, when it counted it."""
        counted = self.order_mme_by_index.get(order.index)
        if counted is not None and counted[0] is order:
            return counted[1]
        return order_mme(order, self.knowledge)

    def is_oud_treatment(self, order: ResolvedOrder) -> bool:
        return any(order is oud for oud in self.oud_orders)


def build_facts(
    request: RegimenRequest, knowledge: Knowledge, records: OrderRecords | None = None
) -> RegimenFacts:
    """The facts of one request; ``records``: the checker's cache of resolved orders."""
    orders = tuple(
        _for_indication(resolve_order(index, order, knowledge, records), knowledge)
        for index, order in enumerate(request.medications)
    )
    active_list: list[ResolvedOrder] = []
    stopped_list: list[ResolvedOrder] = []
    for order in orders:  # one pass: part of the resulting regimen, or stopped
        (stopped_list if order.order.action is _STOP else active_list).append(order)
    active, stopped = tuple(active_list), tuple(stopped_list)
    ingredients = _ingredient_uses(active, stopped, knowledge)
    members = _members(ingredients)
    patient = request.patient
    older_adult = knowledge.thresholds.is_older_adult(patient.age_years)
    minor = knowledge.thresholds.is_minor(patient.age_years)
    conditions = _conditions(patient, knowledge, older_adult=older_adult, minor=minor)
    acetaminophen = ingredients.get(ACETAMINOPHEN)
    oud_orders = tuple(
        order for order in active if order.order.indication and _treats_oud(order, knowledge)
    )
    order_mmes: dict[int, tuple[ResolvedOrder, OrderMme]] = {}
    mme_by_ingredient, excluded, uncounted = _mme(
        tuple(order for order in active if order not in oud_orders) if oud_orders else active,
        knowledge,
        order_mmes,
    )
    compiled = knowledge.compiled
    present = edges_a = edges_b = 0
    for use in ingredients.values():
        present |= use.masks.nodes
        edges_a |= use.masks.edges_a
        edges_b |= use.masks.edges_b
    for condition in conditions:
        masks = compiled.conditions[condition]
        present |= masks.nodes
        edges_a |= masks.edges_a
        edges_b |= masks.edges_b
    edge_hits = _edge_hits(edges_a & edges_b, members, conditions, knowledge)
    by_rule: dict[str, list[EdgeHit]] = {}
    for hit in edge_hits:
        by_rule.setdefault(hit.edge.rule_id, []).append(hit)
    washouts: dict[str, list[WashoutHit]] = {}
    if stopped:
        for washout_hit in _washout_hits(stopped, ingredients, members, request.as_of, knowledge):
            washouts.setdefault(washout_hit.hit.edge.rule_id, []).append(washout_hit)
    bit = compiled.bit
    for hit in edge_hits:
        present |= 1 << compiled.edge_rule_bit[hit.position]
    for hits in washouts.values():
        present |= 1 << compiled.edge_rule_bit[hits[0].hit.position]
    for order in active:
        present |= 1 << bit[ACTION_MARKERS[order.order.action]]
        if order.unresolved_names:
            present |= 1 << bit[UNRESOLVED]
    if any(len(use.orders) > 1 for use in ingredients.values()):
        present |= 1 << bit[REPEATED_INGREDIENT]
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
            older_adult=older_adult,
            hepatic_impairment=patient.hepatic_impairment,
            alcohol_use_disorder=patient.alcohol_use_disorder,
        ),
        mme_per_day=sum(mme_by_ingredient.values()),
        mme_by_ingredient=mme_by_ingredient,
        mme_excluded=excluded,
        edge_hits_by_rule={rule: tuple(hits) for rule, hits in by_rule.items()},
        mme_uncounted=uncounted,
        order_mme_by_index=order_mmes,
        oud_orders=oud_orders,
        washout_hits_by_rule={rule: tuple(hits) for rule, hits in washouts.items()},
        present=present,
        back_pain=tuple(order for order in active if order.order.is_back_pain_therapy),
        records=records,
        older_adult=older_adult,
        minor=minor,
    )


def _for_indication(order: ResolvedOrder, knowledge: Knowledge) -> ResolvedOrder:
    """The order with the classes its indication sets aside (methadone for OUD).

    Methadone or buprenorphine ordered for opioid use disorder is not a restricted pain opioid
    and carries no misuse warning for the disorder it treats (indication_treatments.csv); it is
    still an opioid for every interaction.
    """
    indication = order.order.indication
    if not indication:
        return order
    context = knowledge.context
    meaning = context.meaning(indication)
    if not meaning:
        return order
    changed = []
    for ingredient in order.ingredients:
        treatment = context.treatments.get((meaning, ingredient.name))
        if treatment is None:
            changed.append(ingredient)
            continue
        dropped = {f"class:{class_id}" for class_id in treatment.without_classes}
        changed.append(
            replace(
                ingredient,
                nodes=ingredient.nodes - dropped,
                classes=tuple(c for c in ingredient.classes if f"class:{c}" not in dropped),
            )
        )
    return replace(order, ingredients=tuple(changed))


def _treats_oud(order: ResolvedOrder, knowledge: Knowledge) -> bool:
    context = knowledge.context
    if context.meaning(order.order.indication) != OPIOID_USE_DISORDER:
        return False
    return any((OPIOID_USE_DISORDER, name) in context.treatments for name in order.ingredient_names)


def resolve_order(
    position: int, order: MedicationOrder, knowledge: Knowledge, records: OrderRecords | None
) -> ResolvedOrder:
    """What one order contributes: ingredients with per-dose and per-day amounts.

    A product's dose form decides the route, release form and, for a transdermal system, the
    delivery rate: the resolved order carries them (``rxcui:197696``, one patch, is fentanyl
    75 mcg/h, transdermal). It depends on the (frozen) order and the knowledge base alone, so it
    is kept in ``records`` (regimenguard.regimen.cache), the checker's one cache.
    """
    if records is None:
        effective, product, ingredients, unresolved = _contribution(order, knowledge)
    else:
        effective, product, ingredients, unresolved = records.get_or_compute(
            order, lambda: _contribution(order, knowledge)
        )
    return ResolvedOrder(position, effective, product, ingredients, unresolved)


_ROUTES = {route.value: route for route in Route}
_CONDITION_FLAGS = operator.attrgetter(*PATIENT_CONDITIONS)
_STOP = OrderAction.STOP


def _contribution(
    order: MedicationOrder, knowledge: Knowledge
) -> tuple[MedicationOrder, str, tuple[ResolvedIngredient, ...], tuple[str, ...]]:
    """The order as its product makes it, its product, ingredients and the names it could
    not resolve."""
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
    masks_of = knowledge.compiled.masks_of
    exemptions = knowledge.context.dose_exemptions
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
        for exemption in exemptions.get(name, ()):
            if not amount_unknown and mg_per_day <= exemption.at_or_below_mg_per_day:
                nodes = nodes - {f"class:{exemption.class_id}"}
        uses[name] = IngredientUse(
            name=name,
            orders=orders,
            mg_per_day=mg_per_day,
            max_mg_per_dose=max_dose,
            amount_unknown=amount_unknown,
            nodes=nodes,
            is_new=is_new and name not in being_stopped,
            for_back_pain=for_back_pain,
            masks=masks_of(nodes),
        )
    return uses


def _members(uses: Mapping[str, IngredientUse]) -> dict[str, tuple[str, ...]]:
    members: dict[str, list[str]] = {}
    get = members.get
    for name in sorted(uses):
        for node in uses[name].nodes:
            names = get(node)
            if names is None:
                members[node] = [name]
            else:
                names.append(name)
    return {node: tuple(names) for node, names in members.items()}


def _conditions(
    patient: Patient, knowledge: Knowledge, *, older_adult: bool, minor: bool
) -> frozenset[str]:
    nodes = knowledge.index.condition_nodes
    flags = _CONDITION_FLAGS(patient)  # every boolean condition of the patient, in one call
    present = [nodes[name] for name, flag in zip(PATIENT_CONDITIONS, flags, strict=True) if flag]
    if older_adult:
        present.append(nodes["older_adult"])
    if minor:
        present.append(nodes["minor"])
    return frozenset(present)


def _edge_hits(
    fired: int,
    members: Mapping[str, tuple[str, ...]],
    conditions: frozenset[str],
    knowledge: Knowledge,
) -> tuple[EdgeHit, ...]:
    """The edges of ``fired`` (a mask of edge positions: both ends present), in data order,
    without those whose two ends are one ingredient alone or whose escalation is not met."""
    edges = knowledge.index.edges
    drugs_of = members.get
    hits = []
    while fired:  # each bit set, lowest first
        low = fired & -fired
        fired ^= low
        position = low.bit_length() - 1
        edge = edges[position]
        drugs_a = drugs_of(edge.node_a, ())
        drugs_b = drugs_of(edge.node_b, ())
        if len(drugs_a) == 1 and drugs_a == drugs_b:
            continue  # one ingredient alone on both sides is not an interaction
        witnesses = ()
        if edge.requires_any:
            witnesses = _witnesses(edge, members, conditions, {*drugs_a, *drugs_b})
            if not witnesses:
                continue  # an escalation whose condition is not met
        stated = edge.states_presence_of
        presence = tuple([(node, drugs_of(node, ())) for node in stated]) if stated else ()
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
    active: tuple[ResolvedOrder, ...],
    knowledge: Knowledge,
    by_order: dict[int, tuple[ResolvedOrder, OrderMme]],
) -> tuple[dict[str, float], tuple[str, ...], tuple[tuple[ResolvedOrder, str], ...]]:
    """MME/day by opioid; the opioids not counted; and those that make the total a lower bound.
    Each order's contribution is kept in ``by_order`` (by index) for the rules.

    Not counted are opioids the CDC does not convert (buprenorphine) and those that cannot be
    counted: no factor for the order's route or product (fentanyl buccal, meperidine), or no
    amount (a brand without its strength, a patch without its rate).
    """
    by_ingredient: dict[str, float] = {}
    excluded: set[str] = set()
    uncounted: list[tuple[ResolvedOrder, str]] = []
    for order in active:
        if not any(OPIOID in ingredient.nodes for ingredient in order.ingredients):
            continue  # no opioid: nothing to count
        contribution = order_mme(order, knowledge)
        by_order[order.index] = (order, contribution)
        for name, mme in contribution.by_ingredient.items():
            by_ingredient[name] = by_ingredient.get(name, 0.0) + mme
        excluded.update(contribution.not_applicable)
        excluded.update(contribution.uncounted)
        uncounted.extend((order, name) for name in contribution.uncounted)
    return by_ingredient, tuple(sorted(excluded)), tuple(uncounted)


def order_mme(order: ResolvedOrder, knowledge: Knowledge) -> OrderMme:
    """MME/day of one order's opioids (CDC 2022 factors), whatever the order's action."""
    table = knowledge.dosing.mme
    context = knowledge.context
    transdermal = order.order.route is Route.TRANSDERMAL
    by_ingredient: dict[str, float] = {}
    uncounted: list[str] = []
    not_applicable: list[str] = []
    for ingredient in order.ingredients:
        if OPIOID not in ingredient.nodes:
            continue
        factor = table.factor(ingredient.name, transdermal=transdermal)
        if factor is None:
            profile = context.form(
                ingredient.name, order.order.route.value, order.order.extended_release
            )
            (not_applicable if profile.mme_not_applicable else uncounted).append(ingredient.name)
            continue
        rate = order.order.rate_mcg_per_hour
        if (factor.unit == "mg" and ingredient.mg_per_day is None) or (
            factor.unit == "mcg_per_hour" and rate <= 0
        ):
            uncounted.append(ingredient.name)
            continue
        by_ingredient[ingredient.name] = by_ingredient.get(ingredient.name, 0.0) + mme_per_day(
            factor, mg_per_day=ingredient.mg_per_day or 0.0, rate_mcg_per_hour=rate
        )
    return OrderMme(by_ingredient, tuple(uncounted), tuple(not_applicable))


def _washout_hits(
    stopped: tuple[ResolvedOrder, ...],
    uses: Mapping[str, IngredientUse],
    members: Mapping[str, tuple[str, ...]],
    as_of: dt.date,
    knowledge: Knowledge,
) -> list[WashoutHit]:
    """Edges between a drug stopped within its washout and an active drug (washouts.csv).

    A stopped ingredient counts again only for the rows it matches, and only for the edges of
    their rule that join it to an active drug of the row's ``other`` node. A ``drug:`` row
    overrides the ``class:`` rows for the same other node (linezolid's 24 hours, not the MAOIs'
    14 days); a stop ``days`` ago has passed a ``days`` window. A drug still taken in another
    order is simply active and needs no washout.
    """
    hits: list[WashoutHit] = []
    for order in stopped:
        stopped_on = order.order.stopped_on or as_of
        days_ago = (as_of - stopped_on).days
        for ingredient in order.ingredients:
            if ingredient.name in uses:
                continue
            for washout in _washouts_for(ingredient.nodes, knowledge):
                if days_ago >= washout.days:
                    continue
                targets = set(members.get(washout.other, ())) - {ingredient.name}
                hits.extend(
                    WashoutHit(hit, ingredient.name, stopped_on, days_ago, washout)
                    for hit in _stopped_edge_hits(
                        ingredient.name,
                        ingredient.nodes,
                        targets,
                        washout.rule_id,
                        members,
                        knowledge,
                    )
                )
    return hits


def _washouts_for(nodes: frozenset[str], knowledge: Knowledge) -> list[Washout]:
    """The window that applies to a drug with these nodes, for each (other node, rule)."""
    chosen: dict[tuple[str, str], Washout] = {}
    for washout in knowledge.context.washouts:
        if washout.stopped not in nodes:
            continue
        key = (washout.other, washout.rule_id)
        current = chosen.get(key)
        if current is None or (washout.specific, washout.days) > (current.specific, current.days):
            chosen[key] = washout
    return list(chosen.values())


def _stopped_edge_hits(
    name: str,
    nodes: frozenset[str],
    targets: set[str],
    rule_id: str,
    members: Mapping[str, tuple[str, ...]],
    knowledge: Knowledge,
) -> list[EdgeHit]:
    """Edges of ``rule_id`` with one end on the stopped drug and the other on ``targets``."""
    if not targets:
        return []
    hits = []
    for position, edge in enumerate(knowledge.index.edges):
        if edge.rule_id != rule_id:
            continue
        for stop_end, active_end, stopped_first in (
            (edge.node_a, edge.node_b, True),
            (edge.node_b, edge.node_a, False),
        ):
            drugs = tuple(d for d in members.get(active_end, ()) if d in targets)
            if stop_end in nodes and drugs:
                sides = ((name,), drugs) if stopped_first else (drugs, (name,))
                hits.append(EdgeHit(edge, *sides, position))
                break
    return hits
