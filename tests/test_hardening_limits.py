"""Malformed input and limits: every refusal is INVALID_ARGUMENT with BadRequest (fields by path)
and ErrorInfo (reason, domain regimenguard.v1), or RESOURCE_EXHAUSTED from gRPC for size."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import grpc
import pytest
from google.rpc import status_pb2

from regimenguard.client.backend import RemoteBackend
from regimenguard.regimen.engine import RegimenChecker
from regimenguard.regimen.validation import (
    MAX_ACKNOWLEDGEMENTS_PER_REQUEST,
    MAX_INGREDIENTS_PER_ORDER,
)
from regimenguard.server.app import MAX_MESSAGE_BYTES, RunningServer, ServerOptions, create_server
from regimenguard.server.errors import field_violations
from regimenguard.server.servicer import RegimenCheckerServicer
from regimenguard.v1 import regimen_checker_pb2 as pb
from regimenguard.v1 import regimen_checker_pb2_grpc as pb_grpc
from tests.hardening_support import (
    AS_OF,
    assert_rich_invalid,
    error_infos,
    review_request,
    rich_status,
)

SERVICE = "/regimenguard.v1.RegimenCheckerService/"


@pytest.fixture(scope="module")
def server(checker: RegimenChecker) -> Iterator[RunningServer]:
    running = create_server(checker, ServerOptions(host="127.0.0.1", port=0, threads=4))
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


def naproxen(**fields) -> pb.MedicationOrder:  # type: ignore[no-untyped-def]
    order = {"drug": "naproxen", "dose_mg": 500, "doses_per_day": 2, **fields}
    return pb.MedicationOrder(**order)


def regimen(*orders: pb.MedicationOrder, **fields) -> pb.CheckRegimenRequest:  # type: ignore[no-untyped-def]
    fields.setdefault("as_of", AS_OF)
    return pb.CheckRegimenRequest(medications=list(orders or [naproxen()]), **fields)


def refusal(call, request) -> status_pb2.Status:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.RpcError) as raised:
        call(request, timeout=10)
    assert raised.value.code() is grpc.StatusCode.INVALID_ARGUMENT, raised.value.details()
    return rich_status(raised.value)


# --- counts -----------------------------------------------------------------------------------


def test_too_many_medications(stub, checker: RegimenChecker) -> None:
    limit = checker.knowledge.settings.max_medications_per_request
    stub.CheckRegimen(regimen(*[naproxen()] * limit), timeout=10)  # at the limit: fine
    status = refusal(stub.CheckRegimen, regimen(*[naproxen()] * (limit + 1)))
    assert_rich_invalid(status, reason="TOO_MANY_MEDICATIONS", fields=["medications"])


def test_batch_too_large(stub, checker: RegimenChecker) -> None:
    limit = checker.knowledge.settings.max_requests_per_batch
    batch = pb.CheckRegimenBatchRequest(requests=[regimen()] * (limit + 1))
    status = refusal(stub.CheckRegimenBatch, batch)
    assert_rich_invalid(status, reason="BATCH_TOO_LARGE", fields=["requests"])


def test_too_many_ingredients_and_acknowledgements(stub) -> None:
    parts = [pb.IngredientDose(name="acetaminophen", dose_mg=325)] * (MAX_INGREDIENTS_PER_ORDER + 1)
    status = refusal(
        stub.CheckRegimen, regimen(naproxen(), pb.MedicationOrder(drug="x", ingredients=parts))
    )
    assert_rich_invalid(status, reason="TOO_MANY_ITEMS", fields=["medications[1].ingredients"])
    ack = pb.Acknowledgement(rule_id="NSAID_RISK", reason="reviewed")
    status = refusal(
        stub.CheckRegimen, regimen(acknowledgements=[ack] * (MAX_ACKNOWLEDGEMENTS_PER_REQUEST + 1))
    )
    assert_rich_invalid(status, reason="TOO_MANY_ITEMS", fields=["acknowledgements"])


def test_many_bad_fields_stay_invalid_argument_with_a_capped_report(stub, channel) -> None:
    """The rich status rides in trailing metadata: it must stay under gRPC's 8 KiB default."""
    bad = pb.MedicationOrder(drug="Norco 5/325", dose_mg=5, action=-1, started_on="soon", route=77)
    request = regimen(*[bad] * 100, request_id="many")
    for _ in range(5):  # gRPC refuses big trailers at random between its soft and hard limits
        status = refusal(stub.CheckRegimen, request)
        assert_rich_invalid(status, reason="INVALID_REGIMEN")
        (info,) = error_infos(status)
        assert int(info.metadata["field_violations"]) >= 400
        assert int(info.metadata["reported"]) == len(field_violations(status)) < 400
        assert status.ByteSize() < 4096


