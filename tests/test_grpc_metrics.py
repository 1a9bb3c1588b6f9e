"""gRPC's standard server metrics (grpc_server_*), scraped over HTTP after known calls, beside the
domain metrics; and the same interceptor on a grpc.aio server."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import grpc
import pytest
from prometheus_client import CollectorRegistry, generate_latest

from regimenguard.regimen.engine import RegimenChecker
from regimenguard.server.app import SERVICE_NAME, RunningServer, ServerOptions, create_server
from regimenguard.server.grpc_metrics import GrpcServerMetrics
from regimenguard.server.metrics import Metrics
from regimenguard.v1 import regimen_checker_pb2 as pb
from regimenguard.v1 import regimen_checker_pb2_grpc as pb_grpc
from tests.grpc_helpers import accept_request, invalid_request
from tests.test_metrics import Samples, samples, scrape, value

TIMEOUT = 10.0
CHECK = {"grpc_service": SERVICE_NAME, "grpc_method": "CheckRegimen", "grpc_type": "unary"}
STREAM = {"grpc_service": SERVICE_NAME, "grpc_method": "CheckRegimens", "grpc_type": "bidi_stream"}
RULES = {"grpc_service": SERVICE_NAME, "grpc_method": "ListRules", "grpc_type": "unary"}


@pytest.fixture(scope="module")
def scraped(checker: RegimenChecker) -> Iterator[Samples]:
    """Known calls to a server with both kinds of metrics, then one scrape of /metrics."""
    metrics = Metrics(checker.knowledge.version, runtime=False)
    standard = GrpcServerMetrics(metrics.registry)
    port = metrics.start(0, "127.0.0.1")
    running: RunningServer = create_server(
        checker,
        ServerOptions(
            host="127.0.0.1",
            port=0,
            threads=4,
            access_log=False,
            metrics=metrics,
            outer_interceptors=[standard.aio_interceptor()],
        ),
    )
    running.start()
    try:
        with grpc.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            stub = pb_grpc.RegimenCheckerServiceStub(channel)
            stub.CheckRegimen(accept_request("m1"), timeout=TIMEOUT)
            stub.CheckRegimen(accept_request("m2"), timeout=TIMEOUT)
            with pytest.raises(grpc.RpcError) as refused:
                stub.CheckRegimen(invalid_request("m3"), timeout=TIMEOUT)
            assert refused.value.code() is grpc.StatusCode.INVALID_ARGUMENT
            # Bytes that are not a CheckRegimenRequest: refused while decoding, still counted.
            raw = channel.unary_unary(f"/{SERVICE_NAME}/CheckRegimen")
            with pytest.raises(grpc.RpcError) as malformed:
                raw(b"\xff\xff\xff", timeout=TIMEOUT)
            assert malformed.value.code() is grpc.StatusCode.INVALID_ARGUMENT
            answers = list(
                stub.CheckRegimens(
                    iter([accept_request("s1"), invalid_request("s2"), accept_request("s3")]),
                    timeout=TIMEOUT,
                )
            )
            assert len(answers) == 3
            stub.ListRules(pb.ListRulesRequest(), timeout=TIMEOUT)
        yield samples(scrape(port))
    finally:
        running.stop(0)
        metrics.stop()


def test_started_and_handled_by_code(scraped: Samples) -> None:
    assert value(scraped, "grpc_server_started_total", **CHECK) == 4
    assert value(scraped, "grpc_server_handled_total", **CHECK, grpc_code="OK") == 2
    assert value(scraped, "grpc_server_handled_total", **CHECK, grpc_code="INVALID_ARGUMENT") == 2
    assert value(scraped, "grpc_server_handled_total", **CHECK, grpc_code="INTERNAL") == 0
    assert value(scraped, "grpc_server_started_total", **RULES) == 1
    assert value(scraped, "grpc_server_handled_total", **RULES, grpc_code="OK") == 1


def test_a_stream_is_one_call_with_its_messages(scraped: Samples) -> None:
    assert value(scraped, "grpc_server_started_total", **STREAM) == 1
    # A bad item is answered in the stream: the call itself is OK.
    assert value(scraped, "grpc_server_handled_total", **STREAM, grpc_code="OK") == 1
    assert value(scraped, "grpc_server_msg_received_total", **STREAM) == 3
    assert value(scraped, "grpc_server_msg_sent_total", **STREAM) == 3
    assert value(scraped, "grpc_server_msg_received_total", **CHECK) == 4


def test_handling_seconds_histogram(scraped: Samples) -> None:
    assert value(scraped, "grpc_server_handling_seconds_count", **CHECK) == 4
    assert value(scraped, "grpc_server_handling_seconds_bucket", **CHECK, le="+Inf") == 4
    assert value(scraped, "grpc_server_handling_seconds_sum", **CHECK) > 0


def test_beside_the_domain_metrics(scraped: Samples) -> None:
    method = f"/{SERVICE_NAME}/CheckRegimen"
    assert value(scraped, "regimenguard_calls_total", method=method, code="OK") == 2
    assert value(scraped, "regimenguard_verdicts_total", verdict="ACCEPT") == 4  # 2 + 2 items


def test_labels_are_the_registered_methods_only(scraped: Samples) -> None:
    names = {
        dict(labels)["grpc_method"]
        for (name, labels) in scraped
        if name == "grpc_server_started_total"
    }
    assert names == {"CheckRegimen", "CheckRegimens", "ListRules"}


# --- grpc.aio ---------------------------------------------------------------------------------


def echo_handlers() -> grpc.GenericRpcHandler:
    """test.Echo: Echo (unary; b"bad" is aborted INVALID_ARGUMENT) and Chat (bidi), async."""

    async def echo(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        if request == b"bad":
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "bad")
        return request

    async def chat(requests, context):  # type: ignore[no-untyped-def]
        async for request in requests:
            yield request

    return grpc.method_handlers_generic_handler(
        "test.Echo",
        {
            "Echo": grpc.unary_unary_rpc_method_handler(echo),
            "Chat": grpc.stream_stream_rpc_method_handler(chat),
        },
    )


async def _aio_calls(standard: GrpcServerMetrics) -> None:
    server = grpc.aio.server(interceptors=[standard.aio_interceptor()])
    server.add_generic_rpc_handlers((echo_handlers(),))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            echo = channel.unary_unary("/test.Echo/Echo")
            assert await echo(b"hi", timeout=TIMEOUT) == b"hi"
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await echo(b"bad", timeout=TIMEOUT)
            assert refused.value.code() is grpc.StatusCode.INVALID_ARGUMENT
            chat = channel.stream_stream("/test.Echo/Chat")
            call = chat(iter([b"a", b"b"]), timeout=TIMEOUT)
            assert [answer async for answer in call] == [b"a", b"b"]
    finally:
        await server.stop(0)


def test_the_aio_interceptor_counts_the_same_series() -> None:
    registry = CollectorRegistry()
    standard = GrpcServerMetrics(registry)
    asyncio.run(_aio_calls(standard))
    found = samples(generate_latest(registry).decode("utf-8"))
    echo = {"grpc_service": "test.Echo", "grpc_method": "Echo", "grpc_type": "unary"}
    chat = {"grpc_service": "test.Echo", "grpc_method": "Chat", "grpc_type": "bidi_stream"}
    assert value(found, "grpc_server_started_total", **echo) == 2
    assert value(found, "grpc_server_handled_total", **echo, grpc_code="OK") == 1
    assert value(found, "grpc_server_handled_total", **echo, grpc_code="INVALID_ARGUMENT") == 1
    assert value(found, "grpc_server_handled_total", **chat, grpc_code="OK") == 1
    assert value(found, "grpc_server_msg_received_total", **chat) == 2
    assert value(found, "grpc_server_msg_sent_total", **chat) == 2
    assert value(found, "grpc_server_handling_seconds_count", **echo) == 2
