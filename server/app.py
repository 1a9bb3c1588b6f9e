"""Building, starting and stopping the gRPC server (after grpc/grpc examples/python).

The server is ``grpc.aio`` on an event loop of its own (server/aio_bridge.py): a call that waits
(a stream waiting for its next item, a request trickling in, a client that does not read its
answer) holds a coroutine, not one of the ``threads`` that run checks, so it cannot starve health
checks and short calls. Waiting calls are bounded instead by explicit limits (ServerOptions):
calls in flight per process, streams per connection, a stream's idle time, and a connection's
idle time and age.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import IO, Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer
from grpc_reflection.v1alpha import reflection, reflection_pb2_grpc

from regimenguard.regimen.engine import RegimenChecker
from regimenguard.regimen.observers import Observer
from regimenguard.regimen.service import RegimenService
from regimenguard.server.access_log import ACCESS_LOGGER, AccessLog, BufferedSink, Sink
from regimenguard.server.aio_bridge import LoopThread
from regimenguard.server.limits import (
    DEFAULT_CONNECTION_AGE_SECONDS,
    DEFAULT_CONNECTION_IDLE_SECONDS,
    DEFAULT_MAX_STREAMS_PER_CONNECTION,
    DEFAULT_STREAM_IDLE_SECONDS,
)
from regimenguard.server.logging_interceptor import ObservingInterceptor
from regimenguard.server.memory import DEFAULT_LARGE_MESSAGE_BUDGET_BYTES, MessageBudget
from regimenguard.server.servicer import RegimenCheckerServicer, as_service
from regimenguard.server.tls import ServerTLS
from regimenguard.v1 import regimen_checker_pb2 as pb
from regimenguard.v1 import regimen_checker_pb2_grpc as pb_grpc

log = logging.getLogger(__name__)

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["RegimenCheckerService"].full_name
HEALTH_SERVICE_NAME = health_pb2.DESCRIPTOR.services_by_name["Health"].full_name
# Health answers for the whole server ("") and for the checker service by name.
HEALTH_NAMES = ("", SERVICE_NAME)
DEFAULT_HOST = "localhost"
DEFAULT_PORT = 50051
DEFAULT_THREADS = 16
DEFAULT_GRACE_SECONDS = 10.0
MAX_MESSAGE_BYTES = 16 * 1024 * 1024
DEFAULT_MAX_CONCURRENT_RPCS = 256
# Keepalive, set explicitly rather than left to gRPC's defaults (docs/security-operations.md):
KEEPALIVE_TIME_MS = 300_000  # ping a connection idle for 5 min, so dead peers are noticed
KEEPALIVE_TIMEOUT_MS = 20_000  # and close it when the ping is not answered within 20 s
# Clients may ping at most every 10 s; more often earns a GOAWAY ("too_many_pings").
MIN_CLIENT_PING_INTERVAL_MS = 10_000
# Waiting calls cost no thread, so they are bounded by the DEFAULT_* limits of
# regimenguard.server.limits (docs/security-operations.md), and:
DEFAULT_CONNECTION_AGE_GRACE_SECONDS = 60.0  # ... and its calls this long to finish


@dataclass(frozen=True)
class ServerOptions:
    """How the server listens and what it accepts.

    Limits: a request larger than ``max_message_bytes`` is refused by gRPC itself with
    RESOURCE_EXHAUSTED (and no answer larger than it is sent); more than
    ``max_concurrent_rpcs`` calls in flight are refused with RESOURCE_EXHAUSTED instead of
    queueing without bound (None: no limit). Plaintext unless ``tls`` (or ``credentials``) is set.
    """

    # Loopback only (gRPC binds both 127.0.0.1 and ::1 for "localhost"); "[::]" or "0.0.0.0"
    # for every interface.
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    threads: int = DEFAULT_THREADS
    # Calls beyond this many in flight get RESOURCE_EXHAUSTED instead of queueing without bound.
    max_concurrent_rpcs: int | None = DEFAULT_MAX_CONCURRENT_RPCS
    reuse_port: bool = False
    max_message_bytes: int = MAX_MESSAGE_BYTES
    # Requests over 1 MiB reserve their size from this budget before they are worked on
    # (server/memory.py); the rest wait, holding no thread.
    large_message_budget_bytes: int = DEFAULT_LARGE_MESSAGE_BUDGET_BYTES
    max_streams_per_connection: int = DEFAULT_MAX_STREAMS_PER_CONNECTION
    stream_idle_seconds: float | None = DEFAULT_STREAM_IDLE_SECONDS
    connection_idle_seconds: float = DEFAULT_CONNECTION_IDLE_SECONDS
    connection_age_seconds: float = DEFAULT_CONNECTION_AGE_SECONDS
    connection_age_grace_seconds: float = DEFAULT_CONNECTION_AGE_GRACE_SECONDS
    credentials: grpc.ServerCredentials | None = None
    # TLS as PEM bytes; the credentials are made in create_server (after any fork).
    tls: ServerTLS | None = None
    # One JSON line per call (regimenguard.server.access_log); drug names and patient fields only with
    # log_phi. The lines go to access_log_stream through a buffer flushed every 0.5 s and at
    # stop (serve: standard error), or, when it is None, to the regimenguard.access logger.
    access_log: bool = True
    log_phi: bool = False
    access_log_stream: IO[str] | None = None
    # A service-layer observer told about every regimen and call (regimenguard.server.metrics.Metrics).
    metrics: Observer | None = None
    # More service-layer observers (regimenguard.server.tracing.CheckSpans: a span per check).
    observers: Sequence[Observer] = ()
    # Before the access log, so they see every call the server hands to a handler: gRPC's
    # standard metrics (regimenguard.server.grpc_metrics) and the tracing interceptor (regimenguard.server.tracing).
    outer_interceptors: Sequence[grpc.ServerInterceptor] = ()
    interceptors: Sequence[grpc.ServerInterceptor] = ()

    def channel_options(self) -> list[tuple[str, int]]:
        return [
            ("grpc.so_reuseport", 1 if self.reuse_port else 0),
            ("grpc.max_receive_message_length", self.max_message_bytes),
            ("grpc.max_send_message_length", self.max_message_bytes),
            ("grpc.keepalive_time_ms", KEEPALIVE_TIME_MS),
            ("grpc.keepalive_timeout_ms", KEEPALIVE_TIMEOUT_MS),
            ("grpc.http2.min_ping_interval_without_data_ms", MIN_CLIENT_PING_INTERVAL_MS),
            ("grpc.keepalive_permit_without_calls", 1),
            ("grpc.max_concurrent_streams", self.max_streams_per_connection),
            ("grpc.max_connection_idle_ms", int(self.connection_idle_seconds * 1000)),
            ("grpc.max_connection_age_ms", int(self.connection_age_seconds * 1000)),
            ("grpc.max_connection_age_grace_ms", int(self.connection_age_grace_seconds * 1000)),
        ]

    def server_credentials(self) -> grpc.ServerCredentials | None:
        if self.credentials is not None:
            return self.credentials
        return self.tls.credentials() if self.tls is not None else None


class ClosingGate(grpc.ServerInterceptor):
    """Once closed, answers every new call except health checks with UNAVAILABLE at once.

    gRPC's own stop() cancels the calls that have reached the server but not yet a handler
    (the client sees CANCELLED, not the UNAVAILABLE that says "try elsewhere"); closing the
    gate a moment before stop() turns those into a clean UNAVAILABLE.
    """

    def __init__(self) -> None:
        self.closed = False

    def close(self) -> None:
        self.closed = True

    def intercept_service(self, continuation, handler_call_details):  # type: ignore[no-untyped-def]
        handler = continuation(handler_call_details)
        if handler is None or not self.closed:
            return handler
        if handler_call_details.method.startswith("/grpc.health.v1.Health/"):
            return handler

        def refuse(request_or_iterator, context: grpc.ServicerContext):  # type: ignore[no-untyped-def]
            context.abort(grpc.StatusCode.UNAVAILABLE, "the server is shutting down")

        serialize = handler.response_serializer
        parse = handler.request_deserializer
        if handler.request_streaming and handler.response_streaming:
            return grpc.stream_stream_rpc_method_handler(refuse, parse, serialize)
        if handler.request_streaming:
            return grpc.stream_unary_rpc_method_handler(refuse, parse, serialize)
        if handler.response_streaming:
            return grpc.unary_stream_rpc_method_handler(refuse, parse, serialize)
        return grpc.unary_unary_rpc_method_handler(refuse, parse, serialize)


# After the gate closes, this long for calls already queued in gRPC to be answered UNAVAILABLE.
CLOSE_SETTLE_SECONDS = 0.25
CALLBACK_SETTLE_SECONDS = 0.05


class HealthView:
    """The health servicer, called from outside its event loop (tests, shutdown)."""

    def __init__(self, servicer: HealthServicer, runtime: LoopThread) -> None:
        self.servicer = servicer
        self._runtime = runtime

    def Check(self, request: health_pb2.HealthCheckRequest, context: Any = None):  # type: ignore[no-untyped-def]
        if self._runtime.loop.is_closed():  # stopped: the last status still answers
            return asyncio.run(self.servicer.Check(request, context))
        return self._runtime.run(self.servicer.Check(request, context))

    def set(self, name: str, status: int) -> None:
        self._runtime.run(self.servicer.set(name, status))

    def enter_graceful_shutdown(self) -> None:
        self._runtime.run(self.servicer.enter_graceful_shutdown())


@dataclass
class RunningServer:
    server: grpc.aio.Server
    port: int
    health: HealthView
    gate: ClosingGate | None
    runtime: LoopThread
    # The access log's sink, closed (its buffer written out) once the server has stopped.
    access_sink: Sink | None = field(default=None)

    def start(self) -> None:
        self.runtime.run(self.server.start())
        for name in HEALTH_NAMES:
            self.health.set(name, health_pb2.HealthCheckResponse.SERVING)

    def stop(self, grace: float = DEFAULT_GRACE_SECONDS, *, drain: float = 0.0) -> None:
        """NOT_SERVING first, so balancers drain us; then let in-flight calls finish.

        For ``drain`` seconds after NOT_SERVING, calls are still accepted and answered (health
        checkers and balancers need a moment to notice); then no new call is accepted and the
        calls in flight get the rest of ``grace`` to finish before they are cancelled (and
        logged CANCELLED).
        """
        if self.runtime.loop.is_closed():
            return
        started = time.monotonic()
        self.health.enter_graceful_shutdown()
        drain = max(0.0, min(drain, grace))
        if drain:
            time.sleep(drain)
        if self.gate is not None:
            self.gate.close()
            time.sleep(max(0.0, min(CLOSE_SETTLE_SECONDS, grace - drain)))
        remaining = max(0.0, grace - (time.monotonic() - started))
        try:
            self.runtime.run(self.server.stop(remaining))
            # The calls stop() cancelled end in callbacks on the loop (their access-log lines,
            # CANCELLED): let those run before the loop goes.
            self.runtime.run(asyncio.sleep(CALLBACK_SETTLE_SECONDS))
        finally:
            self.runtime.close()
            if self.access_sink is not None:
                self.access_sink.close()


class GenericHandlersOnly:
    """The server as the generated ``add_*Servicer_to_server`` functions see it: they add each
    service's generic handler (a dict lookup per call) and nothing else.

    They would also register every method with gRPC ("registered methods"), and grpc.aio's
    accept loop then waits on one future per registered method: each call it accepts costs an
    ``asyncio.wait`` over all of them (a done callback added to and removed from each): with
    our nine methods, about 57k of the 705k instructions the server process spent per unary
    call. The same handlers answer either way.
    """

    def __init__(self, server: grpc.aio.Server) -> None:
        self._server = server

    def add_generic_rpc_handlers(self, handlers: Sequence[grpc.GenericRpcHandler]) -> None:
        self._server.add_generic_rpc_handlers(handlers)

    def add_registered_method_handlers(
        self, service: str, handlers: dict[str, grpc.RpcMethodHandler]
    ) -> None:
        """Not registered: the generic handler added beside them answers the same methods."""


def observed_service(
    checker: RegimenService | RegimenChecker, options: ServerOptions
) -> tuple[RegimenService, Sink | None]:
    """The service with the observers ``options`` ask for (access log, metrics), and the
    access log's sink (to close at stop)."""
    observers: list[Observer] = []
    sink: Sink | None = None
    if options.access_log:
        if options.access_log_stream is not None:
            # The access logger's own level (serve: --log-level), INFO when it has none.
            level = logging.getLogger(ACCESS_LOGGER).level or logging.INFO
            sink = BufferedSink(options.access_log_stream, level)
        observers.append(AccessLog(sink, log_phi=options.log_phi))
    if options.metrics is not None:
        observers.append(options.metrics)
    observers.extend(options.observers)
    return as_service(checker).with_observers(observers), sink


