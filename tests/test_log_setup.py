"""One logging set-up (regimenguard.server.log_setup): every line `serve` writes is JSON, and with the standard
OTLP endpoint set the server exports its spans to a collector (here one in this process)."""

from __future__ import annotations

import io
import json
import logging
import re
import threading
import warnings
from collections.abc import Iterator
from concurrent import futures
from pathlib import Path

import grpc
import pytest
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

from regimenguard.server.access_log import ACCESS_LOGGER, AccessLog, LoggerSink
from regimenguard.server.app import SERVICE_NAME
from regimenguard.server.log_setup import configure_logging
from regimenguard.v1 import regimen_checker_pb2_grpc as pb_grpc
from tests.grpc_helpers import contract_example, invalid_request
from tests.hardening_support import ServerProcess

TIMEOUT = 10.0
LINE_KEYS = {"time", "level", "logger", "message", "pid"}


@pytest.mark.usefixtures("keep_logging")
def test_every_record_is_one_json_line() -> None:
    stream = io.StringIO()
    configure_logging(stream, "INFO")
    log = logging.getLogger("regimenguard.test")
    log.info("serving %s on port %d", SERVICE_NAME, 50051)
    log.debug("not at INFO")
    try:
        raise ValueError("bad row 7")
    except ValueError:
        log.exception("start-up failed")
    warnings.warn("a deprecated thing", DeprecationWarning, stacklevel=1)
    AccessLog(LoggerSink()).sink.write(
        logging.INFO, '{"method":"/x/Y","code":"OK"}', {"method": "/x/Y", "code": "OK"}
    )
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert len(lines) == 4, stream.getvalue()
    started, failed, warned, access = lines
    assert started.keys() == LINE_KEYS
    assert started["level"] == "INFO" and started["logger"] == "regimenguard.test"
    assert started["message"] == f"serving {SERVICE_NAME} on port 50051"
    assert started["time"].endswith("+00:00")
    assert failed["level"] == "ERROR"
    assert failed["error"] == "ValueError: bad row 7"
    assert "Traceback" in failed["traceback"]
    assert warned["logger"] == "py.warnings" and "a deprecated thing" in warned["message"]
    # The access line is the access log's own object, not wrapped.
    assert access == {"method": "/x/Y", "code": "OK"}


@pytest.mark.usefixtures("keep_logging")
def test_configuring_twice_keeps_one_handler_and_the_access_log_propagates() -> None:
    configure_logging(io.StringIO())
    stream = io.StringIO()
    configure_logging(stream)
    names = [handler.get_name() for handler in logging.getLogger().handlers]
    assert names.count("regimenguard-json") == 1
    logging.getLogger("regimenguard").warning("once")
    assert stream.getvalue().count('"message":"once"') == 1
    access = logging.getLogger(ACCESS_LOGGER)
    assert access.propagate and not access.handlers


@pytest.mark.usefixtures("keep_logging")
def test_an_uncaught_exception_in_a_thread_is_logged_as_json() -> None:
    stream = io.StringIO()
    configure_logging(stream)

    def fail() -> None:
        raise RuntimeError("worker broke")

    thread = threading.Thread(target=fail, name="rpc-9")
    thread.start()
    thread.join()
    (line,) = [json.loads(text) for text in stream.getvalue().splitlines()]
    assert line["message"] == "uncaught exception in thread rpc-9"
    assert line["error"] == "RuntimeError: worker broke"


# --- a real `serve` process, exporting spans to an OTLP collector -----------------------------


class Collector(trace_service_pb2_grpc.TraceServiceServicer):
    """An OTLP/gRPC trace collector that keeps what it receives."""

    def __init__(self) -> None:
        self.requests: list[trace_service_pb2.ExportTraceServiceRequest] = []

    def Export(self, request, context):  # type: ignore[no-untyped-def]
        self.requests.append(request)
        return trace_service_pb2.ExportTraceServiceResponse()

    def spans(self) -> list:  # type: ignore[type-arg]
        return [
            span
            for request in self.requests
            for resource in request.resource_spans
            for scope in resource.scope_spans
            for span in scope.spans
        ]


@pytest.fixture
def collector() -> Iterator[tuple[Collector, int]]:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    kept = Collector()
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(kept, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield kept, port
    finally:
        server.stop(0)


def test_serve_writes_only_json_and_exports_spans_over_otlp(
    tmp_path: Path, collector: tuple[Collector, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    kept, collector_port = collector
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", f"http://127.0.0.1:{collector_port}")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_INSECURE", "true")
    server = ServerProcess.start(tmp_path, "--workers", "1", "--grace", "2", "--metrics-port", "0")
    try:
        server.wait_serving()
        with grpc.insecure_channel(server.target) as channel:
            stub = pb_grpc.RegimenCheckerServiceStub(channel)
            stub.CheckRegimen(contract_example(), timeout=TIMEOUT)
            with pytest.raises(grpc.RpcError):
                stub.CheckRegimen(invalid_request("log-bad"), timeout=TIMEOUT)
        assert server.stop() == 0
    finally:
        if server.process.poll() is None:
            server.process.kill()
            server.process.wait(5)
    log = server.log
    lines = [json.loads(text) for text in log.splitlines() if text.strip()]  # each one JSON
    messages = [line.get("message", "") for line in lines]
    serving = [m for m in messages if m.startswith(f"serving {SERVICE_NAME} on port")]
    assert len(serving) == 1
    # the start-up figures make bench reads: the knowledge base's load, within the whole start
    timing = re.search(r"loaded in (\d+) ms, ready in (\d+) ms\)$", serving[0])
    assert timing is not None, serving[0]
    assert 0 < int(timing[1]) <= int(timing[2])
    assert any(message.startswith("tracing: spans exported over OTLP") for message in messages)
    assert any(message.startswith("shutting down") for message in messages)
    assert messages[-1] == "stopped"
    access = [line for line in lines if line.get("method", "").endswith("/CheckRegimen")]
    assert [line["code"] for line in access] == ["OK", "INVALID_ARGUMENT"]
    for secret in ("duloxetine", "cyclobenzaprine"):
        assert secret not in log.lower()

    names = [span.name for span in kept.spans()]
    assert names.count(f"/{SERVICE_NAME}/CheckRegimen") == 2
    assert names.count("regimenguard.check") == 2
    exported = b"".join(request.SerializeToString() for request in kept.requests)
    for secret in (b"duloxetine", b"cyclobenzaprine"):
        assert secret not in exported.lower()