# --- strings ----------------------------------------------------------------------------------

LONG = "n" * 201


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (regimen(request_id=LONG), "request_id"),
        (regimen(naproxen(drug=LONG)), "medications[0].drug"),
        (regimen(naproxen(indication=LONG)), "medications[0].indication"),
        (
            regimen(
                pb.MedicationOrder(
                    drug="Norco",
                    doses_per_day=4,
                    ingredients=[pb.IngredientDose(name=LONG, dose_mg=5)],
                )
            ),
            "medications[0].ingredients[0].name",
        ),
        (
            regimen(acknowledgements=[pb.Acknowledgement(rule_id="NSAID_RISK", reason="r" * 2001)]),
            "acknowledgements[0].reason",
        ),
        (
            regimen(
                acknowledgements=[
                    pb.Acknowledgement(rule_id="NSAID_RISK", reason="ok", drugs=[LONG])
                ]
            ),
            "acknowledgements[0].drugs[0]",
        ),
        (regimen(naproxen(drug="napro\x00xen")), "medications[0].drug"),
        (regimen(naproxen(drug="naproxen\x7f")), "medications[0].drug"),
        (regimen(naproxen(drug="naproxen\x85")), "medications[0].drug"),
        (regimen(request_id="a\nb"), "request_id"),
        (regimen(as_of="2026-02-30"), "as_of"),
        (regimen(as_of="２０２６-１１-２３"), "as_of"),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_string_limits_and_control_characters(stub, request_, field: str) -> None:
    status = refusal(stub.CheckRegimen, request_)
    assert_rich_invalid(status, reason="INVALID_REGIMEN", fields=[field])


# --- numbers and enums ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("order", "field"),
    [
        (naproxen(dose_mg=float("nan")), "dose_mg"),
        (naproxen(dose_mg=float("inf")), "dose_mg"),
        (naproxen(dose_mg=-500), "dose_mg"),
        (naproxen(dose_mg=1e308), "dose_mg"),
        (naproxen(doses_per_day=1e308), "doses_per_day"),
        (naproxen(doses_per_day=float("-inf")), "doses_per_day"),
        (naproxen(units_per_dose=1e300), "units_per_dose"),
        (naproxen(previous_dose_mg=1e200), "previous_dose_mg"),
        (naproxen(rate_mcg_per_hour=1e300), "rate_mcg_per_hour"),
        (naproxen(planned_days=2**31 - 1), "planned_days"),
        (naproxen(planned_days=-1), "planned_days"),
        (naproxen(route=99), "route"),
        (naproxen(action=-7), "action"),
        (naproxen(response=2**31 - 1), "response"),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_numbers_out_of_range_and_unknown_enums(
    stub, order: pb.MedicationOrder, field: str
) -> None:
    status = refusal(stub.CheckRegimen, regimen(order))
    assert_rich_invalid(status, reason="INVALID_REGIMEN", fields=[f"medications[0].{field}"])


@pytest.mark.parametrize(
    ("patient", "field"),
    [
        (pb.Patient(age_years=-1), "patient.age_years"),
        (pb.Patient(age_years=2**31 - 1), "patient.age_years"),
        (pb.Patient(pain_duration_weeks=2**31 - 1), "patient.pain_duration_weeks"),
        (pb.Patient(pain_duration_weeks=-(2**31)), "patient.pain_duration_weeks"),
    ],
)
def test_patient_out_of_range(stub, patient: pb.Patient, field: str) -> None:
    status = refusal(stub.CheckRegimen, regimen(patient=patient))
    assert_rich_invalid(status, fields=[field])


def test_tiny_and_large_but_plausible_numbers_are_answered(stub) -> None:
    response = stub.CheckRegimen(
        regimen(naproxen(dose_mg=5e-324), naproxen(drug="acetaminophen", dose_mg=1e6)), timeout=10
    )
    assert response.verdict == pb.VERDICT_REJECT  # a kilogram of acetaminophen a dose
    assert response.summary.acetaminophen_mg_per_day == 2e6


# --- ListDrugs --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (pb.ListDrugsRequest(page_token="abc"), "page_token"),
        (pb.ListDrugsRequest(page_token="9" * 5000), "page_token"),  # int() refuses > 4300 digits
        (pb.ListDrugsRequest(page_token="²"), "page_token"),  # str.isdigit() but not int()
        (pb.ListDrugsRequest(page_token="99999"), "page_token"),  # past the end
        (pb.ListDrugsRequest(page_token="-1"), "page_token"),
        (pb.ListDrugsRequest(page_size=-1), "page_size"),
        (pb.ListDrugsRequest(query="q" * 5000), "query"),
    ],
    ids=["letters", "5000-digits", "superscript", "past-end", "negative", "size", "long-query"],
)
def test_list_drugs_refusals_are_rich(stub, request_: pb.ListDrugsRequest, field: str) -> None:
    status = refusal(stub.ListDrugs, request_)
    assert_rich_invalid(status, reason="INVALID_LIST_REQUEST", fields=[field])