def create_server(
    checker: RegimenService | RegimenChecker, options: ServerOptions | None = None
) -> RunningServer:
    """A server with the checker, health and reflection services, bound but not started.

    Returns the bound port (useful with port 0). Health reports NOT_SERVING until start().
    Raises RuntimeError when the address cannot be bound.
    """
    options = options or ServerOptions()
    service, sink = observed_service(checker, options)
    runtime = LoopThread(options.threads)
    try:
        return runtime.run(_build(service, sink, options, runtime))
    except BaseException:
        runtime.close()
        if sink is not None:
            sink.close()
        raise


async def _build(
    service: RegimenService, sink: Sink | None, options: ServerOptions, runtime: LoopThread
) -> RunningServer:
    gate = ClosingGate()
    # The observing interceptor is the only asyncio one: it opens each call's record for the
    # service's observers (access log, metrics), decodes every request (bytes that are not the
    # expected message get INVALID_ARGUMENT rather than gRPC's INTERNAL), encodes every answer
    # (one over the limit is RESOURCE_EXHAUSTED, and recorded so) and runs plain handlers on
    # the thread pool; the gate and any others are applied inside it.
    access = ObservingInterceptor(
        service,
        max_send_bytes=options.max_message_bytes,
        stream_idle_seconds=options.stream_idle_seconds,
        budget=MessageBudget(options.large_message_budget_bytes),
        inner=(gate, *options.interceptors),
    )
    server = grpc.aio.server(
        options=options.channel_options(),
        maximum_concurrent_rpcs=options.max_concurrent_rpcs,
        interceptors=[*options.outer_interceptors, access],
    )
    handlers = GenericHandlersOnly(server)
    pb_grpc.add_RegimenCheckerServiceServicer_to_server(RegimenCheckerServicer(service), handlers)
    health_servicer = HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, handlers)
    reflection_pb2_grpc.add_ServerReflectionServicer_to_server(
        reflection.aio.ReflectionServicer(
            (SERVICE_NAME, HEALTH_SERVICE_NAME, reflection.SERVICE_NAME)
        ),
        handlers,
    )
    address = f"{options.host}:{options.port}"
    credentials = options.server_credentials()
    if credentials is None:
        port = server.add_insecure_port(address)
    else:
        port = server.add_secure_port(address, credentials)
    for name in HEALTH_NAMES:
        await health_servicer.set(name, health_pb2.HealthCheckResponse.NOT_SERVING)
    return RunningServer(server, port, HealthView(health_servicer, runtime), gate, runtime, sink)
