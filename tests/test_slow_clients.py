"""Calls that wait do not hold the server: while 32 CheckRegimens streams wait for their next
item and 32 unary callers trickle their requests a byte at a time, health checks and 100
ordinary checks are all answered within their deadlines. Loopback only, bounded."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent import futures

import grpc
import pytest
from grpc_health.v1 import health_pb2

from regimenguard.regimen.engine import RegimenChecker
from regimenguard.server.app import (
    DEFAULT_CONNECTION_AGE_SECONDS,
    DEFAULT_CONNECTION_IDLE_SECONDS,
    DEFAULT_MAX_STREAMS_PER_CONNECTION,
    RunningServer,
    ServerOptions,
    create_server,
)
from regimenguard.v1 import regimen_checker_pb2 as pb
from regimenguard.v1 import regimen_checker_pb2_grpc as pb_grpc
from tests.hardening_support import health_status, review_request
from tests.slow_clients import Stalls

STALLED_STREAMS = 32
SLOW_SENDERS = 32
CHECKS = 100
DEADLINE_SECONDS = 10.0  # generous for a loaded 2-core machine; a starved server never answers


@pytest.fixture
def server(checker: RegimenChecker) -> Iterator[RunningServer]:
    # The default thread count: the point is that waiting calls do not take the threads.
    running = create_server(checker, ServerOptions(host="127.0.0.1", port=0))
    running.start()
    yield running
    running.stop(0)


def test_waiting_streams_and_slow_senders_do_not_starve_health_or_checks(
    server: RunningServer,
) -> None:
    target = f"127.0.0.1:{server.port}"
    stalls = Stalls(target, streams=STALLED_STREAMS, senders=SLOW_SENDERS)
    stalls.hold()
    try:
        with grpc.insecure_channel(target) as channel:
            stub = pb_grpc.RegimenCheckerServiceStub(channel)
            assert health_status(channel, timeout=DEADLINE_SECONDS) == (
                health_pb2.HealthCheckResponse.SERVING
            )
            with futures.ThreadPoolExecutor(8) as pool:
                answers = list(
                    pool.map(
                        lambda n: stub.CheckRegimen(
                            review_request(f"ordinary-{n}"), timeout=DEADLINE_SECONDS
                        ),
                        range(CHECKS),
                    )
                )
            assert [a.request_id for a in answers] == [f"ordinary-{n}" for n in range(CHECKS)]
            assert all(a.verdict == pb.VERDICT_REVIEW for a in answers)
            for service in ("", "regimenguard.v1.RegimenCheckerService"):
                assert health_status(channel, service, timeout=DEADLINE_SECONDS) == (
                    health_pb2.HealthCheckResponse.SERVING
                )
        # ... and all that while, every waiting call was still waiting.
        assert stalls.held() == (STALLED_STREAMS, SLOW_SENDERS)
    finally:
        stalls.release()


def test_a_stream_idle_past_its_limit_is_ended(checker: RegimenChecker) -> None:
    running = create_server(
        checker, ServerOptions(host="127.0.0.1", port=0, stream_idle_seconds=0.5)
    )
    running.start()
    release = threading.Event()

    def one_then_wait() -> Iterator[pb.CheckRegimenRequest]:
        yield review_request("idle")
        release.wait(DEADLINE_SECONDS)

    try:
        with grpc.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            call = pb_grpc.RegimenCheckerServiceStub(channel).CheckRegimens(
                one_then_wait(), timeout=DEADLINE_SECONDS
            )
            assert next(call).request_id == "idle"
            with pytest.raises(grpc.RpcError) as raised:
                next(call)
            assert raised.value.code() is grpc.StatusCode.DEADLINE_EXCEEDED
            assert "stream idle limit" in raised.value.details()
            release.set()
    finally:
        running.stop(0)


def test_connection_limits_are_explicit_settings() -> None:
    settings = dict(ServerOptions().channel_options())
    assert settings["grpc.max_concurrent_streams"] == DEFAULT_MAX_STREAMS_PER_CONNECTION
    assert settings["grpc.max_connection_idle_ms"] == DEFAULT_CONNECTION_IDLE_SECONDS * 1000
    assert settings["grpc.max_connection_age_ms"] == DEFAULT_CONNECTION_AGE_SECONDS * 1000
    assert "grpc.max_connection_age_grace_ms" in settings
    tighter = ServerOptions(max_streams_per_connection=8, connection_age_seconds=60)
    assert dict(tighter.channel_options())["grpc.max_concurrent_streams"] == 8
    assert dict(tighter.channel_options())["grpc.max_connection_age_ms"] == 60_000