def test_list_drugs_paging_still_works(stub) -> None:
    first = stub.ListDrugs(pb.ListDrugsRequest(page_size=10), timeout=10)
    assert len(first.drugs) == 10 and first.next_page_token == "10"
    second = stub.ListDrugs(pb.ListDrugsRequest(page_size=10, page_token="10"), timeout=10)
    assert second.drugs[0].name != first.drugs[0].name


# --- bytes that are not the message -----------------------------------------------------------

# Field 1 (request_id), length 2, bytes that are not UTF-8; and a field that runs past the end.
NOT_UTF8 = bytes([0x0A, 0x02, 0xFF, 0xFE])
TRUNCATED = bytes([0x0A, 0x05, 0x61, 0x62])


@pytest.mark.parametrize("raw", [NOT_UTF8, TRUNCATED], ids=["not-utf8", "truncated"])
@pytest.mark.parametrize("method", ["CheckRegimen", "CheckRegimenBatch", "ListDrugs"])
def test_undecodable_requests_are_invalid_argument_not_internal(
    channel: grpc.Channel, method: str, raw: bytes
) -> None:
    call = channel.unary_unary(SERVICE + method)  # bytes in, bytes out
    # The field whose bytes are bad is named (field 1: request_id, or ListDrugs' query).
    field = {"CheckRegimen": "request_id", "ListDrugs": "query"}.get(method)
    if method == "CheckRegimenBatch":  # the bad bytes inside the first item
        raw = bytes([0x0A, len(raw)]) + raw
        field = "requests[0].request_id"
    status = refusal(call, raw)
    assert_rich_invalid(status, reason="MALFORMED_REQUEST", fields=[field])


def test_undecodable_request_names_the_nested_field(channel: grpc.Channel) -> None:
    good = review_request("nested")
    good.medications[1].drug = "BAD"
    raw = good.SerializeToString().replace(b"BAD", b"\xff\xfeD")
    status = refusal(channel.unary_unary(SERVICE + "CheckRegimen"), raw)
    assert_rich_invalid(status, reason="MALFORMED_REQUEST", fields=["medications[1].drug"])


def test_undecodable_stream_item_is_answered_with_an_error_and_the_stream_goes_on(
    channel: grpc.Channel,
) -> None:
    call = channel.stream_stream(SERVICE + "CheckRegimens")
    first, third = (review_request(rid).SerializeToString() for rid in ("first", "third"))
    answers = [
        pb.CheckRegimenResponse.FromString(raw)
        for raw in call(iter([first, NOT_UTF8, TRUNCATED, third]), timeout=10)
    ]
    assert [a.request_id for a in answers] == ["first", "", "", "third"]
    assert answers[0].verdict == answers[3].verdict == pb.VERDICT_REVIEW
    for bad in answers[1:3]:
        assert bad.HasField("error") and bad.knowledge_base_version
        assert_rich_invalid(bad.error, reason="MALFORMED_REQUEST", fields=["request_id"])


