"""Calls: deadlines, cancellation, bounded concurrency; the server stays healthy throughout."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from concurrent import futures

import grpc
import pytest
from grpc_health.v1 import health_pb2

from regimenguard.regimen.engine import RegimenChecker
from regimenguard.regimen.knowledge import Knowledge
from regimenguard.regimen.model import CheckResult, RegimenRequest
from regimenguard.server.app import RunningServer, ServerOptions, create_server
from regimenguard.v1 import regimen_checker_pb2 as pb
from regimenguard.v1 import regimen_checker_pb2_grpc as pb_grpc
from tests.hardening_support import health_status, review_request


class CountingChecker(RegimenChecker):
    """The real checker, counting the regimens it checks."""

    def __init__(self, knowledge: Knowledge) -> None:
        super().__init__(knowledge)
        self.checked = 0
        self._lock = threading.Lock()

    def check(self, request: RegimenRequest) -> CheckResult:
        with self._lock:
            self.checked += 1
        return super().check(request)

    def settle(self, quiet: float = 0.3, timeout: float = 10.0) -> int:
        """The count once it has stopped moving for ``quiet`` seconds."""
        deadline = time.monotonic() + timeout
        last = -1
        while time.monotonic() < deadline:
            if self.checked == last:
                return last
            last = self.checked
            time.sleep(quiet)
        raise AssertionError("the server kept checking")


@pytest.fixture(scope="module")
def counting(knowledge: Knowledge) -> CountingChecker:
    return CountingChecker(knowledge)


@pytest.fixture(scope="module")
def server(counting: CountingChecker) -> Iterator[RunningServer]:
    running = create_server(counting, ServerOptions(host="127.0.0.1", port=0, threads=4))
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


def assert_healthy(channel: grpc.Channel, stub: pb_grpc.RegimenCheckerServiceStub) -> None:
    assert health_status(channel) == health_pb2.HealthCheckResponse.SERVING
    assert (
        health_status(
            channel,
        )
        == health_pb2.HealthCheckResponse.SERVING
    )
    assert stub.CheckRegimen(review_request("after"), timeout=10).verdict == pb.VERDICT_REVIEW


def big_request() -> pb.CheckRegimenRequest:
    """100 orders never seen before (each call's doses are new, so nothing is memoized):
    milliseconds of checking and conversion, well over a 1 ms deadline."""
    request = review_request("big")
    orders = list(request.medications)
    del request.medications[:]
    fresh = next(_FRESH) / 1_000_000
    for number, order in enumerate((orders * 50)[:100]):
        distinct = request.medications.add()
        distinct.CopyFrom(order)
        distinct.dose_mg = order.dose_mg + number / 1000 + fresh if order.dose_mg else 0.0
    return request


_FRESH = itertools.count(1)


# --- deadlines --------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["CheckRegimen", "CheckRegimenBatch", "CheckRegimens"])
def test_one_millisecond_deadline_is_deadline_exceeded(channel, stub, method: str) -> None:
    with pytest.raises(grpc.RpcError) as raised:
        if method == "CheckRegimen":  # 100 orders: a few milliseconds of work at least
            stub.CheckRegimen(big_request(), timeout=0.001)
        elif method == "CheckRegimenBatch":
            batch = pb.CheckRegimenBatchRequest(requests=[review_request()] * 200)
            stub.CheckRegimenBatch(batch, timeout=0.001)
        else:
            list(stub.CheckRegimens(iter([review_request()] * 200), timeout=0.001))
    assert raised.value.code() is grpc.StatusCode.DEADLINE_EXCEEDED
    assert_healthy(channel, stub)


def test_batch_past_its_deadline_stops_checking(channel, stub, counting: CountingChecker) -> None:
    counting.settle()
    before = counting.checked
    size = 1000  # about half a second of work
    with pytest.raises(grpc.RpcError) as raised:
        stub.CheckRegimenBatch(
            pb.CheckRegimenBatchRequest(requests=[review_request()] * size), timeout=0.05
        )
    assert raised.value.code() is grpc.StatusCode.DEADLINE_EXCEEDED
    done = counting.settle() - before
    assert done < size * 0.8, f"checked {done} of {size} after the deadline had passed"
    assert_healthy(channel, stub)


# --- cancellation -----------------------------------------------------------------------------


def test_cancelled_stream_stops_its_work(channel, stub, counting: CountingChecker) -> None:
    counting.settle()
    before = counting.checked
    sent = 0

    def endless() -> Iterator[pb.CheckRegimenRequest]:
        nonlocal sent
        while sent < 100_000:  # bounded, in case cancellation were ignored
            sent += 1
            yield review_request(f"item-{sent}")

    call = stub.CheckRegimens(endless(), timeout=30)
    received = []
    for answer in call:
        received.append(answer.request_id)
        if len(received) == 5:
            call.cancel()
            break
    assert received == [f"item-{n}" for n in range(1, 6)]
    done = counting.settle() - before
    # Responses already in flight may have been computed; nothing like the 100,000 offered.
    assert done < 200, f"the server checked {done} items of a cancelled stream"
    assert call.code() is grpc.StatusCode.CANCELLED
    assert_healthy(channel, stub)


def test_client_that_goes_away_mid_stream_leaves_server_healthy(server: RunningServer) -> None:
    target = f"127.0.0.1:{server.port}"
    for _ in range(3):
        channel = grpc.insecure_channel(target)
        stub = pb_grpc.RegimenCheckerServiceStub(channel)
        answers = stub.CheckRegimens(iter([review_request()] * 50), timeout=30)
        next(answers)
        channel.close()  # abandons the call and the connection
    with grpc.insecure_channel(target) as channel:
        assert_healthy(channel, pb_grpc.RegimenCheckerServiceStub(channel))


# --- bounded concurrency ----------------------------------------------------------------------


class SlowInterceptor(grpc.ServerInterceptor):
    """Makes CheckRegimen take ``delay`` seconds, so calls pile up."""

    def __init__(self, delay: float) -> None:
        self.delay = delay

    def intercept_service(self, continuation, handler_call_details):  # type: ignore[no-untyped-def]
        handler = continuation(handler_call_details)
        if handler is None or not handler_call_details.method.endswith("/CheckRegimen"):
            return handler
        inner = handler.unary_unary

        def slow(request, context):  # type: ignore[no-untyped-def]
            time.sleep(self.delay)
            return inner(request, context)

        return grpc.unary_unary_rpc_method_handler(
            slow, handler.request_deserializer, handler.response_serializer
        )


def test_calls_beyond_max_concurrent_rpcs_are_refused_not_queued(checker: RegimenChecker) -> None:
    running = create_server(
        checker,
        ServerOptions(
            host="127.0.0.1",
            port=0,
            threads=8,
            max_concurrent_rpcs=2,
            interceptors=[SlowInterceptor(0.5)],
        ),
    )
    running.start()
    try:
        with grpc.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            stub = pb_grpc.RegimenCheckerServiceStub(channel)
            stub.CheckRegimen(review_request(), timeout=10)  # connected and warm
            started = time.monotonic()
            with futures.ThreadPoolExecutor(max_workers=6) as pool:
                calls = [
                    pool.submit(stub.CheckRegimen, review_request(f"c{n}"), timeout=10)
                    for n in range(6)
                ]
                codes = []
                for call in calls:
                    try:
                        call.result()
                        codes.append(grpc.StatusCode.OK)
                    except grpc.RpcError as error:
                        codes.append(error.code())
            elapsed = time.monotonic() - started
            assert set(codes) <= {grpc.StatusCode.OK, grpc.StatusCode.RESOURCE_EXHAUSTED}, codes
            assert codes.count(grpc.StatusCode.RESOURCE_EXHAUSTED) >= 2, codes
            assert 1 <= codes.count(grpc.StatusCode.OK) <= 2 + 2, codes
            assert elapsed < 1.4, f"refused calls were queued ({elapsed:.2f} s)"
            # once the slow calls are done, the server takes calls again
            assert stub.CheckRegimen(review_request(), timeout=10).verdict == pb.VERDICT_REVIEW
    finally:
        running.stop(0)
