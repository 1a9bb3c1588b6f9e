"""regimenguard.regimen.order_record: each order decoded, validated and resolved once.

The checker's one cache keeps order records by content (at the gRPC door: the bytes of each
order's message). What is cached must never change an answer: a refused order is refused again
wherever it sits in the next request, an order whose message cannot be decoded is never kept,
and the records of a request are used only while they are those of its very orders.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import gc

import pytest

from regimenguard.regimen.cache import OrderRecords
from regimenguard.regimen.knowledge import Knowledge
from regimenguard.regimen.model import RegimenRequest
from regimenguard.regimen.service import RegimenService
from regimenguard.regimen.validation import RequestInvalid
from regimenguard.server.convert import decode_request, response_from_result
from regimenguard.v1 import regimen_checker_pb2 as pb
from tests.grpc_helpers import order, request

TODAY = dt.date(2026, 11, 23)


@pytest.fixture
def service(knowledge: Knowledge) -> RegimenService:
    return RegimenService(knowledge)  # a checker, and so a cache, of its own


def decoded(service: RegimenService, message: pb.CheckRegimenRequest):  # type: ignore[no-untyped-def]
    return decode_request(message, service.knowledge, today=TODAY, records=service.order_records)


def regimen(*orders: pb.MedicationOrder, request_id: str = "r") -> pb.CheckRegimenRequest:
    message = request(*orders)
    message.request_id = request_id
    return message


def test_a_repeated_order_is_decoded_once_and_answers_the_same(service: RegimenService) -> None:
    ibuprofen, duloxetine = order("ibuprofen", 600, 3), order("duloxetine", 30, 1)
    first = decoded(service, regimen(ibuprofen, duloxetine, request_id="a"))
    second = decoded(service, regimen(duloxetine, ibuprofen, request_id="b"))
    assert isinstance(first, RegimenRequest) and isinstance(second, RegimenRequest)
    assert first.medications[0] is second.medications[1]  # the same record, the same order
    stats = service.order_records.stats()
    assert (stats.misses, stats.hits) == (2, 2)
    one, other = service.check(first), service.check(second)
    assert [o.medication_index for o in response_from_result(other).summary.orders] == [0, 1]
    assert sorted(f.message for f in one.findings) == sorted(f.message for f in other.findings)
    # a third time each order's kept encoding is parsed in: the same bytes as built anew by a
    # checker that never saw the orders (an order at index 0 and one at index 1)
    third = service.check(decoded(service, regimen(duloxetine, ibuprofen, request_id="b")))
    assert response_from_result(third).summary == response_from_result(other).summary
    fresh = RegimenService(service.knowledge)
    anew = fresh.check(decoded(fresh, regimen(duloxetine, ibuprofen, request_id="b")))
    kept_bytes = response_from_result(third).SerializeToString()
    assert kept_bytes == response_from_result(anew).SerializeToString()


def test_a_refused_order_is_refused_again_at_its_new_place(service: RegimenService) -> None:
    bad = order("naproxen", -500, 2)
    for message, index in (
        (regimen(bad), 0),
        (regimen(order("ibuprofen", 600, 3), bad), 1),
    ):
        with pytest.raises(RequestInvalid) as raised:
            service.check(decoded(service, message))
        assert [v.proto_path() for v in raised.value.violations] == [
            f"medications[{index}].dose_mg"
        ]
    assert service.order_records.stats().hits >= 1  # the second time from its record


def test_an_order_that_cannot_be_decoded_is_never_kept(service: RegimenService) -> None:
    bad_date = order("baclofen", 10, 3, started_on="2026-13-45")
    for _ in range(2):
        answer = decoded(service, regimen(bad_date))
        assert isinstance(answer, RequestInvalid)
        assert [v.proto_path() for v in answer.violations] == ["medications[0].started_on"]
    assert len(service.order_records) == 0


def test_a_new_order_twice_in_one_request_is_built_once(service: RegimenService) -> None:
    """The second copy of an order new to the cache finds the record the first one made."""
    twice = order("ibuprofen", 400, 3)
    first = decoded(service, regimen(twice, order("duloxetine", 30, 1), twice))
    assert isinstance(first, RegimenRequest)
    assert first.order_records[0] is first.order_records[2]
    stats = service.order_records.stats()
    assert (stats.misses, stats.hits) == (2, 1)
    again = decoded(service, regimen(twice, twice))
    assert isinstance(again, RegimenRequest)
    assert again.order_records == (first.order_records[0],) * 2
    assert service.order_records.stats().hits == 3


def test_too_many_ingredients_are_refused_beside_a_known_order(service: RegimenService) -> None:
    """A known order's ingredients are counted from its record, a new one's from its message:
    an order of too many ingredients is refused, by its path, before anything is decoded."""
    known = order("ibuprofen", 600, 3)
    assert isinstance(decoded(service, regimen(known)), RegimenRequest)
    parts = [pb.IngredientDose(name="acetaminophen", dose_mg=1) for _ in range(21)]
    crowded = pb.MedicationOrder(drug="mixture", ingredients=parts, doses_per_day=1)
    kept = len(service.order_records)
    answer = decoded(service, regimen(known, crowded))
    assert isinstance(answer, RequestInvalid)
    assert [v.proto_path() for v in answer.violations] == ["medications[1].ingredients"]
    assert len(service.order_records) == kept  # nothing new decoded or kept


def test_records_of_other_orders_are_not_used(service: RegimenService) -> None:
    """A request rebuilt with other orders (dataclasses.replace keeps the records field) is
    checked from its own orders, not from the records it carries."""
    with_naproxen = decoded(service, regimen(order("naproxen", 500, 2)))
    with_tramadol = decoded(service, regimen(order("tramadol", 50, 4)))
    assert isinstance(with_naproxen, RegimenRequest) and isinstance(with_tramadol, RegimenRequest)
    mixed = dataclasses.replace(with_naproxen, medications=with_tramadol.medications)
    assert mixed.order_records is with_naproxen.order_records
    result = service.check(mixed)
    assert [o.ingredients[0].name for o in result.summary.orders] == ["tramadol"]
    assert result == service.check(with_tramadol)


def test_a_record_the_full_cache_lets_go_is_freed_without_the_garbage_collector(
    knowledge: Knowledge,
) -> None:
    """A record's kept entries refer back to it; the cache, emptied when full, tells each
    record it let go (``release``), so no cycle is left for the collector's full passes."""
    service = RegimenService(knowledge)
    service.checker.order_records = OrderRecords(size=2)
    ibuprofen, duloxetine = order("ibuprofen", 600, 3), order("duloxetine", 30, 1)
    first = decoded(service, regimen(ibuprofen, duloxetine, request_id="a"))
    assert isinstance(first, RegimenRequest)
    before = response_from_result(service.check(first)).SerializeToString()
    kept = first.order_records
    assert all(record.entries for record in kept)  # what the facts took from each order
    gc.collect()
    gc.disable()
    try:
        third = decoded(service, regimen(order("naproxen", 500, 2), request_id="c"))  # full
        assert isinstance(third, RegimenRequest)
        assert [record.entries for record in kept] == [{}, {}]
        del first, kept, third
        assert gc.collect() == 0  # nothing was left to the collector
    finally:
        gc.enable()
    again = decoded(service, regimen(ibuprofen, duloxetine, request_id="a"))
    assert response_from_result(service.check(again)).SerializeToString() == before
