"""Property-based tests over generated CheckRegimenRequests, valid and not, against a real
in-process server: never INTERNAL or UNKNOWN, deterministic to the byte, independent of the
order of the medications, and batches and streams answer every item once, in order."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections import Counter
from collections.abc import Iterator

import grpc
import pytest
from google.rpc import status_pb2
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from regimenguard.regimen.engine import RegimenChecker
from regimenguard.regimen.knowledge import load_knowledge
from regimenguard.server.app import RunningServer, ServerOptions, create_server
from regimenguard.server.errors import field_violations
from regimenguard.v1 import regimen_checker_pb2 as pb
from regimenguard.v1 import regimen_checker_pb2_grpc as pb_grpc
from tests.hardening_support import AS_OF, assert_rich_invalid, error_infos, rich_status

SERVICE = "/regimenguard.v1.RegimenCheckerService/"
PROPERTY_SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
ALLOWED_CODES = {grpc.StatusCode.OK, grpc.StatusCode.INVALID_ARGUMENT}

# --- strategies -------------------------------------------------------------------------------
#
# Mostly well-formed requests (so that the checker itself is exercised, not only validation),
# well-formed requests with one field of one order made wild, and requests wild throughout.

_KNOWLEDGE = load_knowledge()
KNOWN_NAMES = sorted(
    {ingredient.name for ingredient in _KNOWLEDGE.data.ingredients}
    | {alias.alias for alias in _KNOWLEDGE.data.aliases}
    | {"Norco 5/325", "Norco 10/325", "Percocet 5/325", "Tylenol #3", "Norco", "rxcui:161"}
)


def _is_product(name: str) -> bool:
    match = _KNOWLEDGE.resolver.resolve(name)
    return match is not None and (match.is_combination or match.is_ambiguous)


SINGLE_NAMES = [name for name in KNOWN_NAMES if not _is_product(name)]
PRODUCT_NAMES = [name for name in KNOWN_NAMES if _is_product(name)]
RULE_IDS = sorted(spec.rule_id for spec in _KNOWLEDGE.rules)

# Any text protobuf can carry (no lone surrogates): control characters, other scripts, emoji.
any_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=24)
printable_text = st.text(st.characters(exclude_categories=("Cs", "Cc")), min_size=1, max_size=24)
control_text = st.text(st.characters(max_codepoint=0x9F, exclude_categories=("Cs",)), max_size=8)
over_long = st.integers(201, 260).map(lambda n: "x" * n)
int32 = st.integers(-(2**31), 2**31 - 1)
EDGE_NUMBERS = (0.0, -0.0, -1.0, 5e-324, 1e-300, 1e6, 1e6 + 1, 1440.0, 1441.0, 1e300, 1.7e308)
edge_numbers = st.sampled_from([*EDGE_NUMBERS, math.nan, math.inf, -math.inf])
wild_numbers = st.one_of(edge_numbers, st.floats())
wild_text = st.one_of(any_text, control_text, st.just(""), over_long)
wild_dates = st.one_of(
    st.sampled_from(["0001-01-01", "9999-12-31", "2026-02-30", "2026-13-01", "26-11-23"]),
    st.dates().map(lambda day: day.isoformat()),
    any_text,
)
valid_dates = st.one_of(
    st.sampled_from(["", AS_OF, "2026-09-01", "2026-11-01", "2026-11-20", "2025-01-31"]),
    st.dates(dt.date(2000, 1, 1), dt.date(2030, 12, 31)).map(lambda day: day.isoformat()),
)
mg = st.one_of(
    st.sampled_from([5.0, 10.0, 25.0, 50.0, 60.0, 100.0, 325.0, 500.0, 650.0, 1000.0]),
    st.floats(min_value=0.01, max_value=5000),
)
per_day = st.one_of(st.sampled_from([1.0, 2.0, 3.0, 4.0, 6.0]), st.floats(0.1, 24))


def enum_values(enum_type) -> st.SearchStrategy[int]:  # type: ignore[no-untyped-def]
    return st.sampled_from(list(enum_type.values()))


@st.composite
def valid_orders(draw) -> pb.MedicationOrder:  # type: ignore[no-untyped-def]
    kind = draw(st.sampled_from(["single", "single", "single", "product", "parts", "unknown"]))
    order = pb.MedicationOrder(
        doses_per_day=draw(per_day),
        as_needed=draw(st.booleans()),
        route=draw(enum_values(pb.Route)),
        extended_release=draw(st.booleans()),
        action=draw(enum_values(pb.OrderAction)),
        started_on=draw(valid_dates),
        planned_days=draw(st.one_of(st.just(0), st.integers(1, 120))),
        response=draw(enum_values(pb.TherapyResponse)),
        indication=draw(st.sampled_from(["", "", "", "depression", "insomnia"])),
    )
    if order.action == pb.ORDER_ACTION_CHANGE_DOSE:
        order.previous_dose_mg = draw(mg)
    if kind == "product":
        order.drug = draw(st.sampled_from(PRODUCT_NAMES))
        order.units_per_dose = draw(st.sampled_from([0.0, 1.0, 2.0, 0.5]))
    elif kind == "parts":
        order.drug = draw(st.sampled_from(["", "my combination", *PRODUCT_NAMES]))
        names = draw(st.lists(st.sampled_from(SINGLE_NAMES), min_size=1, max_size=3))
        order.ingredients.extend(pb.IngredientDose(name=name, dose_mg=draw(mg)) for name in names)
    else:
        names = SINGLE_NAMES if kind == "single" else None
        order.drug = draw(st.sampled_from(names) if names else printable_text)
        order.dose_mg = draw(mg)
        if order.route == pb.ROUTE_TRANSDERMAL and draw(st.booleans()):
            order.rate_mcg_per_hour = draw(st.sampled_from([12.0, 25.0, 50.0, 100.0]))
    if draw(st.booleans()):  # case and spaces do not matter
        order.drug = draw(st.sampled_from([order.drug.upper(), f"  {order.drug} "]))
    return order


# One field of an otherwise valid order, made wild.
WILD_FIELDS = {
    "drug": wild_text,
    "dose_mg": wild_numbers,
    "rate_mcg_per_hour": wild_numbers,
    "doses_per_day": wild_numbers,
    "units_per_dose": wild_numbers,
    "previous_dose_mg": wild_numbers,
    "route": int32,
    "action": int32,
    "response": int32,
    "planned_days": int32,
    "started_on": wild_dates,
    "indication": wild_text,
}


@st.composite
def wildish_orders(draw) -> pb.MedicationOrder:  # type: ignore[no-untyped-def]
    order = draw(valid_orders())
    field = draw(st.sampled_from(sorted(WILD_FIELDS)))
    setattr(order, field, draw(WILD_FIELDS[field]))
    return order


wild_orders = st.builds(
    pb.MedicationOrder,
    drug=st.one_of(st.sampled_from(KNOWN_NAMES), wild_text),
    dose_mg=st.one_of(mg, wild_numbers),
    ingredients=st.lists(
        st.builds(pb.IngredientDose, name=wild_text, dose_mg=wild_numbers), max_size=3
    ),
    rate_mcg_per_hour=wild_numbers,
    doses_per_day=st.one_of(per_day, wild_numbers),
    as_needed=st.booleans(),
    route=int32,
    extended_release=st.booleans(),
    action=int32,
    started_on=wild_dates,
    previous_dose_mg=wild_numbers,
    planned_days=int32,
    response=int32,
    indication=wild_text,
    units_per_dose=wild_numbers,
)
orders = st.one_of(valid_orders(), valid_orders(), valid_orders(), wildish_orders(), wild_orders)


def patients(ages: st.SearchStrategy[int], weeks: st.SearchStrategy[int]):  # type: ignore[no-untyped-def]
    return st.builds(
        pb.Patient,
        age_years=ages,
        hepatic_impairment=st.booleans(),
        renal_impairment=st.booleans(),
        alcohol_use_disorder=st.booleans(),
        substance_use_disorder=st.booleans(),
        seizure_disorder=st.booleans(),
        gi_bleed_history=st.booleans(),
        cardiovascular_disease=st.booleans(),
        refractory_symptoms=st.booleans(),
        pain_duration_weeks=weeks,
    )


valid_acknowledgements = st.builds(
    pb.Acknowledgement,
    rule_id=st.sampled_from(RULE_IDS),
    drugs=st.lists(st.sampled_from(KNOWN_NAMES), max_size=2),
    reason=st.just("reviewed with the patient"),
)
wild_acknowledgements = st.builds(
    pb.Acknowledgement,
    rule_id=st.one_of(st.sampled_from(RULE_IDS), wild_text),
    drugs=st.lists(st.one_of(st.sampled_from(KNOWN_NAMES), wild_text), max_size=3),
    reason=wild_text,
)


def many(items: st.SearchStrategy) -> st.SearchStrategy[list]:  # type: ignore[type-arg]
    """Around the limit of 100 medications per request (cheaply: a few orders repeated)."""
    return st.tuples(st.lists(items, min_size=1, max_size=4), st.integers(95, 102)).map(
        lambda pair: (pair[0] * pair[1])[: pair[1]]
    )


valid_requests = st.builds(
    pb.CheckRegimenRequest,
    request_id=st.one_of(st.just("rx-1"), printable_text),
    patient=patients(st.integers(0, 110), st.integers(0, 520)),
    medications=st.one_of(
        st.lists(valid_orders(), max_size=8),
        st.lists(valid_orders(), max_size=8),
        many(valid_orders()),
    ),
    as_of=valid_dates,
    acknowledgements=st.lists(valid_acknowledgements, max_size=3),
)
wild_requests = st.builds(
    pb.CheckRegimenRequest,
    request_id=st.one_of(st.just("rx-1"), wild_text),
    patient=patients(st.one_of(st.integers(0, 130), int32), st.one_of(st.integers(0, 520), int32)),
    medications=st.one_of(st.lists(orders, max_size=8), many(orders)),
    as_of=st.one_of(valid_dates, wild_dates),
    acknowledgements=st.lists(st.one_of(valid_acknowledgements, wild_acknowledgements), max_size=3),
)
requests = st.one_of(valid_requests, valid_requests, wild_requests)

# --- the server -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(checker: RegimenChecker) -> Iterator[RunningServer]:
    running = create_server(
        checker, ServerOptions(host="127.0.0.1", port=0, threads=4, access_log=False)
    )
    running.start()
    yield running
    running.stop(0)


@pytest.fixture(scope="module")
def channel(server: RunningServer) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        yield channel


@pytest.fixture(scope="module")
def stub(channel: grpc.Channel) -> pb_grpc.RegimenCheckerServiceStub:
    return pb_grpc.RegimenCheckerServiceStub(channel)


class Answer:
    """A unary call's outcome: the response bytes, or the code and the rich status."""

    def __init__(self, code: grpc.StatusCode, body: bytes, status: status_pb2.Status | None):
        self.code, self.body, self.status = code, body, status

    @property
    def response(self) -> pb.CheckRegimenResponse:
        return pb.CheckRegimenResponse.FromString(self.body)


