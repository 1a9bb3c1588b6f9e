"""regimenguard.regimen.facts: what an order brings to a request's facts is kept in its record.

Its ResolvedOrder, markers and each ingredient's use as that order alone makes it depend on the
order, its index and the knowledge base alone, so the order's record keeps them
(``OrderRecord.entries``); a request groups the kept uses and recomputes only the ingredients of
several orders. Kept or not, the facts must be the same: these tests compare them with facts
built from fresh records, and the grouping with the general one.
"""

from __future__ import annotations

import dataclasses

import pytest

from bench.bulkgen import Generator
from regimenguard.regimen.facts import (
    KEPT_INDICES_PER_RECORD,
    RegimenFacts,
    _ingredient_uses,
    build_facts,
)
from regimenguard.regimen.knowledge import Knowledge
from regimenguard.regimen.model import (
    IngredientDose,
    MedicationOrder,
    OrderAction,
    RegimenRequest,
)
from regimenguard.regimen.order_record import records_for
from regimenguard.regimen.service import RegimenService
from regimenguard.server.convert import decode_request
from regimenguard.v1 import regimen_checker_pb2 as pb
from tests.conftest import AS_OF
from tests.rule_helpers import order

# every attribute of the facts that an answer is made of (records and memo are the checker's)
COMPARED = tuple(
    name for name in RegimenFacts.__slots__ if name not in ("records", "memo", "request")
)


def same_facts(one: RegimenFacts, other: RegimenFacts) -> None:
    for name in COMPARED:
        assert getattr(one, name) == getattr(other, name), name
    assert list(one.ingredients) == list(other.ingredients)  # the rules iterate in this order


def fresh(request: RegimenRequest, knowledge: Knowledge) -> RegimenFacts:
    """The facts from records built for this request alone (nothing kept from another)."""
    return build_facts(dataclasses.replace(request, order_records=()), knowledge, None)


@pytest.mark.parametrize("unique", [False, True])
def test_kept_entries_give_the_facts_fresh_records_give(knowledge: Knowledge, unique: bool) -> None:
    service = RegimenService(knowledge)
    generator = Generator(unique_orders=unique)
    compared = 0
    for i in range(300):
        message = pb.CheckRegimenRequest.FromString(generator.regimen(i))
        request = decode_request(message, knowledge, today=AS_OF, records=service.order_records)
        if not isinstance(request, RegimenRequest) or not request.order_records:
            continue
        kept = build_facts(request, knowledge, service.order_records)
        same_facts(kept, fresh(request, knowledge))
        # the general grouping of every active ingredient agrees with the kept uses
        assert kept.ingredients == _ingredient_uses(
            kept.active_orders, kept.stopped_orders, knowledge
        )
        compared += 1
    assert compared > 200


def test_an_ingredient_the_request_also_stops_is_not_new_though_its_start_was_kept(
    knowledge: Knowledge,
) -> None:
    service = RegimenService(knowledge)
    start = order("duloxetine", 60, 1, action=OrderAction.START)
    stop = order("duloxetine", 30, 1, action=OrderAction.STOP)
    alone = RegimenRequest("a", AS_OF, medications=(start,))
    switched = RegimenRequest("b", AS_OF, medications=(start, stop))
    for request, new in ((alone, True), (switched, False), (alone, True)):
        facts = build_facts(request, knowledge, service.order_records)
        assert facts.ingredients["duloxetine"].is_new is new
        same_facts(facts, fresh(request, knowledge))
    assert service.order_records.stats().hits > 0  # the start order's record was used again


def test_an_ingredient_of_several_orders_is_grouped_across_them(knowledge: Knowledge) -> None:
    service = RegimenService(knowledge)
    tylenol = order("acetaminophen", 1000, 3)
    norco = MedicationOrder("Norco 10/325", doses_per_day=4, units_per_dose=1.0)
    for medications in ((tylenol,), (tylenol, norco), (norco, tylenol), (tylenol,)):
        request = RegimenRequest("r", AS_OF, medications=medications)
        facts = build_facts(request, knowledge, service.order_records)
        use = facts.ingredients["acetaminophen"]
        assert use.mg_per_day == 3000 + 1300 * (len(medications) - 1)
        assert len(use.orders) == len(medications)
        same_facts(facts, fresh(request, knowledge))


def test_an_order_naming_one_ingredient_twice_is_grouped_the_general_way(
    knowledge: Knowledge,
) -> None:
    twice = MedicationOrder(
        "acetaminophen",
        ingredients=(IngredientDose("acetaminophen", 500), IngredientDose("acetaminophen", 500)),
        doses_per_day=2,
    )
    request = RegimenRequest("r", AS_OF, medications=(twice, order("ibuprofen", 400, 3)))
    records = records_for(request.medications, knowledge, None)
    facts = build_facts(dataclasses.replace(request, order_records=records), knowledge, None)
    use = facts.ingredients["acetaminophen"]
    assert use.mg_per_day == 2000
    assert use.orders == (facts.orders[0], facts.orders[0])  # one order, both its parts
    assert facts.ingredients == _ingredient_uses(facts.active_orders, (), knowledge)
    assert records[0].entries[0][-1] is None  # no kept uses for it: grouped the general way
    again = build_facts(dataclasses.replace(request, order_records=records), knowledge, None)
    same_facts(again, facts)  # from the kept entries: the same


def test_an_order_keeps_its_entries_for_a_bounded_number_of_indices(knowledge: Knowledge) -> None:
    service = RegimenService(knowledge)
    ibuprofen = order("ibuprofen", 400, 3)
    others = [order("acetaminophen", 500 + 10 * i, 3) for i in range(KEPT_INDICES_PER_RECORD + 2)]
    for place in range(KEPT_INDICES_PER_RECORD + 2):
        medications = (*others[:place], ibuprofen)
        request = RegimenRequest("r", AS_OF, medications=medications)
        facts = build_facts(request, knowledge, service.order_records)
        assert facts.orders[place].index == place
        same_facts(facts, fresh(request, knowledge))
    kept = service.order_records.get(ibuprofen)
    assert kept is not None and len(kept.entries) == KEPT_INDICES_PER_RECORD
