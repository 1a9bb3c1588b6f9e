"""Facts about one request, computed once and shared by every rule.

Resolution of each order, per-ingredient amounts across the whole resulting regimen, the graph
nodes present (ingredients, their classes, the patient's conditions), the interaction edges
that fire among them, MME and the acetaminophen total. Everything here is dictionary lookups
on the indexes built at start-up; nothing walks the graph.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from itertools import compress

from regimenguard.dosing.acetaminophen import ACETAMINOPHEN, acetaminophen_limit_mg_per_day
from regimenguard.interactions.knowledge_base import InteractionEdge
from regimenguard.regimen.cache import OrderRecords
from regimenguard.regimen.compiled import (
    ACTION_MARKERS,
    LONG_ACTING_OPIOID_START,
    REPEATED_INGREDIENT,
    REVERSAL_AGENT_ALONE,
    SNRI_START,
    TOLERANT_ONLY_OPIOID_START,
    UNRESOLVED,
    NodeMasks,
    schedule_marker,
)
from regimenguard.regimen.context_tables import FormProfile, Washout
from regimenguard.regimen.knowledge import Knowledge
from regimenguard.regimen.model import (
    PATIENT_CONDITIONS,
    OrderAction,
    Patient,
    RegimenRequest,
    ResolvedIngredient,
    ResolvedOrder,
    Route,
    TherapyResponse,
)
from regimenguard.regimen.order_mme import NO_OPIOID, OrderMme, order_mme
from regimenguard.regimen.order_record import OrderRecord, records_for
from regimenguard.regimen.slots_init import fast_init
from regimenguard.regimen.vocabulary import OPIOID as OPIOID  # re-exported for the rules
from regimenguard.regimen.vocabulary import OPIOID_OVERDOSE_REVERSAL as OVERDOSE_REVERSAL
from regimenguard.regimen.vocabulary import SEROTONERGIC, SNRI


@dataclass(slots=True, unsafe_hash=True)
class IngredientUse:
    """One ingredient across every active order of the regimen.

    Not frozen (as ``EdgeHit``), so that its ``__init__`` is plain slot stores: a request
    builds one for each ingredient of several orders; never assigned after it is built, and it
    compares and hashes by value as a frozen one does. The use of an ingredient of one order
    alone is kept in the order's record (``_order_entry``) and shared by the requests that
    have that order at that index.
    """

    name: str
    orders: tuple[ResolvedOrder, ...]
    mg_per_day: float
    max_mg_per_dose: float | None
    amount_unknown: bool
    nodes: frozenset[str]
    is_new: bool
    for_back_pain: bool
    masks: NodeMasks  # ``nodes`` compiled (regimenguard.regimen.compiled)
    # whether the amounts of a single order's use are within the ingredient's label maxima at
    # every age (None: not yet asked): it depends on the order alone, so the use its record
    # keeps is judged once (regimenguard.regimen.rules.dose_limits); not part of its value
    within_label_at_any_age: bool | None = field(default=None, compare=False)


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


class RegimenFacts:
    """The facts of one request (``build_facts``), read by every rule; never changed once built
    (``memo`` aside). A plain slots class, not a frozen dataclass: a request builds one, and
    its 25 attributes are stored directly (nothing compares, hashes or copies facts).

    ``present``: every node present (drugs, classes, conditions) plus markers rules are gated
    on (``order:start``, ``order:change_dose``, ``order:unresolved``, ``edges:RULE_ID``), as
    the mask of their bits (regimenguard.regimen.compiled). ``mme_uncounted``: opioids the pain
    MME cannot count (the total is then a lower bound), by order. ``oud_orders``: orders that
    treat opioid use disorder (methadone or buprenorphine for OUD). ``washout_hits_by_rule``:
    interactions of drugs stopped within their washout, by rule id. ``back_pain``: the active
    orders with no indication, the back-pain therapy the guideline judges. ``older_adult``,
    ``minor``: the patient's age against the catalogue's thresholds (rule_thresholds.csv).
    ``records``: the checker's cache (regimenguard.regimen.cache), for what a rule asks of the
    knowledge base by name. ``memo``: derived values two rules share within this request (e.g.
    the label check of a drug). ``order_mme_by_index``: each counted order's MME contribution,
    by its index in the request (see ``mme_of``). ``back_pain_starts``,
    ``back_pain_dose_changes``, ``back_pain_no_benefit``: the back-pain orders that start, that
    change a dose, and whose response is NO_BENEFIT, in request order (the rules that judge
    them read these, not every order).
    """

    __slots__ = (
        "acetaminophen_limit_mg_per_day",
        "acetaminophen_mg_per_day",
        "active_orders",
        "back_pain",
        "back_pain_dose_changes",
        "back_pain_no_benefit",
        "back_pain_starts",
        "conditions",
        "edge_hits",
        "edge_hits_by_rule",
        "ingredients",
        "knowledge",
        "members",
        "memo",
        "minor",
        "mme_by_ingredient",
        "mme_excluded",
        "mme_per_day",
        "mme_uncounted",
        "older_adult",
        "order_mme_by_index",
        "orders",
        "oud_orders",
        "present",
        "records",
        "request",
        "stopped_orders",
        "washout_hits_by_rule",
    )

    def __init__(
        self,
        request: RegimenRequest,
        knowledge: Knowledge,
        orders: tuple[ResolvedOrder, ...],
        active_orders: tuple[ResolvedOrder, ...],
        stopped_orders: tuple[ResolvedOrder, ...],
        ingredients: Mapping[str, IngredientUse],
        members: Mapping[str, tuple[str, ...]],
        conditions: frozenset[str],
        edge_hits: tuple[EdgeHit, ...],
        acetaminophen_mg_per_day: float,
        acetaminophen_limit_mg_per_day: float,
        mme_per_day: float,
        mme_by_ingredient: Mapping[str, float],
        mme_excluded: tuple[str, ...],
        edge_hits_by_rule: Mapping[str, tuple[EdgeHit, ...]],
        present: int,
        mme_uncounted: tuple[tuple[ResolvedOrder, str], ...] = (),
        oud_orders: tuple[ResolvedOrder, ...] = (),
        washout_hits_by_rule: Mapping[str, tuple[WashoutHit, ...]] | None = None,
        back_pain: tuple[ResolvedOrder, ...] = (),
        older_adult: bool = False,
        minor: bool = False,
        records: OrderRecords | None = None,
        memo: dict[object, object] | None = None,
        order_mme_by_index: Mapping[int, tuple[ResolvedOrder, OrderMme]] | None = None,
        back_pain_starts: tuple[ResolvedOrder, ...] = (),
        back_pain_dose_changes: tuple[ResolvedOrder, ...] = (),
        back_pain_no_benefit: tuple[ResolvedOrder, ...] = (),
    ) -> None:
        self.request = request
        self.knowledge = knowledge
        self.orders = orders
        self.active_orders = active_orders
        self.stopped_orders = stopped_orders
        self.ingredients = ingredients
        self.members = members
        self.conditions = conditions
        self.edge_hits = edge_hits
        self.acetaminophen_mg_per_day = acetaminophen_mg_per_day
        self.acetaminophen_limit_mg_per_day = acetaminophen_limit_mg_per_day
        self.mme_per_day = mme_per_day
        self.mme_by_ingredient = mme_by_ingredient
        self.mme_excluded = mme_excluded
        self.edge_hits_by_rule = edge_hits_by_rule
        self.present = present
        self.mme_uncounted = mme_uncounted
        self.oud_orders = oud_orders
        self.washout_hits_by_rule = {} if washout_hits_by_rule is None else washout_hits_by_rule
        self.back_pain = back_pain
        self.older_adult = older_adult
        self.minor = minor
        self.records = records
        self.memo = {} if memo is None else memo
        self.order_mme_by_index = {} if order_mme_by_index is None else order_mme_by_index
        self.back_pain_starts = back_pain_starts
        self.back_pain_dose_changes = back_pain_dose_changes
        self.back_pain_no_benefit = back_pain_no_benefit

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
        that order's route, among ``orders`` (default: the back-pain orders), in order.

        An ingredient realising a node in one of its orders realises it in the regimen too
        (``members``), unless a dose exemption takes that class away: for the back-pain orders
        and any other node, only the orders of the node's members are looked at.
        """
        if orders is None:
            exempted = self.knowledge.context.exempted_class_nodes
            if exempted is not None and node not in exempted:
                names = self.members.get(node)
                if names is None:
                    return []
                uses = self.ingredients
                if len(names) == 1:
                    candidates: tuple[ResolvedOrder, ...] | list[ResolvedOrder] = uses[
                        names[0]
                    ].orders
                else:
                    by_index = {order.index: order for name in names for order in uses[name].orders}
                    candidates = [by_index[index] for index in sorted(by_index)]
                return [
                    (order, ingredient)
                    for order in candidates
                    if not order.order.indication  # a back-pain order (back_pain)
                    for ingredient in order.ingredients
                    if node in ingredient.nodes
                ]
            orders = self.back_pain
        return [
            (order, ingredient)
            for order in orders
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
        record = order.record
        if record is not None and record.ingredients is order.ingredients:
            return record.mme  # the order's record computed it
        return order_mme(order, self.knowledge)

    def is_oud_treatment(self, order: ResolvedOrder) -> bool:
        return any(order is oud for oud in self.oud_orders)


def build_facts(
    request: RegimenRequest,
    knowledge: Knowledge,
    records: OrderRecords | None = None,
) -> RegimenFacts:
    """The facts of one request; ``records``: the checker's cache of order records (the
    request's own ``order_records`` are used when they are those of its orders)."""
    prepared = records_for(request.medications, knowledge, records, request.order_records)
    compiled = knowledge.compiled
    bit = compiled.bit
    order_list: list[ResolvedOrder] = []
    active_list: list[ResolvedOrder] = []
    stopped_list: list[ResolvedOrder] = []
    back_pain: list[ResolvedOrder] = []
    starts: list[ResolvedOrder] = []  # back-pain orders that start, ...
    dose_changes: list[ResolvedOrder] = []  # ... that change a dose
    no_benefit: list[ResolvedOrder] = []  # ... whose response is NO_BENEFIT
    opioid_orders: list[tuple[ResolvedOrder, OrderMme]] = []  # active, not treating OUD
    oud_list: list[ResolvedOrder] = []
    markers = 0  # what the active orders do (order:start, ...), and whether one is unresolved
    # each active ingredient's use, first as its order alone made it (see _order_entry)
    uses: dict[str, IngredientUse] = {}
    repeated: dict[str, list[ResolvedOrder]] = {}  # ingredients of more than one order
    irregular = False  # an order naming one ingredient twice: grouped the general way
    for index, record in enumerate(prepared):  # one pass over the orders
        entry = record.entries.get(index)
        if entry is None or entry[0] is not knowledge:
            entry = _order_entry(record, index, knowledge)
        _, order, kind, order_markers, own_uses = entry
        order_list.append(order)
        if kind & _STOPPED:
            stopped_list.append(order)
            continue
        active_list.append(order)
        markers |= order_markers
        if kind & _BACK_PAIN:
            back_pain.append(order)
            if kind & _NOTABLE:
                if kind & _STARTS:
                    starts.append(order)
                elif kind & _CHANGES_DOSE:
                    dose_changes.append(order)
                if kind & _NO_BENEFIT:
                    no_benefit.append(order)
        if kind & _TREATS_OUD:
            oud_list.append(order)
        elif kind & _OPIOID:
            opioid_orders.append((order, record.mme))
        if own_uses is None:
            irregular = True
            continue
        for use in own_uses:
            name = use.name
            if name not in uses:
                uses[name] = use
            else:
                orders_of = repeated.get(name)
                if orders_of is None:
                    repeated[name] = [uses[name].orders[0], order]
                else:
                    orders_of.append(order)
    orders, active, stopped = tuple(order_list), tuple(active_list), tuple(stopped_list)
    if irregular:
        ingredients = _ingredient_uses(active, stopped, knowledge)
    elif repeated or stopped:
        ingredients = _with_repeats(uses, repeated, stopped, knowledge)
    else:  # each ingredient in one order, none stopped: the kept uses as they are
        ingredients = uses
    members = _members(ingredients)
    patient = request.patient
    older_adult = knowledge.thresholds.is_older_adult(patient.age_years)
    minor = knowledge.thresholds.is_minor(patient.age_years)
    conditions = _conditions(patient, knowledge, older_adult=older_adult, minor=minor)
    acetaminophen = ingredients.get(ACETAMINOPHEN)
    oud_orders = tuple(oud_list)
    order_mmes: dict[int, tuple[ResolvedOrder, OrderMme]] = {}
    mme_by_ingredient, excluded, uncounted = _mme(opioid_orders, order_mmes)
    present, edges_a, edges_b = markers, 0, 0
    for use in ingredients.values():
        masks = use.masks
        present |= masks.nodes
        edges_a |= masks.edges_a
        edges_b |= masks.edges_b
    for condition in conditions:
        masks = compiled.conditions[condition]
        present |= masks.nodes
        edges_a |= masks.edges_a
        edges_b |= masks.edges_b
    by_rule: dict[str, tuple[EdgeHit, ...]] = {}
    edge_hits, rule_markers = _edge_hits(edges_a & edges_b, members, conditions, knowledge, by_rule)
    present |= rule_markers
    washouts: dict[str, list[WashoutHit]] = {}
    if stopped:
        for washout_hit in _washout_hits(stopped, ingredients, members, request.as_of, knowledge):
            washouts.setdefault(washout_hit.hit.edge.rule_id, []).append(washout_hit)
        for hits in washouts.values():
            present |= 1 << compiled.edge_rule_bit[hits[0].hit.position]
    if repeated or (irregular and any(len(use.orders) > 1 for use in ingredients.values())):
        present |= 1 << bit[REPEATED_INGREDIENT]
    return RegimenFacts(  # positional, in parameter order
        request,
        knowledge,
        orders,
        active,
        stopped,
        ingredients,
        members,
        conditions,
        edge_hits,
        acetaminophen.mg_per_day if acetaminophen else 0.0,
        acetaminophen_limit_mg_per_day(
            knowledge.settings.acetaminophen,
            older_adult=older_adult,
            hepatic_impairment=patient.hepatic_impairment,
            alcohol_use_disorder=patient.alcohol_use_disorder,
        ),
        sum(mme_by_ingredient.values()),
        mme_by_ingredient,
        excluded,
        by_rule,
        present,
        uncounted,
        oud_orders,
        {rule: tuple(hits) for rule, hits in washouts.items()},
        tuple(back_pain),
        older_adult,
        minor,
        records,
        {},
        order_mmes,
        tuple(starts),
        tuple(dose_changes),
        tuple(no_benefit),
    )


_CONDITION_FLAGS = operator.attrgetter(*PATIENT_CONDITIONS)
_new = object.__new__
_STOP = OrderAction.STOP
_CHANGE_DOSE = OrderAction.CHANGE_DOSE
_NO_BENEFIT_RESPONSE = TherapyResponse.NO_BENEFIT


# An order's record keeps its entry for at most this many indices (about 600 bytes each): the
# same order sits at a few places in most regimens, and the bound keeps the records' memory
# within a few times their own size whatever the traffic (an order at a further index has its
# entry computed for the request, as it would be without the record).
KEPT_INDICES_PER_RECORD = 4

# what an order is to the facts of a request (``_order_entry``): stopped, back-pain therapy,
# treating OUD, an opioid counted for MME; starting, changing a dose, a response of NO_BENEFIT
_STOPPED, _BACK_PAIN, _TREATS_OUD, _OPIOID = 1, 2, 4, 8
_STARTS, _CHANGES_DOSE, _NO_BENEFIT = 16, 32, 64
_NOTABLE = _STARTS | _CHANGES_DOSE | _NO_BENEFIT


def _order_entry(
    record: OrderRecord, index: int, knowledge: Knowledge
) -> tuple[Knowledge, ResolvedOrder, int, int, tuple[IngredientUse, ...] | None]:
    """What the ``index``-th order of a request brings to its facts, kept in its record: it
    depends on the order, its index and the knowledge base alone.

    (the knowledge base, the order resolved, what it is (``_STOPPED``, ``_BACK_PAIN``,
    ``_TREATS_OUD``, ``_OPIOID``: an opioid counted for MME), the markers it sets (its action,
    unresolved), each ingredient's use as if no other order had it; None when the order names
    one ingredient twice).
    """
    if record.effective is None:  # an order the service did not validate
        record.resolve(knowledge)
    order = record.resolved(index)
    medication = order.order
    action = medication.action
    kind = markers = 0
    own_uses: tuple[IngredientUse, ...] | None = ()
    if action is _STOP:
        kind = _STOPPED
    else:
        bit = knowledge.compiled.bit
        markers = 1 << bit[ACTION_MARKERS[action]]
        if order.unresolved_names:
            markers |= 1 << bit[UNRESOLVED]
        if not medication.indication:  # back-pain therapy (MedicationOrder.is_back_pain_therapy)
            kind |= _BACK_PAIN
        if action is _START:
            kind |= _STARTS
        elif action is _CHANGE_DOSE:
            kind |= _CHANGES_DOSE
        if medication.response is _NO_BENEFIT_RESPONSE:
            kind |= _NO_BENEFIT
        if record.treats_oud:
            kind |= _TREATS_OUD
        elif record.mme is not NO_OPIOID:
            kind |= _OPIOID
        # the rules gated on one order (order_rule_markers) look at a back-pain order with a
        # scheduling constraint, and at an opioid or SNRI started: most orders are neither
        scheduled = knowledge.dosing.scheduled_nodes if kind & _BACK_PAIN else _NO_NODES
        started = action is _START
        for part in order.ingredients:
            nodes = part.nodes
            if (started and (OPIOID in nodes or SNRI in nodes)) or not scheduled.isdisjoint(nodes):
                markers |= order_rule_markers(
                    order, kind & _BACK_PAIN, kind & _TREATS_OUD, knowledge
                )
                break
        parts = order.ingredients
        if (
            parts
            and OVERDOSE_REVERSAL in parts[0].nodes  # the first decides most orders
            and all(OVERDOSE_REVERSAL in part.nodes for part in parts)
        ):
            markers |= 1 << bit[REVERSAL_AGENT_ALONE]
        if len(parts) == 1:  # the common case: one ingredient
            own_uses = (_single_use(order, parts[0], knowledge),)
        elif len({ingredient.name for ingredient in parts}) == len(parts):
            own_uses = tuple([_single_use(order, part, knowledge) for part in parts])
        else:
            own_uses = None
    entry = (knowledge, order, kind, markers, own_uses)
    entries = record.entries
    if index in entries or len(entries) < KEPT_INDICES_PER_RECORD:
        entries[index] = entry
    return entry


# each route's name as the dosing tables spell it (``route.value`` is a Python-level lookup)
ROUTE_NAMES: Mapping[Route, str] = {route: route.value for route in Route}
_START = OrderAction.START
_NO_NODES: frozenset[str] = frozenset()
# For each rule with scheduling constraints (schedule_constraints.csv): each constraint it
# judges -> whether an order breaks it (DOSING_SCHEDULE; TRAMADOL_EXTENDED_RELEASE_START: an
# extended-release start, when no short-acting order of the drug is current)
SCHEDULE_BREAKS: Mapping[str, Mapping[str, Callable[[ResolvedOrder], bool]]] = {
    "DOSING_SCHEDULE": {
        "not_as_needed": lambda order: order.order.as_needed,
        "at_most_once_daily": lambda order: order.order.doses_per_day > 1,
        "extended_release_not_as_needed": lambda order: (
            order.order.extended_release and order.order.as_needed
        ),
    },
    "TRAMADOL_EXTENDED_RELEASE_START": {
        "extended_release_not_first": lambda order: (
            order.order.action is _START and order.order.extended_release
        ),
    },
}
TRAMADOL_ER_RULE = "TRAMADOL_EXTENDED_RELEASE_START"


def order_rule_markers(
    order: ResolvedOrder, back_pain: int, treats_oud: int, knowledge: Knowledge
) -> int:
    """The markers of what one active order alone must bring for some rules to fire
    (regimenguard.regimen.compiled): a back-pain order breaking a scheduling constraint of a
    rule (``schedule:RULE_ID``); an opioid started, not for opioid use disorder, in a
    long-acting form without a rule of its own, or in a form or at an amount for
    opioid-tolerant patients only; an SNRI started for back pain. Those rules are gated on
    them: a regimen without one is not asked."""
    medication = order.order
    started = medication.action is _START
    dosing = knowledge.dosing
    bit = knowledge.compiled.bit
    markers = 0
    for ingredient in order.ingredients:
        nodes = ingredient.nodes
        if back_pain:
            for node in dosing.scheduled_nodes.intersection(nodes):
                for constraint in dosing.schedule_constraints.get(node, ()):
                    rule_id = constraint.rule_id
                    broken = SCHEDULE_BREAKS.get(rule_id, _NONE_BROKEN).get(constraint.constraint)
                    if broken is None or not broken(order):
                        continue
                    marker = bit.get(schedule_marker(rule_id))
                    if marker is not None:
                        markers |= 1 << marker
        if not started:
            continue
        if OPIOID in nodes and not treats_oud:
            profile = knowledge.context.form(
                ingredient.name, ROUTE_NAMES[medication.route], medication.extended_release
            )
            if profile.long_acting and not has_own_er_rule(ingredient, knowledge):
                markers |= 1 << bit[LONG_ACTING_OPIOID_START]
            if needs_tolerance(order, ingredient, profile):
                markers |= 1 << bit[TOLERANT_ONLY_OPIOID_START]
        if back_pain and SNRI in nodes:
            markers |= 1 << bit[SNRI_START]
    return markers


_NONE_BROKEN: Mapping[str, Callable[[ResolvedOrder], bool]] = {}


def has_own_er_rule(ingredient: ResolvedIngredient, knowledge: Knowledge) -> bool:
    """Extended-release tramadol has its own rule (TRAMADOL_EXTENDED_RELEASE_START)."""
    nodes = knowledge.dosing.schedule_nodes.get(TRAMADOL_ER_RULE)
    return nodes is not None and not nodes.isdisjoint(ingredient.nodes)


def needs_tolerance(
    order: ResolvedOrder, ingredient: ResolvedIngredient, profile: FormProfile
) -> bool:
    """The form is for tolerant patients only (a patch), or the amount is (OxyContin > 80 mg/day)."""
    if order.order.rate_mcg_per_hour > 0:
        return profile.tolerant_only
    return profile.needs_tolerance(ingredient.mg_per_dose, ingredient.mg_per_day)


def _with_repeats(
    uses: dict[str, IngredientUse],
    repeated: Mapping[str, list[ResolvedOrder]],
    stopped: tuple[ResolvedOrder, ...],
    knowledge: Knowledge,
) -> dict[str, IngredientUse]:
    """``uses`` (each ingredient's as its first order alone made it, in order of appearance)
    with the ingredients of several orders (``repeated``: their orders) grouped across them,
    and those the request also stops not new (see ``_ingredient_uses``)."""
    being_stopped = _being_stopped(stopped)
    for name in being_stopped:
        use = uses.get(name)
        if use is not None and use.is_new and name not in repeated:
            uses[name] = _not_new(use)
    for name, orders in repeated.items():
        parts = []
        for order in orders:
            for ingredient in order.ingredients:
                if ingredient.name == name:
                    parts.append((order, ingredient))
        uses[name] = _use_of_parts(name, parts, being_stopped, knowledge)
    return uses


def _ingredient_uses(
    active: tuple[ResolvedOrder, ...], stopped: tuple[ResolvedOrder, ...], knowledge: Knowledge
) -> dict[str, IngredientUse]:
    """Each active ingredient across its orders.

    A new agent is an ingredient that appears only in START orders: one the request also
    stops (stop 30 mg, start 60 mg; short-acting stopped, extended-release started) is a drug
    the patient already takes.
    """
    being_stopped = _being_stopped(stopped)
    grouped: dict[str, list[tuple[ResolvedOrder, ResolvedIngredient]]] = {}
    get = grouped.get
    for order in active:
        for ingredient in order.ingredients:
            parts = get(ingredient.name)
            if parts is None:
                grouped[ingredient.name] = [(order, ingredient)]
            else:
                parts.append((order, ingredient))
    uses = {}
    for name, parts in grouped.items():
        if len(parts) == 1:  # the common case: one order of this ingredient
            use = _single_use(*parts[0], knowledge)
            uses[name] = _not_new(use) if use.is_new and name in being_stopped else use
        else:
            uses[name] = _use_of_parts(name, parts, being_stopped, knowledge)
    return uses


def _being_stopped(stopped: tuple[ResolvedOrder, ...]) -> frozenset[str] | set[str]:
    """The ingredients of the orders a request stops."""
    if not stopped:
        return frozenset()
    return {ingredient.name for order in stopped for ingredient in order.ingredients}


def _single_use(
    order: ResolvedOrder, part: ResolvedIngredient, knowledge: Knowledge
) -> IngredientUse:
    """The use of an ingredient only ``order`` has; new when the order starts it (unless the
    request also stops it: ``_not_new``)."""
    name = part.name
    mg_per_day = part.mg_per_day or 0.0
    amount_unknown = part.mg_per_day is None
    nodes = part.nodes
    if name in knowledge.index.conditional_nodes or name in knowledge.context.dose_exemptions:
        nodes = _dose_nodes(name, nodes, mg_per_day, amount_unknown, (order,), knowledge)
    compiled = knowledge.compiled
    masks = compiled.known_sets.get(nodes)  # compiled.masks_of, its common case inline
    if masks is None:
        masks = compiled.masks_of(nodes)
    medication = order.order
    # IngredientUse(name, (order,), ...), its slots filled here (as EdgeHit's in _edge_hits: a
    # class call into a Python __init__ costs more than the stores); one per new order's
    # ingredient
    use = _new(IngredientUse)
    use.name = name
    use.orders = (order,)
    use.mg_per_day = mg_per_day
    use.max_mg_per_dose = part.mg_per_dose
    use.amount_unknown = amount_unknown
    use.nodes = nodes
    use.is_new = medication.action is _START
    use.for_back_pain = not medication.indication  # is_back_pain_therapy
    use.masks = masks
    use.within_label_at_any_age = None
    return use


def _use_of_parts(
    name: str,
    parts: list[tuple[ResolvedOrder, ResolvedIngredient]],
    being_stopped: frozenset[str] | set[str],
    knowledge: Knowledge,
) -> IngredientUse:
    """The use of an ingredient across several orders (``parts``: each with its amounts)."""
    orders = []
    days = []
    doses = []
    first_nodes = parts[0][1].nodes
    one_node_set = True  # every part has the very same nodes (the same route): no union
    all_started = True
    for_back_pain = False
    start = _START
    for order, part in parts:  # one pass over the parts
        orders.append(order)
        medication = order.order
        if part.mg_per_day is not None:
            days.append(part.mg_per_day)
        if part.mg_per_dose is not None:
            doses.append(part.mg_per_dose)
        if part.nodes is not first_nodes:
            one_node_set = False
        if medication.action is not start:
            all_started = False
        if not medication.indication:  # is_back_pain_therapy
            for_back_pain = True
    mg_per_day = sum(days)
    amount_unknown = len(days) < len(parts)
    used_in = tuple(orders)
    if one_node_set:
        all_nodes = first_nodes
    else:
        all_nodes = frozenset().union(*[part.nodes for _, part in parts])
    if name in knowledge.index.conditional_nodes or name in knowledge.context.dose_exemptions:
        nodes = _dose_nodes(name, all_nodes, mg_per_day, amount_unknown, used_in, knowledge)
    else:  # no class held or dropped at a dose (_dose_nodes would change nothing)
        nodes = all_nodes
    compiled = knowledge.compiled
    masks = compiled.known_sets.get(nodes)  # compiled.masks_of, its common case inline
    if masks is None:
        masks = compiled.masks_of(nodes)
    return IngredientUse(
        name,
        used_in,
        mg_per_day,
        max(doses) if doses else None,
        amount_unknown,
        nodes,
        all_started and name not in being_stopped,
        for_back_pain,
        masks,
    )


def _dose_nodes(
    name: str,
    nodes: frozenset[str],
    mg_per_day: float,
    amount_unknown: bool,
    orders: tuple[ResolvedOrder, ...],
    knowledge: Knowledge,
) -> frozenset[str]:
    """An ingredient's nodes at its daily amount in ``orders``: with the classes it holds only
    above a dose (taken systemically), without those it is exempt from at or below one."""
    for threshold, extra in knowledge.index.conditional_nodes.get(name, ()):
        if mg_per_day > threshold and any(order.order.route.is_systemic for order in orders):
            nodes = nodes | extra
    for exemption in knowledge.context.dose_exemptions.get(name, ()):
        if not amount_unknown and mg_per_day <= exemption.at_or_below_mg_per_day:
            nodes = nodes - {f"class:{exemption.class_id}"}
    return nodes


def _not_new(use: IngredientUse) -> IngredientUse:
    """``use`` of an ingredient the request also stops: a drug the patient already takes."""
    return IngredientUse(
        use.name,
        use.orders,
        use.mg_per_day,
        use.max_mg_per_dose,
        use.amount_unknown,
        use.nodes,
        False,
        use.for_back_pain,
        use.masks,
    )


def _members(uses: Mapping[str, IngredientUse]) -> dict[str, tuple[str, ...]]:
    """Each node of the active ingredients -> the ingredients that realise it, sorted."""
    members: dict[str, tuple[str, ...]] = {}
    shared: dict[str, list[str]] = {}  # the nodes of more than one ingredient, as they grow
    for name in sorted(uses):
        alone = (name,)
        for node in uses[name].nodes:
            if node not in members:
                members[node] = alone
            elif node not in shared:
                shared[node] = [*members[node], name]
            else:
                shared[node].append(name)
    for node, names in shared.items():
        members[node] = tuple(names)
    return members


def _conditions(
    patient: Patient, knowledge: Knowledge, *, older_adult: bool, minor: bool
) -> frozenset[str]:
    """The patient's condition nodes: each boolean condition that holds (every flag read in
    one call, its node taken from the compiled table in the same order), older adult, minor."""
    nodes = knowledge.compiled.patient_condition_nodes
    present = frozenset(compress(nodes, _CONDITION_FLAGS(patient)))
    if older_adult or minor:
        named = knowledge.index.condition_nodes
        extra = []
        if older_adult:
            extra.append(named["older_adult"])
        if minor:
            extra.append(named["minor"])
        present = present.union(extra)
    return present


def _edge_hits(
    fired: int,
    members: Mapping[str, tuple[str, ...]],
    conditions: frozenset[str],
    knowledge: Knowledge,
    by_rule: dict[str, tuple[EdgeHit, ...]],
) -> tuple[tuple[EdgeHit, ...], int]:
    """The edges of ``fired`` (a mask of edge positions: both ends present), in data order,
    without those whose two ends are one ingredient alone or whose escalation is not met; and
    the mask of their rules' ``edges:RULE_ID`` markers. ``by_rule`` gets them by rule id."""
    rows = knowledge.compiled.edge_rows  # an edge's bit -> its fields (compiled.EdgeRow)
    drugs_of = members.get
    new_hit = object.__new__
    hits = []
    markers = 0
    witnesses: tuple[tuple[str, tuple[str, ...]], ...]
    presence: tuple[tuple[str, tuple[str, ...]], ...]
    while fired:  # each bit set, lowest first
        low = fired & -fired
        fired ^= low
        edge, position, node_a, node_b, requires, stated, rule_id, marker = rows[low]
        drugs_a = drugs_of(node_a, ())
        drugs_b = drugs_of(node_b, ())
        if len(drugs_a) == 1 and drugs_a == drugs_b:
            continue  # one ingredient alone on both sides is not an interaction
        witnesses = ()
        if requires:
            witnesses = _witnesses(edge, members, conditions, {*drugs_a, *drugs_b})
            if not witnesses:
                continue  # an escalation whose condition is not met
        if not stated:
            presence = ()
        elif len(stated) == 1:  # the common case: one node's presence stated
            node = stated[0]
            presence = ((node, drugs_of(node, ())),)
        else:
            presence = tuple([(node, drugs_of(node, ())) for node in stated])
        # EdgeHit(edge, drugs_a, drugs_b, position, witnesses, presence), its slots filled
        # here: a class call into a Python __init__ costs more than the six stores
        hit = new_hit(EdgeHit)
        hit.edge = edge
        hit.drugs_a = drugs_a
        hit.drugs_b = drugs_b
        hit.position = position
        hit.witnesses = witnesses
        hit.presence = presence
        hits.append(hit)
        markers |= marker
        if rule_id in by_rule:
            by_rule[rule_id] = (*by_rule[rule_id], hit)
        else:
            by_rule[rule_id] = (hit,)
    return tuple(hits), markers


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
            continue
        drugs = members.get(node)
        if drugs is None:
            continue  # not present
        others = tuple([drug for drug in drugs if drug not in on_the_edge])
        if others:
            found.append((node, others))
    return tuple(found)


def _mme(
    active: list[tuple[ResolvedOrder, OrderMme]],
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
    for order, contribution in active:  # the active orders with an opioid, not for OUD
        by_order[order.index] = (order, contribution)
        for name, mme in contribution.by_ingredient.items():
            by_ingredient[name] = by_ingredient.get(name, 0.0) + mme
        if contribution.not_applicable:
            excluded.update(contribution.not_applicable)
        if contribution.uncounted:
            excluded.update(contribution.uncounted)
            uncounted.extend((order, name) for name in contribution.uncounted)
    return by_ingredient, tuple(sorted(excluded)), tuple(uncounted)


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