def check_raw(channel: grpc.Channel, request: pb.CheckRegimenRequest) -> Answer:
    call = channel.unary_unary(
        SERVICE + "CheckRegimen", request_serializer=pb.CheckRegimenRequest.SerializeToString
    )
    try:
        return Answer(grpc.StatusCode.OK, call(request, timeout=30), None)
    except grpc.RpcError as error:
        code = error.code()  # type: ignore[attr-defined]
        assert code not in (grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN), (
            f"{code}: {error.details()} for\n{request}"  # type: ignore[attr-defined]
        )
        status = rich_status(error)
        return Answer(code, status.SerializeToString(), status)


# --- properties -------------------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(request=requests)
def test_check_regimen_never_fails_internally_and_is_deterministic(channel, request) -> None:
    first = check_raw(channel, request)
    second = check_raw(channel, request)
    assert first.code in ALLOWED_CODES, first.code
    event(first.code.name)
    assert (second.code, second.body) == (first.code, first.body)
    if first.status is not None:
        assert_rich_invalid(first.status)
    else:
        response = first.response
        assert response.verdict != pb.VERDICT_UNSPECIFIED
        summary = response.summary
        for total in (summary.acetaminophen_mg_per_day, summary.morphine_mg_equivalents_per_day):
            assert math.isfinite(total) and total >= 0
        assert len(summary.orders) == len(request.medications)


