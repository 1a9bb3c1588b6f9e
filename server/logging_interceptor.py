"""Every gRPC call as a call of the service layer, and strict request decoding: an interceptor.

For every call (health checks and reflection too) the interceptor opens a ``CallRecord`` with
``RegimenService.start_call``, hands it to the servicer through the context (``call_of``), and
ends it with ``RegimenService.end_call`` once, whichever path ends the call, with the status the
caller received, its peer and, under mutual TLS, the client certificate's identity. The
service's observers (the access log, ``server.access_log.AccessLog``; metrics,
``server.metrics.Metrics``) do the rest with domain values.

The interceptor also decodes requests itself: gRPC's own decoder answers bytes that are not the
expected message (invalid UTF-8 in a string, a truncated field) with INTERNAL,
a status that means a bug here; this one answers INVALID_ARGUMENT with the usual
BadRequest and ErrorInfo.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import grpc

from regimen.observers import CallRecord
from regimen.service import RegimenService
from regimen.validation import FieldViolation
from server.access_log import ACCESS_LOGGER as ACCESS_LOGGER
from server.access_log import configure_access_log as configure_access_log
from server.errors import abort_with, invalid_argument


class _Call:
    """One call's record, with the bookkeeping that ends it exactly once."""

    __slots__ = ("_lock", "_logged", "raised", "record")

    def __init__(self, record: CallRecord) -> None:
        self.record = record
        self.raised = False
        self._logged = False
        self._lock = threading.Lock()

    def claim(self) -> bool:
        """True the first time only: a call is ended once, whichever path ends it."""
        with self._lock:
            first, self._logged = not self._logged, True
            return first


class ObservedContext:
    """The servicer's view of the context: grpc's own, plus the call record (``regimen_call``)."""

    __slots__ = ("_context", "regimen_call")

    def __init__(self, context: grpc.ServicerContext, record: CallRecord) -> None:
        self._context = context
        self.regimen_call = record

    def __getattr__(self, name: str) -> Any:
        return getattr(self._context, name)


def _final_code(context: grpc.ServicerContext, raised: bool) -> grpc.StatusCode:
    code = context.code()
    if isinstance(code, grpc.StatusCode) and code is not grpc.StatusCode.OK:
        return code
    if not context.is_active():
        remaining = context.time_remaining()
        if remaining is not None and remaining <= 0:
            return grpc.StatusCode.DEADLINE_EXCEEDED
        return grpc.StatusCode.CANCELLED
    return grpc.StatusCode.UNKNOWN if raised else grpc.StatusCode.OK


class ObservingInterceptor(grpc.ServerInterceptor):
    """Opens and ends a service-layer call per gRPC call; decodes requests (module docstring)."""

    def __init__(self, service: RegimenService) -> None:
        self._service = service

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], grpc.RpcMethodHandler | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        handler = continuation(handler_call_details)
        if handler is None:
            return None
        method = handler_call_details.method
        decode = handler.request_deserializer or (lambda raw: raw)
        serialize = handler.response_serializer
        if not handler.request_streaming and not handler.response_streaming:
            return grpc.unary_unary_rpc_method_handler(
                self._unary(method, decode, handler.unary_unary), None, serialize
            )
        if not handler.request_streaming:
            return grpc.unary_stream_rpc_method_handler(
                self._unary_stream(method, decode, handler.unary_stream), None, serialize
            )
        if not handler.response_streaming:
            return grpc.stream_unary_rpc_method_handler(
                self._stream_unary(method, decode, handler.stream_unary), None, serialize
            )
        return grpc.stream_stream_rpc_method_handler(
            self._stream_stream(method, decode, handler.stream_stream), None, serialize
        )

    def _start(self, method: str) -> _Call:
        return _Call(self._service.start_call(method, "grpc"))

    # --- the four shapes ----------------------------------------------------------------------

    def _unary(self, method: str, decode: Callable, behavior: Callable) -> Callable:  # type: ignore[type-arg]
        def handle(raw: bytes, context: grpc.ServicerContext) -> Any:
            call = self._start(method)
            observed = ObservedContext(context, call.record)
            try:
                request = self._decode(decode, raw, context)
                return behavior(request, observed)
            except BaseException:
                call.raised = True
                raise
            finally:
                self._emit(call, context)

        return handle

    def _unary_stream(self, method: str, decode: Callable, behavior: Callable) -> Callable:  # type: ignore[type-arg]
        def handle(raw: bytes, context: grpc.ServicerContext) -> Iterator[Any]:
            call = self._start(method)
            observed = ObservedContext(context, call.record)
            context.add_callback(lambda: self._emit(call, context))
            try:
                request = self._decode(decode, raw, context)
                responses = behavior(request, observed)
            except BaseException:
                call.raised = True
                self._emit(call, context)
                raise
            return self._responses(call, responses, context)

        return handle

    def _stream_unary(self, method: str, decode: Callable, behavior: Callable) -> Callable:  # type: ignore[type-arg]
        def handle(raw_requests: Iterator[bytes], context: grpc.ServicerContext) -> Any:
            call = self._start(method)
            observed = ObservedContext(context, call.record)
            try:
                return behavior(self._requests(decode, raw_requests, context), observed)
            except BaseException:
                call.raised = True
                raise
            finally:
                self._emit(call, context)

        return handle

    def _stream_stream(self, method: str, decode: Callable, behavior: Callable) -> Callable:  # type: ignore[type-arg]
        def handle(raw_requests: Iterator[bytes], context: grpc.ServicerContext) -> Iterator[Any]:
            call = self._start(method)
            observed = ObservedContext(context, call.record)
            # A stream the client abandons may never be iterated to its end: log on termination.
            context.add_callback(lambda: self._emit(call, context))
            try:
                responses = behavior(self._requests(decode, raw_requests, context), observed)
            except BaseException:
                call.raised = True
                self._emit(call, context)
                raise
            return self._responses(call, responses, context)

        return handle

    # --- helpers ------------------------------------------------------------------------------

    def _decode(
        self,
        decode: Callable[[bytes], Any],
        raw: bytes,
        context: grpc.ServicerContext,
    ) -> Any:
        try:
            request = decode(raw)
        except Exception as error:
            detail = str(error).rsplit(": ", 1)[-1][:200] or type(error).__name__
            violation = FieldViolation(
                ("(request)",), f"is not a valid {_message_name(decode)} message: {detail}"
            )
            abort_with(context, invalid_argument([violation], reason="MALFORMED_REQUEST"))
            raise  # unreachable: abort raises
        return request

    def _requests(
        self,
        decode: Callable[[bytes], Any],
        raw_requests: Iterable[bytes],
        context: grpc.ServicerContext,
    ) -> Iterator[Any]:
        for raw in raw_requests:
            yield self._decode(decode, raw, context)

    def _responses(
        self, call: _Call, responses: Iterable[Any], context: grpc.ServicerContext
    ) -> Iterator[Any]:
        try:
            yield from responses
        except BaseException:
            call.raised = True
            raise
        finally:
            self._emit(call, context)

    def _emit(self, call: _Call, context: grpc.ServicerContext) -> None:
        if not call.claim():
            return
        record = call.record
        record.peer = context.peer()
        identities = context.peer_identities()
        if identities:
            record.client = identities[0].decode("utf-8", errors="replace")
        self._service.end_call(record, _final_code(context, call.raised).name)


def _message_name(decode: Callable[[bytes], Any]) -> str:
    owner = getattr(decode, "__self__", None)
    descriptor = getattr(owner, "DESCRIPTOR", None)
    return getattr(descriptor, "full_name", "request")
