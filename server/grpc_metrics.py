"""gRPC's standard server metrics (the names of go-grpc-prometheus and py-grpc-prometheus).

Beside the domain metrics of ``regimenguard.server.metrics`` and in the same registry, so that dashboards and
alerts written for any gRPC server work here unchanged:

- ``grpc_server_started_total{grpc_type,grpc_service,grpc_method}``: calls started;
- ``grpc_server_handled_total{grpc_type,grpc_service,grpc_method,grpc_code}``: calls finished,
  by status code name (``OK``, ``INVALID_ARGUMENT``, ...);
- ``grpc_server_handling_seconds{grpc_type,grpc_service,grpc_method}``: histogram of the time
  from the start of a call to its end (a stream: its whole life);
- ``grpc_server_msg_received_total`` and ``grpc_server_msg_sent_total`` (same labels as
  started): messages read and written (one each for a unary call).

``grpc_type`` is ``unary``, ``client_stream``, ``server_stream`` or ``bidi_stream``;
``grpc_service`` the full service name (``regimenguard.v1.RegimenCheckerService``),
``grpc_method`` the method's (``CheckRegimen``). The label values are those of the registered
services only: nothing a caller sends becomes a label.

Two interceptors record them: ``GrpcMetricsInterceptor`` for a ``grpc.server`` (thread pool)
and ``AioGrpcMetricsInterceptor`` for a ``grpc.aio.server``; each goes first in the server's
interceptor list, so that it sees every call the server hands to a handler, including those the
access-log interceptor refuses while decoding.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, Protocol

import grpc
from prometheus_client import CollectorRegistry, Counter, Histogram

from regimenguard.server.aio_bridge import HandlerTable

# As go-grpc-prometheus's defaults (prometheus.DefBuckets), so existing dashboards' quantiles fit.
HANDLING_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
UNARY, CLIENT_STREAM, SERVER_STREAM, BIDI_STREAM = (
    "unary",
    "client_stream",
    "server_stream",
    "bidi_stream",
)


def rpc_type(handler: grpc.RpcMethodHandler) -> str:
    if handler.request_streaming and handler.response_streaming:
        return BIDI_STREAM
    if handler.request_streaming:
        return CLIENT_STREAM
    return SERVER_STREAM if handler.response_streaming else UNARY


def split_method(full_method: str) -> tuple[str, str]:
    """``/pkg.Service/Method`` -> (``pkg.Service``, ``Method``)."""
    service, _, method = full_method.lstrip("/").rpartition("/")
    return service or "unknown", method or "unknown"


class GrpcServerMetrics:
    """The standard series in ``registry``; ``interceptor()`` / ``aio_interceptor()`` feed them."""

    def __init__(self, registry: CollectorRegistry) -> None:
        labels = ("grpc_type", "grpc_service", "grpc_method")
        self.started = Counter(
            "grpc_server_started", "RPCs started on the server.", labels, registry=registry
        )
        self.handled = Counter(
            "grpc_server_handled",
            "RPCs completed on the server, regardless of success or failure.",
            (*labels, "grpc_code"),
            registry=registry,
        )
        self.handling = Histogram(
            "grpc_server_handling_seconds",
            "Response latency (seconds) of gRPC calls handled by the server.",
            labels,
            buckets=HANDLING_BUCKETS,
            registry=registry,
        )
        self.received = Counter(
            "grpc_server_msg_received",
            "RPC stream messages received on the server.",
            labels,
            registry=registry,
        )
        self.sent = Counter(
            "grpc_server_msg_sent",
            "gRPC stream messages sent by the server.",
            labels,
            registry=registry,
        )
        self._methods: dict[tuple[str, str], _Method] = {}
        self._lock = threading.Lock()

    def method(self, full_method: str, kind: str) -> _Method:
        """The bound children of one method's series (made once per method and type)."""
        key = (full_method, kind)
        found = self._methods.get(key)
        if found is None:
            with self._lock:
                found = self._methods.get(key)
                if found is None:
                    found = self._methods[key] = _Method(self, kind, *split_method(full_method))
        return found

    def interceptor(self) -> GrpcMetricsInterceptor:
        return GrpcMetricsInterceptor(self)

    def aio_interceptor(self) -> AioGrpcMetricsInterceptor:
        return AioGrpcMetricsInterceptor(self)


