"""OpenTelemetry tracing: calls through a real server into an in-memory span exporter.

The call's span comes from the gRPC instrumentation (name = full method, SERVER kind, status
code attribute); each regimen checked adds a ``regimenguard.check`` child with counts and rule
ids; no span carries a drug name, a dose or a patient field. Off unless the standard OTLP
endpoint variable is set.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import grpc
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from regimenguard.regimen.engine import RegimenChecker
from regimenguard.server.app import SERVICE_NAME, ServerOptions, create_server
from regimenguard.server.tracing import CHECK_SPAN, Tracing, tracing_requested
from regimenguard.v1 import regimen_checker_pb2_grpc as pb_grpc
from tests.grpc_helpers import contract_example, invalid_request, order, request
from tests.test_grpc_metrics import echo_handlers

TIMEOUT = 10.0
CHECK_METHOD = f"/{SERVICE_NAME}/CheckRegimen"
STREAM_METHOD = f"/{SERVICE_NAME}/CheckRegimens"
# What must never appear in a span: the drugs, doses and patient fields of the requests below.
PHI = ("duloxetine", "cyclobenzaprine", "naproxen", "Zoloft", "sertraline", "ageYears", "age_years")


@pytest.fixture(scope="module")
def spans(checker: RegimenChecker) -> Iterator[list[ReadableSpan]]:
    exporter = InMemorySpanExporter()
    tracing = Tracing.with_exporter(exporter, version=checker.knowledge.version, batch=False)
    running = create_server(
        checker,
        ServerOptions(
            host="127.0.0.1",
            port=0,
            threads=4,
            access_log=False,
            outer_interceptors=tracing.aio_interceptors(),
            observers=[tracing.check_spans],
        ),
    )
    running.start()
    try:
        with grpc.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            stub = pb_grpc.RegimenCheckerServiceStub(channel)
            example = contract_example()
            example.request_id = "trace-1"
            stub.CheckRegimen(example, timeout=TIMEOUT)
            with pytest.raises(grpc.RpcError) as refused:
                stub.CheckRegimen(invalid_request("trace-bad"), timeout=TIMEOUT)
            assert refused.value.code() is grpc.StatusCode.INVALID_ARGUMENT
            list(
                stub.CheckRegimens(
                    iter(
                        [
                            request(order("naproxen", 500, 2), request_id="trace-s1"),
                            request(order("Zoloft", 50, 1), request_id="trace-s2"),
                        ]
                    ),
                    timeout=TIMEOUT,
                )
            )
    finally:
        running.stop(0)
    tracing.shutdown()
    yield list(exporter.get_finished_spans())


def _named(spans: list[ReadableSpan], name: str) -> list[ReadableSpan]:
    return [span for span in spans if span.name == name]


def _children(spans: list[ReadableSpan], parent: ReadableSpan) -> list[ReadableSpan]:
    return [
        span
        for span in spans
        if span.parent is not None and span.parent.span_id == parent.context.span_id
    ]


def test_a_server_span_per_call_named_by_the_method(spans: list[ReadableSpan]) -> None:
    unary = _named(spans, CHECK_METHOD)
    assert len(unary) == 2
    for span in unary:
        assert span.kind is SpanKind.SERVER
        assert span.attributes["rpc.system"] == "grpc"
        assert span.attributes["rpc.service"] == SERVICE_NAME
        assert span.attributes["rpc.method"] == "CheckRegimen"
    codes = sorted(span.attributes["rpc.grpc.status_code"] for span in unary)
    assert codes == [grpc.StatusCode.OK.value[0], grpc.StatusCode.INVALID_ARGUMENT.value[0]]
    # A caller's mistake is not the server's error.
    assert all(span.status.status_code is StatusCode.UNSET for span in unary)
    assert len(_named(spans, STREAM_METHOD)) == 1


def test_a_check_span_with_counts_as_child_of_the_call(spans: list[ReadableSpan]) -> None:
    checked = [
        span
        for call in _named(spans, CHECK_METHOD)
        for span in _children(spans, call)
        if span.name == CHECK_SPAN
    ]
    outcomes = sorted(span.attributes["regimenguard.outcome"] for span in checked)
    assert outcomes == ["INVALID_ARGUMENT", "OK"]
    (span,) = [s for s in checked if s.attributes["regimenguard.outcome"] == "OK"]
    assert span.kind is SpanKind.INTERNAL
    assert span.status.status_code is StatusCode.OK
    attributes = span.attributes
    assert attributes["regimenguard.door"] == "grpc"
    assert attributes["regimenguard.verdict"] == "REVIEW"
    assert attributes["regimenguard.medications"] == 2
    assert "SEROTONERGIC_COMBINATION" in attributes["regimenguard.rule_ids"]
    assert attributes["regimenguard.rules_fired"] == len(attributes["regimenguard.rule_ids"])
    assert attributes["regimenguard.findings.critical"] == 0
    assert attributes["regimenguard.findings.warning"] >= 1
    assert attributes["regimenguard.findings"] == sum(
        attributes[f"regimenguard.findings.{severity}"]
        for severity in ("critical", "warning", "info")
    )
    assert span.end_time >= span.start_time


def test_the_refused_check_counts_its_invalid_fields(spans: list[ReadableSpan]) -> None:
    (refused,) = [
        span
        for span in _named(spans, CHECK_SPAN)
        if span.attributes["regimenguard.outcome"] == "INVALID_ARGUMENT"
    ]
    assert refused.attributes["regimenguard.invalid_fields"] >= 1
    assert "regimenguard.verdict" not in refused.attributes


def test_each_stream_item_is_a_check_span_of_the_stream(spans: list[ReadableSpan]) -> None:
    (stream,) = _named(spans, STREAM_METHOD)
    items = [span for span in _children(spans, stream) if span.name == CHECK_SPAN]
    assert len(items) == 2
    assert {span.attributes["regimenguard.verdict"] for span in items} <= {"ACCEPT", "REVIEW"}


def test_no_span_carries_drug_names_doses_or_request_ids(spans: list[ReadableSpan]) -> None:
    text = json.dumps([json.loads(span.to_json()) for span in spans]).casefold()
    for secret in (*PHI, "trace-1", "trace-s1"):
        assert secret.casefold() not in text, f"{secret!r} is in a span"


def test_the_resource_names_the_service(spans: list[ReadableSpan]) -> None:
    resource = spans[0].resource.attributes
    assert resource["service.name"] == "regimenguard"
    assert resource["service.version"]


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4317"}, True),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:4318/v1/traces"}, True),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "  "}, False),
        (
            {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4317", "OTEL_SDK_DISABLED": "true"},
            False,
        ),
        (
            {
                "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4317",
                "OTEL_TRACES_EXPORTER": "none",
            },
            False,
        ),
    ],
)
def test_tracing_is_on_only_when_an_otlp_endpoint_is_set(
    environ: dict[str, str], expected: bool
) -> None:
    assert tracing_requested(environ) is expected
    tracing = Tracing.from_environment(environ)
    assert (tracing is not None) is expected
    if tracing is not None:
        tracing.shutdown()


@pytest.mark.parametrize(
    ("protocol", "module"),
    [
        ("grpc", "opentelemetry.exporter.otlp.proto.grpc"),
        ("http/protobuf", "opentelemetry.exporter.otlp.proto.http"),
    ],
)
def test_the_exporter_follows_the_standard_protocol_variable(protocol: str, module: str) -> None:
    from regimenguard.server.tracing import otlp_exporter

    exporter = otlp_exporter({"OTEL_EXPORTER_OTLP_PROTOCOL": protocol})
    try:
        assert type(exporter).__module__.startswith(module)
    finally:
        exporter.shutdown()


# --- grpc.aio ---------------------------------------------------------------------------------


async def _aio_echo_calls(tracing: Tracing) -> None:
    server = grpc.aio.server(interceptors=tracing.aio_interceptors())
    server.add_generic_rpc_handlers((echo_handlers(),))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            echo = channel.unary_unary("/test.Echo/Echo")
            assert await echo(b"hi", timeout=TIMEOUT) == b"hi"
            with pytest.raises(grpc.aio.AioRpcError):
                await echo(b"bad", timeout=TIMEOUT)
    finally:
        await server.stop(0)


def test_the_aio_interceptors_trace_calls_with_their_status_code() -> None:
    exporter = InMemorySpanExporter()
    tracing = Tracing.with_exporter(exporter, batch=False)
    asyncio.run(_aio_echo_calls(tracing))
    tracing.shutdown()
    spans = _named(list(exporter.get_finished_spans()), "/test.Echo/Echo")
    assert [span.kind for span in spans] == [SpanKind.SERVER, SpanKind.SERVER]
    codes = sorted(span.attributes["rpc.grpc.status_code"] for span in spans)
    assert codes == [grpc.StatusCode.OK.value[0], grpc.StatusCode.INVALID_ARGUMENT.value[0]]