def _findings(response: pb.CheckRegimenResponse) -> Counter:
    return Counter(
        (finding.rule_id, finding.severity, tuple(finding.drugs)) for finding in response.findings
    )


def _orders(response: pb.CheckRegimenResponse) -> Counter:
    return Counter(
        (
            order.drug,
            order.product,
            order.resolved,
            order.action,
            tuple((part.name, part.mg_per_dose, part.mg_per_day) for part in order.ingredients),
        )
        for order in response.summary.orders
    )


def _interactions(response: pb.CheckRegimenResponse) -> Counter:
    return Counter(
        (fired.node_a, fired.node_b, fired.rule_id, fired.severity, tuple(fired.drugs))
        for fired in response.summary.interactions
    )


_INDEX = re.compile(r"^medications\[\d+\]")


def _violations(status: status_pb2.Status) -> tuple[str, int, Counter | None]:
    """Reason, number of violations and, when all were reported, the violations with the
    medication indices left out."""
    (info,) = error_infos(status)
    reported = field_violations(status)
    total = int(info.metadata.get("field_violations", len(reported)))
    if total > len(
        reported
    ):  # capped (regimenguard.server.errors.MAX_VIOLATION_BYTES): which ones varies
        return info.reason, total, None
    return (
        info.reason,
        total,
        Counter(
            (_INDEX.sub("medications[*]", violation.field), violation.description)
            for violation in reported
        ),
    )