class _Method:
    """One method's series: label lookups done once, then plain method calls per call."""

    __slots__ = ("_codes", "_handled", "_started", "observe", "received", "sent")

    def __init__(self, metrics: GrpcServerMetrics, kind: str, service: str, method: str) -> None:
        labels = (kind, service, method)
        self._started = metrics.started.labels(*labels).inc
        self.received = metrics.received.labels(*labels).inc
        self.sent = metrics.sent.labels(*labels).inc
        self.observe = metrics.handling.labels(*labels).observe
        self._handled = metrics.handled
        # By name (``code._name_``): a StatusCode's own hash is a Python call.
        self._codes: dict[str, Callable[[], None]] = {}
        for code in grpc.StatusCode:  # every code at 0, as go-grpc-prometheus's preregistration
            self._codes[code.name] = self._handled.labels(*labels, code.name).inc

    def start(self) -> float:
        self._started()
        return time.perf_counter()

    def finished(self, code: grpc.StatusCode, started: float) -> None:
        self._codes[code._name_]()
        self.observe(time.perf_counter() - started)


def final_code(context: Any, raised: BaseException | None) -> grpc.StatusCode:
    """The status the caller gets: the one set or aborted with, else from how the call ended."""
    code = context.code()
    if isinstance(code, int) and not isinstance(code, grpc.StatusCode):  # grpc.aio: an int
        code = next((c for c in grpc.StatusCode if c.value[0] == code), None)
    if isinstance(code, grpc.StatusCode) and code is not grpc.StatusCode.OK:
        return code
    if isinstance(raised, grpc.RpcError) and hasattr(raised, "code"):
        return raised.code()
    if hasattr(context, "is_active"):
        ended_early = not context.is_active()
    else:  # grpc.aio: a cancelled call's handler gets CancelledError
        ended_early = isinstance(raised, asyncio.CancelledError) or context.cancelled()
    if ended_early:
        remaining = context.time_remaining()
        if remaining is not None and remaining <= 0:
            return grpc.StatusCode.DEADLINE_EXCEEDED
        return grpc.StatusCode.CANCELLED
    return grpc.StatusCode.UNKNOWN if raised is not None else grpc.StatusCode.OK


class CallHooks(Protocol):
    """What an ``EndOfCallInterceptor`` tells about one method's calls."""

    def start(self) -> Any:
        """A call starts; returns the state handed back to ``finished``."""

    def received(self) -> None:
        """A request message was read."""

    def sent(self) -> None:
        """A response message was written."""

    def finished(self, code: grpc.StatusCode, state: Any) -> None:
        """The call ended with ``code`` (exactly once per call)."""


class _Once:
    """Ends a call exactly once, whichever path (return, raise, callback) comes first."""

    __slots__ = ("_done", "_lock", "hooks", "state")

    def __init__(self, hooks: CallHooks) -> None:
        self.hooks = hooks
        self._done = False
        self._lock = threading.Lock()
        self.state = hooks.start()

    def end(self, context: Any, raised: BaseException | None) -> None:
        with self._lock:
            if self._done:
                return
            self._done = True
        self.hooks.finished(final_code(context, raised), self.state)


def _handler(handler: grpc.RpcMethodHandler, behavior: Callable, module: Any) -> Any:  # type: ignore[type-arg]
    make = {
        UNARY: module.unary_unary_rpc_method_handler,
        CLIENT_STREAM: module.stream_unary_rpc_method_handler,
        SERVER_STREAM: module.unary_stream_rpc_method_handler,
        BIDI_STREAM: module.stream_stream_rpc_method_handler,
    }[rpc_type(handler)]
    return make(
        behavior,
        request_deserializer=handler.request_deserializer,
        response_serializer=handler.response_serializer,
    )


def _behavior(handler: grpc.RpcMethodHandler) -> Callable:  # type: ignore[type-arg]
    return (
        handler.unary_unary or handler.unary_stream or handler.stream_unary or handler.stream_stream
    )