def test_item_errors_in_batches_and_streams_are_rich(stub) -> None:
    bad = regimen(naproxen(dose_mg=-1), request_id="bad", as_of="tomorrow")
    batch = stub.CheckRegimenBatch(pb.CheckRegimenBatchRequest(requests=[bad]), timeout=10)
    streamed = list(stub.CheckRegimens(iter([bad]), timeout=10))
    for answer in (batch.responses[0], streamed[0]):
        assert answer.request_id == "bad"
        assert_rich_invalid(
            answer.error, reason="INVALID_REGIMEN", fields=["as_of", "medications[0].dose_mg"]
        )


# --- message size -----------------------------------------------------------------------------


def test_default_limits_and_keepalive_are_explicit() -> None:
    options = ServerOptions()
    assert options.max_message_bytes == MAX_MESSAGE_BYTES == 16 * 1024 * 1024
    assert options.max_concurrent_rpcs == 256
    settings = dict(options.channel_options())
    assert settings["grpc.max_receive_message_length"] == 16 * 1024 * 1024
    assert settings["grpc.max_send_message_length"] == 16 * 1024 * 1024
    for key in (
        "grpc.keepalive_time_ms",
        "grpc.keepalive_timeout_ms",
        "grpc.http2.min_ping_interval_without_data_ms",
        "grpc.keepalive_permit_without_calls",
    ):
        assert key in settings


def test_cli_backend_takes_answers_beyond_grpcs_4_mib_client_default(server) -> None:
    drugs = ["duloxetine", "cyclobenzaprine", "tramadol", "oxycodone", "naproxen", "diazepam"]
    regimen_ = regimen(*[naproxen(drug=drug, dose_mg=10, doses_per_day=3) for drug in drugs * 16])
    items = [regimen_] * 300
    backend = RemoteBackend(f"127.0.0.1:{server.port}", timeout=60)
    try:
        answers = backend.check_batch(items)
    finally:
        backend.close()
    assert len(answers) == 300 and not answers[-1].HasField("error")
    assert sum(answer.ByteSize() for answer in answers) > 4 * 1024 * 1024


@contextlib.contextmanager
def limited_stub(
    checker: RegimenChecker, limit: int
) -> Iterator[pb_grpc.RegimenCheckerServiceStub]:
    """A stub of a server whose messages (received and sent) are limited to ``limit`` bytes."""
    running = create_server(
        checker, ServerOptions(host="127.0.0.1", port=0, threads=2, max_message_bytes=limit)
    )
    running.start()
    try:
        with grpc.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            yield pb_grpc.RegimenCheckerServiceStub(channel)
    finally:
        running.stop(0)


def test_an_answer_over_the_send_limit_is_resource_exhausted(checker: RegimenChecker) -> None:
    """A small request (answered on the event loop) whose answer is over the limit is refused
    with RESOURCE_EXHAUSTED saying so, not sent; the server goes on answering."""
    small = review_request()
    answer_bytes = len(
        RegimenCheckerServicer(checker).CheckRegimen(small, None).SerializeToString()  # type: ignore[arg-type]
    )
    limit = small.ByteSize() + (answer_bytes - small.ByteSize()) // 2
    assert small.ByteSize() < limit < answer_bytes
    with limited_stub(checker, limit) as stub:
        with pytest.raises(grpc.RpcError) as raised:
            stub.CheckRegimen(small, timeout=10)
        assert raised.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
        assert f"the answer is {answer_bytes:,} bytes" in (raised.value.details() or "")
        assert f"over the {limit:,}-byte message limit" in (raised.value.details() or "")
        with pytest.raises(grpc.RpcError) as again:  # the server is still fine: the same
            stub.CheckRegimen(small, timeout=10)
        assert again.value.details() == raised.value.details()


def test_message_over_the_receive_limit_is_resource_exhausted(checker: RegimenChecker) -> None:
    limit = 4096
    with limited_stub(checker, limit) as stub:
        small = review_request()
        assert small.ByteSize() < limit
        assert stub.CheckRegimen(small, timeout=10).verdict == pb.VERDICT_REVIEW
        large = review_request()
        large.request_id = "x" * 150
        large.medications.extend([naproxen(indication="i" * 150)] * 30)
        assert large.ByteSize() > limit
        with pytest.raises(grpc.RpcError) as raised:
            stub.CheckRegimen(large, timeout=10)
        assert raised.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
        # the server is still fine
        assert stub.CheckRegimen(small, timeout=10).verdict == pb.VERDICT_REVIEW
