"""The access log: one JSON line per call, and no drug names or patient fields without
--log-phi."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import random
import time
from collections.abc import Iterator

import grpc
import pytest

from regimenguard.regimen.engine import RegimenChecker
from regimenguard.regimen.observers import CallRecord
from regimenguard.server.access_log import (
    BufferedSink,
    access_fields,
    access_line,
    json_line,
    line_time,
    milliseconds_text,
    utc_text,
)
from regimenguard.server.app import ServerOptions, create_server
from regimenguard.server.logging_interceptor import ACCESS_LOGGER, configure_access_log
from regimenguard.v1 import regimen_checker_pb2 as pb
from regimenguard.v1 import regimen_checker_pb2_grpc as pb_grpc
from tests.hardening_support import AS_OF, review_request

# Names no real log would contain by chance: an unknown drug (it gets an UNKNOWN_DRUG finding),
# a brand, an ingredient of a combination and an indication.
SECRET_DRUGS = ("zorblaxitrine", "Quuxocodone", "flimflamadol")
SERVICE = "/regimenguard.v1.RegimenCheckerService/"
PHI_FIELDS = ("hepatic_impairment", "seizure_disorder", "gi_bleed_history")


def phi_request(request_id: str) -> pb.CheckRegimenRequest:
    return pb.CheckRegimenRequest(
        request_id=request_id,
        as_of=AS_OF,
        patient=pb.Patient(
            age_years=87,
            hepatic_impairment=True,
            seizure_disorder=True,
            gi_bleed_history=True,
            pain_duration_weeks=31,
        ),
        medications=[
            pb.MedicationOrder(drug="naproxen", dose_mg=500, doses_per_day=2),
            pb.MedicationOrder(drug=SECRET_DRUGS[0], dose_mg=10, doses_per_day=1),
            pb.MedicationOrder(drug=SECRET_DRUGS[1], dose_mg=5, doses_per_day=2),
            pb.MedicationOrder(
                drug="my combination",
                doses_per_day=2,
                ingredients=[
                    pb.IngredientDose(name=SECRET_DRUGS[2], dose_mg=5),
                    pb.IngredientDose(name="acetaminophen", dose_mg=325),
                ],
            ),
        ],
    )


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
        self.text = io.StringIO()

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        self.text.write(self.format(record) + "\n")


@pytest.fixture
def capture() -> Iterator[Capture]:
    """Every log record of the process (the access log and all the others)."""
    handler = Capture()
    root, access = logging.getLogger(), logging.getLogger(ACCESS_LOGGER)
    saved = root.level, access.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    access.setLevel(logging.DEBUG)
    yield handler
    root.removeHandler(handler)
    root.setLevel(saved[0])
    access.setLevel(saved[1])


def exercise(checker: RegimenChecker, *, log_phi: bool) -> None:
    """Every RPC, with the distinctive names and patient flags, including invalid input."""
    running = create_server(
        checker, ServerOptions(host="127.0.0.1", port=0, threads=4, log_phi=log_phi)
    )
    running.start()
    try:
        with grpc.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            stub = pb_grpc.RegimenCheckerServiceStub(channel)
            stub.CheckRegimen(phi_request("rq-unary"), timeout=10)
            invalid = phi_request("rq-invalid")
            invalid.medications[1].dose_mg = -1
            with pytest.raises(grpc.RpcError):
                stub.CheckRegimen(invalid, timeout=10)
            stub.CheckRegimenBatch(
                pb.CheckRegimenBatchRequest(requests=[phi_request("rq-batch"), invalid]),
                timeout=10,
            )
            list(stub.CheckRegimens(iter([phi_request("rq-stream"), invalid]), timeout=10))
            stub.ListDrugs(pb.ListDrugsRequest(query="naproxen"), timeout=10)
            stub.ListRules(pb.ListRulesRequest(), timeout=10)
    finally:
        running.stop(1)


def access_lines(capture: Capture) -> list[dict]:
    return [
        json.loads(record.getMessage())
        for record in capture.records
        if record.name == ACCESS_LOGGER
    ]


def test_one_json_line_per_call_with_counts(checker: RegimenChecker, capture: Capture) -> None:
    exercise(checker, log_phi=False)
    lines = {
        line["method"].rsplit("/", 1)[1] + ":" + str(line["request_id"]): line
        for line in access_lines(capture)
    }
    unary = lines["CheckRegimen:rq-unary"]
    assert unary["code"] == "OK" and unary["verdict"] == "VERDICT_REVIEW"
    assert unary["medications"] == 4 and unary["items"] == 1
    assert unary["findings"] >= 2 and unary["errors"] == 0
    assert isinstance(unary["duration_ms"], float) and unary["duration_ms"] >= 0
    assert unary["peer"].startswith("ipv4:127.0.0.1:")
    assert lines["CheckRegimen:rq-invalid"]["code"] == "INVALID_ARGUMENT"
    batch = lines["CheckRegimenBatch:rq-batch"]
    assert (batch["code"], batch["items"], batch["medications"], batch["errors"]) == (
        "OK",
        2,
        8,
        1,
    )
    assert batch["findings"] == unary["findings"]
    stream = lines["CheckRegimens:rq-stream"]
    assert (stream["code"], stream["items"], stream["medications"], stream["errors"]) == (
        "OK",
        2,
        8,
        1,
    )
    assert lines["ListDrugs:None"]["code"] == "OK"
    assert lines["ListRules:None"]["code"] == "OK"
    for line in access_lines(capture):  # every shape of call names its peer, a stream's too
        assert line["peer"].startswith("ipv4:127.0.0.1:"), line["method"]
    checker_calls = [
        line for line in access_lines(capture) if "RegimenCheckerService" in line["method"]
    ]
    assert len(checker_calls) == 6  # exactly one line per call
    for line in access_lines(capture):
        assert "drugs" not in line and "patients" not in line


def test_no_drug_names_or_patient_fields_without_log_phi(
    checker: RegimenChecker, capture: Capture
) -> None:
    exercise(checker, log_phi=False)
    text = capture.text.getvalue()
    assert "rq-unary" in text  # the correlation id is not PHI: it is logged
    for secret in (*SECRET_DRUGS, *PHI_FIELDS, "naproxen", "acetaminophen"):
        assert secret.casefold() not in text.casefold(), f"{secret!r} leaked into the logs"
    assert "age_years" not in text and "pain_duration" not in text and "conditions" not in text


def test_log_phi_adds_drug_names_and_patient_fields(
    checker: RegimenChecker, capture: Capture
) -> None:
    exercise(checker, log_phi=True)
    text = capture.text.getvalue()
    for secret in (*SECRET_DRUGS, *PHI_FIELDS):
        assert secret in text, f"{secret!r} missing from the --log-phi access log"
    unary = next(line for line in access_lines(capture) if line["request_id"] == "rq-unary")
    assert unary["drugs"] == [
        "naproxen",
        *SECRET_DRUGS[:2],
        f"my combination ({SECRET_DRUGS[2]} + acetaminophen)",
    ]
    assert unary["patients"] == [
        {"age_years": 87, "pain_duration_weeks": 31, "conditions": list(PHI_FIELDS)}
    ]


def test_serve_access_log_lines_are_bare_json() -> None:
    stream = io.StringIO()
    logger = configure_access_log(stream)
    try:
        logger.info('{"method":"/x/Y","code":"OK"}')
        assert json.loads(stream.getvalue().strip()) == {"method": "/x/Y", "code": "OK"}
    finally:
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
        logger.propagate = True
        logger.setLevel(logging.NOTSET)


def test_request_ids_cannot_forge_log_lines(checker: RegimenChecker, capture: Capture) -> None:
    running = create_server(checker, ServerOptions(host="127.0.0.1", port=0, threads=2))
    running.start()
    try:
        with grpc.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            stub = pb_grpc.RegimenCheckerServiceStub(channel)
            forged = review_request('x"}\n{"code":"OK","method":"forged"')
            with pytest.raises(grpc.RpcError):  # a control character: INVALID_ARGUMENT
                stub.CheckRegimen(forged, timeout=10)
    finally:
        running.stop(0)
    messages = [r.getMessage() for r in capture.records if r.name == ACCESS_LOGGER]
    assert len(messages) == 1 and "\n" not in messages[0]
    assert json.loads(messages[0])["request_id"] == forged.request_id


# --- the buffered writer (what `serve` uses) --------------------------------------------------


def test_buffered_sink_writes_every_line_in_order_at_close() -> None:
    stream = io.StringIO()
    sink = BufferedSink(stream, interval=3600)  # only close() writes
    for n in range(250):
        sink.write(logging.INFO, f'{{"n":{n}}}', {})
    assert stream.getvalue() == ""  # held in memory, not written per call
    sink.close()
    assert [json.loads(line)["n"] for line in stream.getvalue().splitlines()] == list(range(250))
    sink.close()  # idempotent


def test_buffered_sink_writes_on_its_timer_and_when_full() -> None:
    stream = io.StringIO()
    full = BufferedSink(stream, interval=3600, max_lines=3)
    for n in range(3):
        full.write(logging.INFO, str(n), {})
    assert stream.getvalue() == "0\n1\n2\n"  # a full buffer is written at once
    full.close()
    timed = io.StringIO()
    sink = BufferedSink(timed, interval=0.05)
    try:
        sink.write(logging.INFO, "tick", {})
        deadline = time.monotonic() + 10
        while timed.getvalue() != "tick\n" and time.monotonic() < deadline:
            time.sleep(0.02)
        assert timed.getvalue() == "tick\n"  # written by the timer, with no close()
    finally:
        sink.close()


def test_buffered_sink_levels_and_a_broken_stream() -> None:
    stream = io.StringIO()
    sink = BufferedSink(stream, "WARNING", interval=3600)
    assert sink.enabled_for(logging.WARNING) and not sink.enabled_for(logging.INFO)
    stream.close()
    sink.write(logging.WARNING, "lost", {})
    sink.close()  # the lines are lost, the server is not


def test_server_access_log_stream_gets_the_same_lines(checker: RegimenChecker) -> None:
    """create_server with access_log_stream: buffered, written out by stop(), same fields."""
    stream = io.StringIO()
    running = create_server(
        checker, ServerOptions(host="127.0.0.1", port=0, threads=2, access_log_stream=stream)
    )
    running.start()
    try:
        with grpc.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            stub = pb_grpc.RegimenCheckerServiceStub(channel)
            stub.CheckRegimen(phi_request("rq-buffered"), timeout=10)
            stub.ListRules(pb.ListRulesRequest(), timeout=10)
    finally:
        running.stop(1)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["method"].rsplit("/", 1)[1] for line in lines] == ["CheckRegimen", "ListRules"]
    unary = lines[0]
    assert (unary["request_id"], unary["code"], unary["verdict"]) == (
        "rq-buffered",
        "OK",
        "VERDICT_REVIEW",
    )
    assert (unary["items"], unary["medications"], unary["errors"]) == (1, 4, 0)
    assert set(unary) == {
        "time",
        "method",
        "code",
        "duration_ms",
        "request_id",
        "items",
        "medications",
        "findings",
        "errors",
        "verdict",
        "peer",
    }
    for secret in (*SECRET_DRUGS, "naproxen", "age_years"):
        assert secret not in stream.getvalue()


def test_buffered_sink_writes_whole_lines_in_pipe_sized_chunks() -> None:
    """Workers share one standard error: each write is whole lines, at most PIPE_BUF bytes."""

    class Writes(io.StringIO):
        def __init__(self) -> None:
            super().__init__()
            self.writes: list[str] = []

        def write(self, text: str) -> int:
            self.writes.append(text)
            return super().write(text)

    stream = Writes()
    sink = BufferedSink(stream, interval=3600)
    lines = [json.dumps({"n": n, "pad": "x" * 300}) for n in range(40)]
    for line in lines:
        sink.write(logging.INFO, line, {})
    sink.close()
    assert len(stream.writes) > 1
    assert all(len(text) <= 4096 and text.endswith("\n") for text in stream.writes)
    assert stream.getvalue().splitlines() == lines


@pytest.mark.parametrize(
    "fields",
    [
        {"time": "2026-12-01T10:00:00.000+00:00", "method": "/x/CheckRegimen", "code": "OK"},
        {"duration_ms": 0.1 + 0.2, "items": 3, "request_id": None, "verdict": "VERDICT_REVIEW"},
        {"request_id": 'a"\\\n\u2028é\x00', "peer": "ipv6:[::1]:5", "errors": 0},
        {"duration_ms": float("nan"), "big": 10**30, "flag": True, "off": False},
        {"drugs": ["ibuprofen", "naïve"], "patients": [{"age_years": 70, "x": None}]},
    ],
)
def test_access_line_text_is_exactly_json_dumps(fields: dict) -> None:
    assert json_line(fields) == json.dumps(fields, ensure_ascii=True, separators=(",", ":"))


# --- the line written field by field (access_line) is the generic encoder's ------------------


def _records() -> Iterator[tuple[CallRecord, dict | None]]:
    """Call records of every shape an access line has, with and without --log-phi fields."""
    unary = CallRecord(SERVICE + "CheckRegimen", door="grpc", peer="ipv4:127.0.0.1:45678")
    unary.request_id, unary.items, unary.medications, unary.findings = "rq-1", 1, 5, 10
    unary.verdict, unary.seconds = "REVIEW", 0.0012345
    yield unary, None
    yield unary, {}
    yield unary, {"drugs": ["naproxen", "naïve"], "patients": [{"age_years": 87, "x": None}]}
    stream = CallRecord(SERVICE + "CheckRegimens", door="grpc", code="CANCELLED", many=True)
    stream.request_id, stream.items, stream.errors, stream.seconds = None, 3, 2, 12.5
    stream.peer, stream.client = "ipv6:[::1]:5", 'CN=clinic "A", O=Ünï\\x'
    yield stream, None
    yield stream, {"query": 'napro"\n'}
    odd = CallRecord("POST /v1/check", door="http", code="INVALID_ARGUMENT", seconds=0.0)
    odd.request_id = 'a"\\\n\u2028é\x00' + "x" * 300  # escaped, and cut at REQUEST_ID_LIMIT
    yield odd, None
    for seconds in (0.0, 1e-7, 0.0004999, 0.0005, 0.1 + 0.2, 3.0, 1234.5678, 86_400.123456):
        timed = CallRecord("/grpc.health.v1.Health/Check", door="grpc", seconds=seconds)
        yield timed, None


@pytest.mark.parametrize(("record", "phi"), list(_records()))
def test_access_line_is_the_json_of_its_fields(record: CallRecord, phi: dict | None) -> None:
    stamp = "2026-12-01T10:00:00.123+00:00"
    fields = access_fields(record, stamp, phi)
    line = access_line(record, stamp, phi)
    assert line == json_line(fields)
    assert json.loads(line) == fields
    if phi:
        assert list(fields)[-len(phi) :] == list(phi)  # the PHI fields come last


def test_line_time_is_isoformat_in_utc() -> None:
    for seconds in (0, 951_782_400, 1_709_164_800, 1_764_583_199, 4_102_444_799, 253_402_300_799):
        for milliseconds in (0, 7, 999):
            instant = dt.datetime.fromtimestamp(seconds, dt.UTC).replace(
                microsecond=milliseconds * 1000 + 999
            )
            assert utc_text(seconds, milliseconds) == instant.isoformat(timespec="milliseconds")
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    stamp = dt.datetime.fromisoformat(line_time())
    assert before <= stamp <= dt.datetime.now(dt.UTC)


def test_duration_text_is_repr_of_the_rounded_milliseconds() -> None:
    generator = random.Random(13)
    durations = [0.0, -0.0, 1e-9, 4.9999e-7, 5e-7, 5.000001e-7, 0.0004999, 0.0005, 0.1 + 0.2]
    durations += [10.0**power for power in range(-7, 13)]
    durations += [generator.uniform(0, 10.0 ** generator.randint(-6, 11)) for _ in range(20_000)]
    for seconds in durations:
        assert milliseconds_text(seconds) == repr(round(seconds * 1000, 3)), seconds
