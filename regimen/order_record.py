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

from collections.abc import Hashable, Sequence
from typing import TYPE_CHECKING

from regimenguard.regimen.cache import OrderRecords
from regimenguard.regimen.model import MedicationOrder, RegimenRequest, ResolvedOrder
from regimenguard.regimen.order_mme import NO_OPIOID, OrderMme, order_mme
from regimenguard.regimen.resolution import Contribution, contribution_of, treats_oud
from regimenguard.regimen.validation import normalized_order, order_violations
from regimenguard.regimen.vocabulary import OPIOID

if TYPE_CHECKING:
    from regimenguard.interactions.resolver import NameMatch
    from regimenguard.regimen.knowledge import Knowledge
    from regimenguard.regimen.validation import Path


_UNRESOLVED = object()  # an OrderRecord's name match not looked up yet


class OrderRecord:
    """``received``: the order as given; ``order``: as checked (texts stripped);
    ``violations``: (path within the order, description) for each field that cannot be
    checked; ``contribution``: what it resolves to (computed when first asked for)."""

    __slots__ = (
        "_contribution",
        "_knowledge",
        "_match",
        "_mme",
        "_treats_oud",
        "order",
        "received",
        "rendered",
        "violations",
    )

    def __init__(
        self,
        received: MedicationOrder,
        order: MedicationOrder,
        violations: tuple[tuple[Path, str], ...],
        knowledge: Knowledge,
    ) -> None:
        self.received = received
        self.order = order
        self.violations = violations
        self._knowledge = knowledge
        self._contribution: Contribution | None = None
        self._match: object = _UNRESOLVED
        self._mme: OrderMme | None = None
        self._treats_oud: bool | None = None
        # what the door that answers made of the resolved order for its answer (the gRPC
        # door: its ResolvedOrder message, once the record is used again), kept with it
        self.rendered: object = None

    @property
    def contribution(self) -> Contribution:
        """(the order as its product makes it, its product, ingredients, unresolved names)."""
        contribution = self._contribution
        if contribution is None:
            contribution = self._contribution = contribution_of(
                self.order, self._knowledge, self.name_match()
            )
        return contribution

    def name_match(self) -> NameMatch | None:
        """What the order's drug name resolves to (None: unknown, or no name), looked up once
        for validation and resolution alike."""
        match = self._match
        if match is _UNRESOLVED:
            drug = self.order.drug
            match = self._match = self._knowledge.resolver.resolve(drug) if drug else None
        return match  # type: ignore[return-value]

    @property
    def mme(self) -> OrderMme:
        """What the order's opioids contribute to MME/day (nothing when it has none)."""
        mme = self._mme
        if mme is None:
            ingredients = self.contribution[2]
            if any(OPIOID in ingredient.nodes for ingredient in ingredients):
                mme = order_mme(self.resolved(0), self._knowledge)
            else:
                mme = NO_OPIOID
            self._mme = mme
        return mme

    @property
    def treats_oud(self) -> bool:
        """True when the order treats opioid use disorder (methadone or buprenorphine for
        OUD, indication_treatments.csv)."""
        treats = self._treats_oud
        if treats is None:
            effective, _, ingredients, _ = self.contribution
            treats = bool(effective.indication) and treats_oud(
                effective, [ingredient.name for ingredient in ingredients], self._knowledge
            )
            self._treats_oud = treats
        return treats

    def resolved(self, index: int) -> ResolvedOrder:
        """The order resolved, as the ``index``-th order of a request."""
        effective, product, ingredients, unresolved = self.contribution
        return ResolvedOrder(index, effective, product, ingredients, unresolved, self)


def build_record(order: MedicationOrder, knowledge: Knowledge) -> OrderRecord:
    record = OrderRecord(order, normalized_order(order), (), knowledge)
    record.violations = order_violations(
        order, knowledge.settings.max_text_length, knowledge, record.name_match
    )
    return record


def record_of(
    order: MedicationOrder,
    knowledge: Knowledge,
    cache: OrderRecords | None,
    key: Hashable | None = None,
) -> OrderRecord:
    """The record of ``order``, from ``cache`` by ``key`` (default: the order itself)."""
    if cache is None:
        return build_record(order, knowledge)
    return cache.get_or_compute(
        order if key is None else key, lambda: build_record(order, knowledge)
    )


def matches(records: Sequence[OrderRecord], orders: Sequence[MedicationOrder]) -> bool:
    """True when ``records`` are those of ``orders`` (the very same order objects, as received
    or as checked, in order)."""
    if len(records) != len(orders):
        return False
    for record, order in zip(records, orders, strict=True):
        if record.received is not order and record.order is not order:
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
    return RegimenRequest(
        request.request_id,
        request.as_of,
        request.patient,
        request.medications,
        request.acknowledgements,
        records,
    )
