"""Honest status: the access log and the metrics observer record what the caller received, for
an answer too large to send (RESOURCE_EXHAUSTED), a stream the client cancels, and a stream cut
off by shutdown (CANCELLED). In-process server on 127.0.0.1."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator

import grpc
import pytest

from regimenguard.regimen.engine import RegimenChecker
from regimenguard.regimen.observers import CallRecord, CheckRecord
from regimenguard.server.app import RunningServer, ServerOptions, create_server
from regimenguard.server.logging_interceptor import ACCESS_LOGGER
from regimenguard.v1 import regimen_checker_pb2 as pb
from regimenguard.v1 import regimen_checker_pb2_grpc as pb_grpc
from tests.hardening_support import review_request

TIMEOUT = 10.0
BATCH = "/regimenguard.v1.RegimenCheckerService/CheckRegimenBatch"
STREAM = "/regimenguard.v1.RegimenCheckerService/CheckRegimens"


class Recorder(logging.Handler):
    """Access-log lines, and the observer's view of each call's end (what metrics count)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[dict] = []
        self.ended: list[tuple[str, grpc.StatusCode]] = []
        self.changed = threading.Condition()

    def emit(self, record: logging.LogRecord) -> None:
        with self.changed:
            self.lines.append(json.loads(record.getMessage()))
            self.changed.notify_all()

    # regimenguard.regimen.observers.Observer
    def checked(self, call: CallRecord, check: CheckRecord) -> None:
        pass

    def call_ended(self, call: CallRecord) -> None:
        self.ended.append((call.method, grpc.StatusCode[call.code]))

    def line_for(self, method: str, timeout: float = TIMEOUT) -> dict:
        with self.changed:
            self.changed.wait_for(
                lambda: any(line["method"] == method for line in self.lines), timeout
            )
        found = [line for line in self.lines if line["method"] == method]
        assert len(found) == 1, self.lines
        return found[0]


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    recorder = Recorder()
    logger = logging.getLogger(ACCESS_LOGGER)
    saved = logger.level
    logger.addHandler(recorder)
    logger.setLevel(logging.DEBUG)
    yield recorder
    logger.removeHandler(recorder)
    logger.setLevel(saved)


def serve(checker: RegimenChecker, recorder: Recorder, **options) -> RunningServer:  # type: ignore[no-untyped-def]
    running = create_server(
        checker, ServerOptions(host="127.0.0.1", port=0, metrics=recorder, **options)
    )
    running.start()
    return running


def test_batch_answer_over_the_send_limit_is_resource_exhausted_everywhere(
    checker: RegimenChecker, recorder: Recorder
) -> None:
    limit = 64 * 1024
    running = serve(checker, recorder, max_message_bytes=limit)
    try:
        batch = pb.CheckRegimenBatchRequest(requests=[review_request(f"b{n}") for n in range(60)])
        assert batch.ByteSize() < limit  # the request fits; its answer (findings) does not
        with grpc.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            stub = pb_grpc.RegimenCheckerServiceStub(channel)
            with pytest.raises(grpc.RpcError) as raised:
                stub.CheckRegimenBatch(batch, timeout=TIMEOUT)
            assert raised.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
            assert "message limit" in raised.value.details()
            small = pb.CheckRegimenBatchRequest(requests=[review_request("ok")])
            assert stub.CheckRegimenBatch(small, timeout=TIMEOUT).responses[0].request_id == "ok"
    finally:
        running.stop(0)
    codes = [line["code"] for line in recorder.lines if line["method"] == BATCH]
    assert codes == ["RESOURCE_EXHAUSTED", "OK"]
    assert [code for method, code in recorder.ended if method == BATCH] == [
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        grpc.StatusCode.OK,
    ]


def test_stream_the_client_cancels_is_logged_cancelled(
    checker: RegimenChecker, recorder: Recorder
) -> None:
    running = serve(checker, recorder)
    release = threading.Event()

    def one_then_wait() -> Iterator[pb.CheckRegimenRequest]:
        yield review_request("before-cancel")
        release.wait(TIMEOUT)

    try:
        with grpc.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            call = pb_grpc.RegimenCheckerServiceStub(channel).CheckRegimens(
                one_then_wait(), timeout=TIMEOUT
            )
            assert next(call).request_id == "before-cancel"
            call.cancel()
            line = recorder.line_for(STREAM)
            release.set()
    finally:
        running.stop(0)
    assert line["code"] == "CANCELLED" and line["items"] == 1
    assert (STREAM, grpc.StatusCode.CANCELLED) in recorder.ended


def test_stream_cut_at_shutdown_is_logged_cancelled(
    checker: RegimenChecker, recorder: Recorder
) -> None:
    running = serve(checker, recorder)
    release = threading.Event()

    def one_then_wait() -> Iterator[pb.CheckRegimenRequest]:
        yield review_request("cut")
        release.wait(TIMEOUT)

    with grpc.insecure_channel(f"127.0.0.1:{running.port}") as channel:
        call = pb_grpc.RegimenCheckerServiceStub(channel).CheckRegimens(
            one_then_wait(), timeout=TIMEOUT
        )
        assert next(call).request_id == "cut"
        started = time.monotonic()
        running.stop(0.5)  # the stream is still open when the grace runs out
        assert time.monotonic() - started < TIMEOUT
        with pytest.raises(grpc.RpcError):
            next(call)
        release.set()
    line = recorder.line_for(STREAM)
    assert line["code"] == "CANCELLED"
    assert (STREAM, grpc.StatusCode.CANCELLED) in recorder.ended


def test_an_ordinary_stream_is_still_ok(checker: RegimenChecker, recorder: Recorder) -> None:
    running = serve(checker, recorder)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            stub = pb_grpc.RegimenCheckerServiceStub(channel)
            answers = list(stub.CheckRegimens(iter([review_request("s1")]), timeout=TIMEOUT))
            assert [a.request_id for a in answers] == ["s1"]
            line = recorder.line_for(STREAM)
    finally:
        running.stop(0)
    assert line["code"] == "OK" and line["items"] == 1
