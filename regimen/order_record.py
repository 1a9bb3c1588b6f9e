"""One order, decoded, validated and resolved once: the record the checker's cache holds.

What an order contributes depends only on the order and the knowledge base (site settings
included): whether it can be checked (its violations, with paths relative to the order), the
order as checked (its texts stripped), and what it resolves to (product, ingredients with
per-dose and per-day amounts and graph nodes, the names it could not resolve, the classes its
indication sets aside). ``RegimenChecker.order_records`` keeps records by the order's content
(the received ``MedicationOrder``, or the bytes of its protobuf message at the gRPC door), so a
nightly review that repeats the same ibuprofen 600 mg in thousands of regimens does this work
once. ``records_for`` gives the records of a request; the service validates and the facts
resolve from them, so nothing is decoded, validated or resolved twice in one request.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from regimenguard.interactions.resolver import LOOK_UP
from regimenguard.regimen.cache import OrderRecords
from regimenguard.regimen.model import (
    MedicationOrder,
    RegimenRequest,
    ResolvedIngredient,
    ResolvedOrder,
    assemble_request,
    assemble_resolved_order,
)
from regimenguard.regimen.order_mme import NO_OPIOID, OrderMme, order_mme
from regimenguard.regimen.resolution import contribution_and_oud
from regimenguard.regimen.validation import normalized_order, order_violations
from regimenguard.regimen.vocabulary import OPIOID

if TYPE_CHECKING:
    from regimenguard.regimen.knowledge import Knowledge
    from regimenguard.regimen.validation import Path


class OrderRecord:
    """``received``: the order as given; ``order``: as checked (texts stripped);
    ``violations``: (path within the order, description) for each field that cannot be
    checked; then what it resolves to: ``effective`` (the order as its product makes it),
    ``product``, ``ingredients``, ``unresolved`` (names), ``mme`` (what its opioids contribute
    to MME/day) and ``treats_oud``. An order that can be checked is resolved when its record is
    built; one that cannot only if it is asked to be (``resolve``: a caller of the checker
    that skipped validation)."""

    __slots__ = (
        "amount_texts",
        "effective",
        "entries",
        "ingredients",
        "mme",
        "order",
        "product",
        "received",
        "rendered",
        "rule_values",
        "treats_oud",
        "unresolved",
        "violations",
    )

    def __init__(
        self,
        received: MedicationOrder,
        order: MedicationOrder,
        violations: tuple[tuple[Path, str], ...] = (),
    ) -> None:
        self.received = received
        self.order = order
        self.violations = violations
        self.effective: MedicationOrder | None = None  # None: not resolved
        self.product = ""
        self.ingredients: tuple[ResolvedIngredient, ...] = ()
        self.unresolved: tuple[str, ...] = ()
        self.mme: OrderMme = NO_OPIOID
        self.treats_oud = False
        # what the door that answers made of the resolved order for its answer (the gRPC
        # door: its encoded ResolvedOrder, once the record is used again), kept with it
        self.rendered: object = None
        # each ingredient's amount as the findings word it (rules.base.order_amount), by name
        self.amount_texts: dict[str, str] = {}
        # what the rules derive from this order alone (rules.base.kept_value), by the function
        # that derives it: texts and numbers, never the resolved order (no cycle to the record)
        self.rule_values: dict[object, object] = {}
        # what the facts of a request take from this order at each index it was checked at
        # (regimenguard.regimen.facts: its ResolvedOrder, ingredient uses and markers), built
        # there once the record is resolved
        self.entries: dict[int, tuple[object, ...]] = {}

    def resolve(self, knowledge: Knowledge, match: object = LOOK_UP) -> None:
        """Resolve the order (``match``: what its drug name resolves to, when looked up)."""
        contribution, self.treats_oud = contribution_and_oud(self.order, knowledge, match)
        effective, product, ingredients, unresolved = contribution
        self.product, self.ingredients, self.unresolved = product, ingredients, unresolved
        for ingredient in ingredients:
            if OPIOID in ingredient.nodes:
                resolved = assemble_resolved_order(  # ResolvedOrder(...), faster
                    0, effective, product, ingredients, unresolved, None
                )
                self.mme = order_mme(resolved, knowledge)
                break
        self.effective = effective  # last: the record is resolved

    def release(self) -> None:
        """The cache let this record go: drop the kept entries (their resolved orders refer
        back to the record, a cycle only the garbage collector would otherwise break). A
        request still using the record builds what it needs afresh, with the same answer."""
        self.entries = {}

    def resolved(self, index: int) -> ResolvedOrder:
        """The order resolved, as the ``index``-th order of a request."""
        return assemble_resolved_order(  # ResolvedOrder(...), its fields in order, faster
            index, self.effective, self.product, self.ingredients, self.unresolved, self
        )


def build_record(order: MedicationOrder, knowledge: Knowledge) -> OrderRecord:
    """The record of ``order``: validated, and resolved when it can be checked. The drug name is
    looked up once, for validation (does the order need a dose?) and resolution alike."""
    checked = normalized_order(order)
    drug = checked.drug
    match = knowledge.resolver.resolve(drug) if drug else None
    violations = order_violations(order, knowledge.settings.max_text_length, knowledge, match)
    record = OrderRecord(order, checked, violations)
    if not violations:
        record.resolve(knowledge, match)
    return record


def record_of(
    order: MedicationOrder, knowledge: Knowledge, cache: OrderRecords | None
) -> OrderRecord:
    """The record of ``order``, from ``cache`` by the order itself (its content)."""
    if cache is None:
        return build_record(order, knowledge)
    return cache.get_or_compute(order, lambda: build_record(order, knowledge))


def matches(records: Sequence[OrderRecord], orders: Sequence[MedicationOrder]) -> bool:
    """True when ``records`` are those of ``orders`` (the very same order objects, as received
    or as checked, in order)."""
    if len(records) != len(orders):
        return False
    # the lengths are equal; the order as checked first (what a checked request carries)
    for record, order in zip(records, orders):  # noqa: B905
        if record.order is not order and record.received is not order:
            return False
    return True


def records_for(
    orders: Sequence[MedicationOrder],
    knowledge: Knowledge,
    cache: OrderRecords | None,
    given: Sequence[OrderRecord] = (),
) -> tuple[OrderRecord, ...]:
    """The records of ``orders``: ``given`` when an adapter built them for these very orders,
    else from ``cache``."""
    if given and matches(given, orders):
        return tuple(given)
    return tuple(record_of(order, knowledge, cache) for order in orders)


def with_records(request: RegimenRequest, records: tuple[OrderRecord, ...]) -> RegimenRequest:
    """``request`` carrying ``records`` (those of its orders) for the checker."""
    if request.order_records is records:
        return request
    return assemble_request(  # RegimenRequest(...), its fields in order, faster
        request.request_id,
        request.as_of,
        request.patient,
        request.medications,
        request.acknowledgements,
        records,
    )