class EndOfCallInterceptor(grpc.ServerInterceptor):
    """Tells ``hooks_for(full_method, grpc_type)`` when each call starts, what messages pass and
    how it ends (its final status code), for a thread-pool ``grpc.server``."""

    def __init__(self, hooks_for: Callable[[str, str], CallHooks]) -> None:
        self._hooks_for = hooks_for

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], grpc.RpcMethodHandler | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        handler = continuation(handler_call_details)
        if handler is None:
            return None
        method = self._hooks_for(handler_call_details.method, rpc_type(handler))
        behavior = _behavior(handler)
        streaming_in = handler.request_streaming
        streaming_out = handler.response_streaming

        def observed(request_or_iterator: Any, context: grpc.ServicerContext) -> Any:
            call = _Once(method)
            if streaming_in:
                request_or_iterator = _counted(request_or_iterator, method.received)
            else:
                method.received()
            if streaming_out:
                # A stream the client abandons may never be iterated to its end.
                context.add_callback(lambda: call.end(context, None))
            try:
                result = behavior(request_or_iterator, context)
            except BaseException as error:
                call.end(context, error)
                raise
            if streaming_out:
                return _answers(result, method.sent, call, context)
            method.sent()
            call.end(context, None)
            return result

        return _handler(handler, observed, grpc)


class GrpcMetricsInterceptor(EndOfCallInterceptor):
    """The standard series for a thread-pool ``grpc.server`` (put it first)."""

    def __init__(self, metrics: GrpcServerMetrics) -> None:
        super().__init__(metrics.method)


def _counted(requests: Iterator[Any], received: Callable[[], None]) -> Iterator[Any]:
    for request in requests:
        received()
        yield request


def _answers(
    responses: Iterator[Any], sent: Callable[[], None], call: _Once, context: Any
) -> Iterator[Any]:
    raised: BaseException | None = None
    try:
        for response in responses:
            sent()
            yield response
    except BaseException as error:
        raised = error
        raise
    finally:
        call.end(context, raised)


class AioEndOfCallInterceptor(grpc.aio.ServerInterceptor):
    """``EndOfCallInterceptor`` for a ``grpc.aio.server``: async handlers, and plain ones
    (which grpc.aio runs on its thread pool), told by the same rules. Each method's observed
    handler is made once, so ``hooks_for`` is asked once per method: its hooks keep a call's
    own state in what ``start`` returns."""

    def __init__(self, hooks_for: Callable[[str, str], CallHooks]) -> None:
        self._hooks_for = hooks_for
        self._observed = HandlerTable(self._observe)  # each method's, made once

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        handler = await continuation(handler_call_details)
        if handler is None:
            return None
        return self._observed.handler(handler_call_details.method, handler)

    def _observe(self, full_method: str, handler: grpc.RpcMethodHandler) -> Any:
        method = self._hooks_for(full_method, rpc_type(handler))
        behavior = _behavior(handler)
        streaming_in = handler.request_streaming

        if handler.response_streaming:

            async def observed_stream(request_or_iterator: Any, context: Any) -> AsyncIterator[Any]:
                call = _Once(method)
                if streaming_in:
                    request_or_iterator = _acounted(request_or_iterator, method.received)
                else:
                    method.received()
                raised: BaseException | None = None
                try:
                    answers = behavior(request_or_iterator, context)
                    if hasattr(answers, "__aiter__"):
                        async for answer in answers:
                            method.sent()
                            yield answer
                    else:
                        for answer in answers:
                            method.sent()
                            yield answer
                except BaseException as error:
                    raised = error
                    raise
                finally:
                    call.end(context, raised)

            return _handler(handler, observed_stream, grpc)

        async def observed(request_or_iterator: Any, context: Any) -> Any:
            call = _Once(method)
            if streaming_in:
                request_or_iterator = _acounted(request_or_iterator, method.received)
            else:
                method.received()
            try:
                result = behavior(request_or_iterator, context)
                if hasattr(result, "__await__"):
                    result = await result
            except BaseException as error:
                call.end(context, error)
                raise
            method.sent()
            call.end(context, None)
            return result

        return _handler(handler, observed, grpc)


class AioGrpcMetricsInterceptor(AioEndOfCallInterceptor):
    """The standard series for a ``grpc.aio.server`` (put it first)."""

    def __init__(self, metrics: GrpcServerMetrics) -> None:
        super().__init__(metrics.method)


async def _acounted(requests: Any, received: Callable[[], None]) -> AsyncIterator[Any]:
    if hasattr(requests, "__aiter__"):
        async for request in requests:
            received()
            yield request
    else:
        for request in requests:
            received()
            yield request
