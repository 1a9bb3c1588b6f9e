"""OpenTelemetry tracing: a span per gRPC call and a span per regimen checked, exported over OTLP.

On only when the standard ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or
``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``) is set, and not ``OTEL_SDK_DISABLED=true`` or
``OTEL_TRACES_EXPORTER=none``; the exporter reads the rest of the standard variables itself
(``OTEL_EXPORTER_OTLP_PROTOCOL`` ``grpc``, the default, or ``http/protobuf``, headers,
certificates, timeouts), and ``OTEL_SERVICE_NAME`` / ``OTEL_RESOURCE_ATTRIBUTES`` name the
service (``regimenguard`` by default). Off, nothing of OpenTelemetry is imported or run.

- Calls: the gRPC instrumentation's server interceptor (opentelemetry-instrumentation-grpc),
  first in the server's interceptor list: a SERVER span named by the full method
  (``/regimenguard.v1.RegimenCheckerService/CheckRegimen``) with ``rpc.system``,
  ``rpc.service``, ``rpc.method``, ``rpc.grpc.status_code`` and the peer address; a caller's
  ``traceparent`` makes it a child of the caller's trace.
- Checks: ``CheckSpans``, an observer of the service layer, adds one INTERNAL span
  ``regimenguard.check`` per regimen (unary, batch item, stream item), a child of the call's span,
  covering the check. Its attributes are counts and rule ids only: medications, findings by
  severity, the rules that fired, the verdict, the outcome. No drug name, dose, patient field or
  request id is ever an attribute: those are protected health information.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from regimenguard.regimen.observers import CallRecord, CheckRecord

if TYPE_CHECKING:
    import grpc
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter

TRACER_NAME = "regimenguard"
CHECK_SPAN = "regimenguard.check"
DEFAULT_SERVICE_NAME = "regimenguard"
SEVERITIES = ("CRITICAL", "WARNING", "INFO")


def tracing_requested(environ: Mapping[str, str] = os.environ) -> bool:
    """True when the standard OpenTelemetry variables ask for traces to be exported."""
    endpoint = environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or environ.get(
        "OTEL_EXPORTER_OTLP_ENDPOINT"
    )
    if not (endpoint or "").strip():
        return False
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    return environ.get("OTEL_TRACES_EXPORTER", "otlp").strip().lower() != "none"


def otlp_exporter(environ: Mapping[str, str] = os.environ) -> SpanExporter:
    """The OTLP span exporter for ``OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL`` (grpc by default)."""
    protocol = (
        environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
        or environ.get("OTEL_EXPORTER_OTLP_PROTOCOL")
        or "grpc"
    ).strip()
    if protocol.startswith("http"):
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    else:
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (  # type: ignore[assignment]
            OTLPSpanExporter,
        )
    return OTLPSpanExporter()


class Tracing:
    """A tracer provider and what the server needs from it: interceptors and the check spans."""

    def __init__(self, provider: TracerProvider) -> None:
        self.provider = provider
        self.check_spans = CheckSpans(provider.get_tracer(TRACER_NAME))

    @classmethod
    def with_exporter(
        cls, exporter: SpanExporter, *, version: str = "", batch: bool = True
    ) -> Tracing:
        """Spans exported by ``exporter`` (batched in a background thread unless ``batch`` is
        False, as tests want)."""
        from opentelemetry.sdk.resources import OTEL_SERVICE_NAME, Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

        attributes: dict[str, Any] = {}
        if not os.environ.get(OTEL_SERVICE_NAME):
            attributes["service.name"] = DEFAULT_SERVICE_NAME
        if version:
            attributes["service.version"] = version
        provider = TracerProvider(resource=Resource.create(attributes))
        processor = BatchSpanProcessor(exporter) if batch else SimpleSpanProcessor(exporter)
        provider.add_span_processor(processor)
        return cls(provider)

    @classmethod
    def from_environment(
        cls, environ: Mapping[str, str] = os.environ, *, version: str = ""
    ) -> Tracing | None:
        """Tracing over OTLP when the environment asks for it (module docstring), else None."""
        if not tracing_requested(environ):
            return None
        return cls.with_exporter(otlp_exporter(environ), version=version)

    def interceptors(self) -> list[grpc.ServerInterceptor]:
        """For a thread-pool ``grpc.server``, first in its list: the instrumentation's
        interceptor, then ``SpanStatus`` inside it (the final status code on the span)."""
        from opentelemetry.instrumentation.grpc import server_interceptor

        from regimenguard.server.grpc_metrics import EndOfCallInterceptor

        return [
            server_interceptor(tracer_provider=self.provider),
            EndOfCallInterceptor(lambda method, kind: SpanStatus()),
        ]

    def aio_interceptors(self) -> list[Any]:
        """The same for a ``grpc.aio.server``. (A check run on a thread pool is a child of the
        call's span only if the pool runs it in a copy of the caller's context,
        ``contextvars.copy_context().run``.)"""
        from opentelemetry.instrumentation.grpc import aio_server_interceptor

        from regimenguard.server.grpc_metrics import AioEndOfCallInterceptor

        return [
            aio_server_interceptor(tracer_provider=self.provider),
            AioEndOfCallInterceptor(lambda method, kind: SpanStatus()),
        ]

    def shutdown(self) -> None:
        """Exports what is pending and stops (at server stop)."""
        self.provider.shutdown()


# Server-side codes that mark the server's span as an error (OpenTelemetry's gRPC conventions:
# the others, INVALID_ARGUMENT say, are the caller's to handle).
SERVER_ERROR_CODES = frozenset(
    {"UNKNOWN", "DEADLINE_EXCEEDED", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS"}
)


class SpanStatus:
    """Call hooks (regimenguard.server.grpc_metrics.CallHooks) that put the status code the caller received
    on the call's span: the instrumentation sees ``abort`` and ``set_code`` but not
    ``abort_with_status`` (how rich errors are sent), nor a call refused while decoding."""

    __slots__ = ()

    def start(self) -> Any:
        from opentelemetry import trace

        return trace.get_current_span()

    def received(self) -> None:
        pass

    def sent(self) -> None:
        pass

    def finished(self, code: grpc.StatusCode, span: Any) -> None:
        from opentelemetry.trace import Status, StatusCode

        span.set_attribute("rpc.grpc.status_code", code.value[0])
        if code.name in SERVER_ERROR_CODES:
            span.set_status(Status(StatusCode.ERROR, code.name))


class CheckSpans:
    """A service-layer observer: one span per regimen checked (module docstring)."""

    def __init__(self, tracer: Any) -> None:
        self._tracer = tracer

    def checked(self, call: CallRecord, check: CheckRecord) -> None:
        from opentelemetry.trace import SpanKind, Status, StatusCode

        end = time.time_ns()
        attributes: dict[str, Any] = {
            "regimenguard.door": call.door,
            "regimenguard.outcome": check.code,
            "regimenguard.medications": check.medications,
        }
        result = check.result
        if result is not None:
            findings = check.findings
            by_severity = Counter(severity for _, severity in findings)
            attributes["regimenguard.verdict"] = result.verdict.name
            attributes["regimenguard.findings"] = len(findings)
            for severity in SEVERITIES:
                attributes[f"regimenguard.findings.{severity.lower()}"] = by_severity[severity]
            rules = sorted({rule_id for rule_id, _ in findings})
            attributes["regimenguard.rules_fired"] = len(rules)
            attributes["regimenguard.rule_ids"] = rules
        elif check.refused is not None:
            attributes["regimenguard.invalid_fields"] = len(check.refused.violations)
        span = self._tracer.start_span(
            CHECK_SPAN,
            kind=SpanKind.INTERNAL,
            attributes=attributes,
            start_time=end - round(check.seconds * 1e9),
        )
        if check.failed:
            span.set_status(Status(StatusCode.ERROR, "the check failed"))
        else:
            span.set_status(Status(StatusCode.OK))
        span.end(end_time=end)

    def call_ended(self, call: CallRecord) -> None:
        """Nothing: the call's own span is the gRPC instrumentation's."""