@PROPERTY_SETTINGS
@given(request=requests, data=st.data())
def test_answer_does_not_depend_on_the_order_of_medications(channel, request, data) -> None:
    shuffled = pb.CheckRegimenRequest()
    shuffled.CopyFrom(request)
    del shuffled.medications[:]
    shuffled.medications.extend(data.draw(st.permutations(list(request.medications))))
    original, other = check_raw(channel, request), check_raw(channel, shuffled)
    assert other.code == original.code
    event(f"{original.code.name}, {len(request.medications)} medications")
    if original.status is not None:
        assert other.status is not None
        assert _violations(other.status) == _violations(original.status)
        return
    a, b = original.response, other.response
    assert b.verdict == a.verdict
    assert _findings(b) == _findings(a)
    for field in ("acetaminophen_mg_per_day", "morphine_mg_equivalents_per_day"):
        x, y = getattr(a.summary, field), getattr(b.summary, field)
        assert math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-9), (field, x, y)
    assert b.summary.acetaminophen_limit_mg_per_day == a.summary.acetaminophen_limit_mg_per_day
    assert b.summary.serotonergic_agents == a.summary.serotonergic_agents
    # Orders are reported in request order by design: compare them as a multiset.
    assert _orders(b) == _orders(a)
    assert _interactions(b) == _interactions(a)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(items=st.lists(requests, max_size=12))
def test_batches_and_streams_answer_every_item_once_in_order(channel, stub, items) -> None:
    for number, item in enumerate(items):
        item.request_id = f"item-{number}"  # to see the order
    batch = stub.CheckRegimenBatch(pb.CheckRegimenBatchRequest(requests=items), timeout=60)
    streamed = list(stub.CheckRegimens(iter(items), timeout=60))
    assert [answer.request_id for answer in batch.responses] == [item.request_id for item in items]
    assert [answer.request_id for answer in streamed] == [item.request_id for item in items]
    for item, from_batch, from_stream in zip(items, batch.responses, streamed, strict=True):
        alone = check_raw(channel, item)
        if alone.status is None:
            assert not from_batch.HasField("error") and not from_stream.HasField("error")
            assert from_batch.SerializeToString() == alone.body
            assert from_stream.SerializeToString() == alone.body
        else:
            for answer in (from_batch, from_stream):
                assert answer.error.code == alone.status.code
                assert answer.error.code != grpc.StatusCode.INTERNAL.value[0]
                assert list(field_violations(answer.error)) == list(field_violations(alone.status))
                assert_rich_invalid(answer.error)
