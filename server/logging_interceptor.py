"""Every gRPC call as a call of the service layer, strict request decoding and honest status:
an asyncio interceptor.

For every call (health checks and reflection too) the interceptor opens a ``CallRecord`` with
``RegimenService.start_call``, hands it to the servicer through the context (``call_of``), and
ends it with ``RegimenService.end_call`` once, whichever path ends the call, with the status the
caller received, its peer and, under mutual TLS, the client certificate's identity. The
service's observers (the access log, ``regimenguard.server.access_log.AccessLog``; metrics,
``regimenguard.server.metrics.Metrics``) do the rest with domain values.

The status recorded is what the caller received: the handler's status; RESOURCE_EXHAUSTED for
an answer over the send limit (the interceptor encodes answers itself and refuses such a one,
rather than let gRPC fail after the call was recorded OK); CANCELLED for a call the client
cancelled or that was cut off (a stream still open when the shutdown grace ran out);
DEADLINE_EXCEEDED for one past its deadline.

The interceptor also decodes requests itself: gRPC's own decoder answers bytes that are not the
expected message (invalid UTF-8 in a string, a truncated field) with INTERNAL, a status that
means a bug here; this one answers INVALID_ARGUMENT with the usual BadRequest and ErrorInfo,
naming the field whose bytes are bad where it can be found (server/wire.py). In a stream whose
handler accepts them (``accepts_malformed_items``: CheckRegimens), an undecodable item is passed
on as a ``RequestInvalid``, answered with an ``error``, and the stream goes on. A stream that
sends no item for ``stream_idle_seconds`` is ended with DEADLINE_EXCEEDED.

Handlers that are ordinary functions (the checks) run on the loop's thread pool with a blocking
view of the context (server/aio_bridge.py); ``inner`` interceptors of the synchronous kind (the
shutdown gate, tests' and benchmarks' own) are applied to the handler first.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import Any, NoReturn

import grpc

from regimenguard.regimen.observers import CallRecord
from regimenguard.regimen.service import RegimenService
from regimenguard.regimen.validation import FieldViolation, RequestInvalid
from regimenguard.server.access_log import ACCESS_LOGGER as ACCESS_LOGGER
from regimenguard.server.access_log import configure_access_log as configure_access_log
from regimenguard.server.aio_bridge import (
    HandlerTable,
    LoopAbort,
    LoopContext,
    ThreadContext,
    in_pool,
    is_async,
    runs_inline,
)
from regimenguard.server.errors import invalid_argument
from regimenguard.server.memory import MessageBudget
from regimenguard.server.wire import undecodable_field

# Requests and answers larger than this are decoded and encoded on the thread pool, not the loop.
OFF_LOOP_BYTES = 64 * 1024
# grpc.aio reads a cancelled stream as its end, and the cancellation itself can arrive a moment
# later: a stream's end waits this long, so that it is recorded CANCELLED rather than OK.
END_OF_STREAM_SETTLE_SECONDS = 0.02
MALFORMED_REQUEST = "MALFORMED_REQUEST"


class _Call:
    """One call's record, with the bookkeeping that ends it exactly once."""

    __slots__ = ("_lock", "_logged", "cancelled", "completed", "raised", "record")

    def __init__(self, record: CallRecord) -> None:
        self.record = record
        self.raised = False
        self.completed = False  # the handler ran to its end (for a stream: its last answer)
        self.cancelled = False
        self._logged = False
        self._lock = threading.Lock()

    def claim(self) -> bool:
        """True the first time only: a call is ended once, whichever path ends it."""
        with self._lock:
            first, self._logged = not self._logged, True
            return first


def _mark_ending(call: _Call, error: BaseException) -> None:
    """What ended a call with ``error``: cancelled (the client left, or the deadline passed), an
    abort (the handler's own status: nothing to mark), or any other exception (a bug)."""
    if isinstance(error, asyncio.CancelledError):
        call.cancelled = True
    elif not isinstance(error, grpc.aio.AbortError):
        call.raised = True


class ObservedContext:
    """The servicer's view of the context: grpc's own, plus the call record (``regimen_call``)."""

    __slots__ = ("_context", "regimen_call")

    def __init__(self, context: Any, record: CallRecord) -> None:
        self._context = context
        self.regimen_call = record

    def __getattr__(self, name: str) -> Any:
        return getattr(self._context, name)


def accepts_malformed_items(behavior: Callable[..., Any]) -> Callable[..., Any]:
    """Marks a stream handler that answers an undecodable item (a RequestInvalid) itself."""
    behavior.accepts_malformed_items = True  # type: ignore[attr-defined]
    return behavior


def _final_code(context: grpc.aio.ServicerContext, call: _Call) -> grpc.StatusCode:
    """What the caller received (its name: ``._name_``, the member's own attribute; ``.name``
    is a descriptor call in Python)."""
    code = context.code()
    if isinstance(code, grpc.StatusCode) and code is not grpc.StatusCode.OK:
        return code
    if call.raised:
        return grpc.StatusCode.UNKNOWN
    if call.cancelled or not call.completed:
        remaining = context.time_remaining()
        if remaining is not None and remaining <= 0:
            return grpc.StatusCode.DEADLINE_EXCEEDED
        return grpc.StatusCode.CANCELLED
    return grpc.StatusCode.OK


def _apply(
    interceptors: Sequence[grpc.ServerInterceptor],
    handler: grpc.RpcMethodHandler,
    details: grpc.HandlerCallDetails,
) -> grpc.RpcMethodHandler | None:
    """``handler`` as the chain of synchronous interceptors (first outermost) makes it."""

    def innermost(_: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler:
        return handler

    continuation: Callable[[grpc.HandlerCallDetails], grpc.RpcMethodHandler | None] = innermost
    for interceptor in reversed(interceptors):
        continuation = _link(interceptor, continuation)
    return continuation(details)


def _link(interceptor, continuation):  # type: ignore[no-untyped-def]
    return lambda details: interceptor.intercept_service(continuation, details)


class ObservingInterceptor(grpc.aio.ServerInterceptor):
    """Opens and ends a service-layer call per gRPC call; decodes requests and encodes answers
    (module docstring)."""

    def __init__(
        self,
        service: RegimenService,
        *,
        max_send_bytes: int | None = None,
        stream_idle_seconds: float | None = None,
        budget: MessageBudget | None = None,
        inner: Sequence[grpc.ServerInterceptor] = (),
    ) -> None:
        self._service = service
        self._budget = budget or MessageBudget()
        self._max_send_bytes = max_send_bytes
        self._stream_idle_seconds = stream_idle_seconds
        self._inner = tuple(inner)
        self._observed = HandlerTable(self._observe)  # each method's, made once

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Any],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        handler = await continuation(handler_call_details)
        if handler is None:
            return None
        if self._inner:
            handler = _apply(self._inner, handler, handler_call_details)
            if handler is None:
                return None
        return self._observed.handler(handler_call_details.method, handler)

    def _observe(self, method: str, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
        decode = handler.request_deserializer or (lambda raw: raw)
        encode = handler.response_serializer or (lambda message: message)
        if not handler.request_streaming and not handler.response_streaming:
            return grpc.unary_unary_rpc_method_handler(
                self._unary(method, decode, encode, handler.unary_unary)
            )
        if not handler.request_streaming:
            return grpc.unary_stream_rpc_method_handler(
                self._unary_stream(method, decode, encode, handler.unary_stream)
            )
        if not handler.response_streaming:
            return grpc.stream_unary_rpc_method_handler(
                self._stream_unary(method, decode, encode, handler.stream_unary)
            )
        return grpc.stream_stream_rpc_method_handler(
            self._stream_stream(method, decode, encode, handler.stream_stream)
        )

    def _start(self, method: str, context: grpc.aio.ServicerContext) -> _Call:
        """The call's record, with who called: read while the call is surely live (a done
        callback runs when gRPC has finished with the call, too late to ask its transport)."""
        call = _Call(self._service.start_call(method, "grpc"))
        record = call.record
        record.peer = context.peer()
        identities = context.peer_identities()
        if identities:
            record.client = identities[0].decode("utf-8", errors="replace")
        return call

    # --- the four shapes ----------------------------------------------------------------------

    def _unary(self, method: str, decode: Callable, encode: Callable, behavior: Callable):  # type: ignore[no-untyped-def,type-arg]
        async def handle(raw: bytes, context: grpc.aio.ServicerContext) -> bytes:
            call = self._start(method, context)
            try:
                if runs_inline(behavior, len(raw)):
                    # Checked on the loop: decoded, answered and encoded here at once (a request
                    # this small takes nothing from the budget: MessageBudget.reserve).
                    try:
                        request = decode(raw)
                    except Exception as error:
                        await self._refuse_malformed(decode, raw, error, context)
                    observed = ObservedContext(LoopContext(context), call.record)
                    try:
                        response = behavior(request, observed)
                    except LoopAbort as abort:  # LoopContext.abort: the aio context's abort
                        await context.abort(abort.code, abort.details, abort.trailing_metadata)
                        raise  # unreachable: abort raises
                    # Its size read from the bytes: protobuf's ByteSize encodes the message to
                    # count it, so asking it first would encode every answer twice.
                    data = encode(response)
                    limit = self._max_send_bytes
                    if limit is not None and len(data) > limit:
                        await self._refuse_size(len(data), limit, context)
                    call.completed = True
                    return data
                async with self._budget.reserve(len(raw)):  # a large request may wait its turn
                    request = await self._decode(decode, raw, context)
                    response = await _invoke(behavior, request, context, call.record)
                    return await self._answer(encode, response, context, call, last=True)
            except BaseException as error:
                _mark_ending(call, error)
                raise
            finally:
                self._emit(call, context)

        return handle

    def _unary_stream(self, method: str, decode: Callable, encode: Callable, behavior: Callable):  # type: ignore[no-untyped-def,type-arg]
        async def handle(raw: bytes, context: grpc.aio.ServicerContext) -> AsyncIterator[bytes]:
            call = self._start(method, context)
            # A stream cut while its answer is being written never returns here: log at its end.
            context.add_done_callback(lambda _: self._emit(call, context))
            request = await self._guard(call, self._decode(decode, raw, context))
            responses = self._responses(call, encode, behavior, request, context)
            async for answer in self._stream_answers(call, encode, responses, context):
                yield answer

        return handle

    def _stream_unary(self, method: str, decode: Callable, encode: Callable, behavior: Callable):  # type: ignore[no-untyped-def,type-arg]
        async def handle(raw_requests: AsyncIterator[bytes], context: grpc.aio.ServicerContext):  # type: ignore[no-untyped-def]
            call = self._start(method, context)
            try:
                requests = self._requests(decode, raw_requests, context, behavior)
                response = await _invoke(behavior, requests, context, call.record)
                return await self._answer(encode, response, context, call, last=True)
            except BaseException as error:
                _mark_ending(call, error)
                raise
            finally:
                self._emit(call, context)

        return handle

    def _stream_stream(self, method: str, decode: Callable, encode: Callable, behavior: Callable):  # type: ignore[no-untyped-def,type-arg]
        async def handle(
            raw_requests: AsyncIterator[bytes], context: grpc.aio.ServicerContext
        ) -> AsyncIterator[bytes]:
            call = self._start(method, context)
            context.add_done_callback(lambda _: self._emit(call, context))
            requests = self._requests(decode, raw_requests, context, behavior)
            responses = self._responses(call, encode, behavior, requests, context)
            async for answer in self._stream_answers(call, encode, responses, context):
                yield answer

        return handle

    # --- helpers ------------------------------------------------------------------------------

    def _responses(
        self,
        call: _Call,
        encode: Callable[[Any], bytes],
        behavior: Callable[..., Any],
        argument: Any,
        context: grpc.aio.ServicerContext,
    ) -> AsyncIterator[Any]:
        if inspect.iscoroutinefunction(behavior):
            # The reader-writer style (health's Watch): it writes through the context.
            return _written(behavior, argument, _Writer(context, self, call, encode), call.record)
        return _responses(behavior, argument, context, call.record)

    async def _guard(self, call: _Call, step: Any) -> Any:
        try:
            return await step
        except BaseException as error:
            _mark_ending(call, error)
            raise

    async def _stream_answers(
        self,
        call: _Call,
        encode: Callable[[Any], bytes],
        responses: AsyncIterator[Any],
        context: grpc.aio.ServicerContext,
    ) -> AsyncIterator[bytes]:
        try:
            async for response in responses:
                yield await self._answer(encode, response, context, call)
            call.completed = True
        except BaseException as error:
            _mark_ending(call, error)
            raise

    def _malformed(
        self, decode: Callable[[bytes], Any], raw: bytes, error: Exception
    ) -> RequestInvalid:
        """Why bytes that are not the expected message cannot be checked, by field path when
        the bytes say which field."""
        descriptor = getattr(getattr(decode, "__self__", None), "DESCRIPTOR", None)
        path = undecodable_field(descriptor, raw) if descriptor is not None else None
        detail = str(error).rsplit(": ", 1)[-1][:200] or type(error).__name__
        if path:
            violation = FieldViolation(path, f"cannot be decoded: {detail}")
        else:
            violation = FieldViolation(
                ("(request)",), f"is not a valid {_message_name(decode)} message: {detail}"
            )
        return RequestInvalid([violation], MALFORMED_REQUEST)

    async def _decode(
        self, decode: Callable[[bytes], Any], raw: bytes, context: grpc.aio.ServicerContext
    ) -> Any:
        try:
            return await in_pool(decode, raw) if len(raw) > OFF_LOOP_BYTES else decode(raw)
        except Exception as error:
            await self._refuse_malformed(decode, raw, error, context)

    async def _refuse_malformed(
        self,
        decode: Callable[[bytes], Any],
        raw: bytes,
        error: Exception,
        context: grpc.aio.ServicerContext,
    ) -> NoReturn:
        """INVALID_ARGUMENT for bytes that are not the expected message (raises AbortError)."""
        invalid = self._malformed(decode, raw, error)
        status = invalid_argument(invalid.violations, reason=invalid.reason)
        await context.abort(grpc.StatusCode.INVALID_ARGUMENT, status.message, _details(status))
        raise AssertionError("abort did not raise")  # pragma: no cover

    async def _requests(
        self,
        decode: Callable[[bytes], Any],
        raw_requests: AsyncIterator[bytes],
        context: grpc.aio.ServicerContext,
        behavior: Callable[..., Any],
    ) -> AsyncIterator[Any]:
        tolerant = getattr(behavior, "accepts_malformed_items", False)
        async for raw in self._paced(raw_requests, context):
            if not tolerant:
                yield await self._decode(decode, raw, context)
                continue
            try:
                yield await in_pool(decode, raw) if len(raw) > OFF_LOOP_BYTES else decode(raw)
            except Exception as error:
                yield self._malformed(decode, raw, error)

    async def _paced(
        self, raw_requests: AsyncIterator[bytes], context: grpc.aio.ServicerContext
    ) -> AsyncIterator[bytes]:
        """The request stream, ended with DEADLINE_EXCEEDED when no item comes for
        ``stream_idle_seconds``: a stalled stream cannot be held open for ever."""
        idle = self._stream_idle_seconds
        iterator = raw_requests.__aiter__()
        while True:
            try:
                # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow the
                # cancellation that arrives with the end of a cancelled stream.
                async with asyncio.timeout(idle):
                    raw = await iterator.__anext__()
            except StopAsyncIteration:
                # grpc.aio reads a cancelled stream as its end, and the cancellation itself can
                # arrive a moment later: wait that moment, so that the call is cancelled (and
                # logged so) rather than finished as if the client had closed its side.
                await asyncio.sleep(END_OF_STREAM_SETTLE_SECONDS)
                return
            except TimeoutError:
                await context.abort(
                    grpc.StatusCode.DEADLINE_EXCEEDED,
                    f"no request on this stream for {idle:g} s (the stream idle limit)",
                )
            yield raw

    async def _answer(
        self,
        encode: Callable[[Any], bytes],
        response: Any,
        context: grpc.aio.ServicerContext,
        call: _Call,
        *,
        last: bool = False,
    ) -> bytes:
        """The encoded answer, or RESOURCE_EXHAUSTED when it is over the send limit: sized
        first, so that a large answer is encoded on the thread pool, or refused unencoded (an
        answer checked on the loop is encoded by ``_unary`` at once)."""
        limit = self._max_send_bytes
        size = response.ByteSize() if hasattr(response, "ByteSize") else None
        if limit is not None and size is not None and size > limit:
            await self._refuse_size(size, limit, context)
        data = await in_pool(encode, response) if (size or 0) > OFF_LOOP_BYTES else encode(response)
        if last:
            call.completed = True
        return data

    @staticmethod
    async def _refuse_size(size: int, limit: int, context: grpc.aio.ServicerContext) -> NoReturn:
        await context.abort(
            grpc.StatusCode.RESOURCE_EXHAUSTED,
            f"the answer is {size:,} bytes, over the {limit:,}-byte message limit: "
            "send fewer requests per call",
        )
        raise AssertionError("abort did not raise")  # pragma: no cover

    def _emit(self, call: _Call, context: grpc.aio.ServicerContext) -> None:
        if not call.claim():
            return
        self._service.end_call(call.record, _final_code(context, call)._name_)


async def _invoke(
    behavior: Callable[..., Any], argument: Any, context: Any, record: CallRecord
) -> Any:
    """A unary answer from an async handler, or from a plain one on the thread pool. A plain
    handler given a request stream reads it through a blocking iterator."""
    if is_async(behavior):
        return await behavior(argument, ObservedContext(context, record))
    loop = asyncio.get_running_loop()
    if hasattr(argument, "__aiter__"):
        argument = _BlockingIterator(argument, loop)
    observed = ObservedContext(ThreadContext(context, loop), record)
    return await in_pool(behavior, argument, observed)


async def _responses(
    behavior: Callable[..., Any], argument: Any, context: Any, record: CallRecord
) -> AsyncIterator[Any]:
    """The answers of a streaming handler, async or plain (a plain one steps on the pool)."""
    if inspect.isasyncgenfunction(behavior):
        async for response in behavior(argument, ObservedContext(context, record)):
            yield response
        return
    loop = asyncio.get_running_loop()
    if hasattr(argument, "__aiter__"):
        argument = _BlockingIterator(argument, loop)
    observed = ObservedContext(ThreadContext(context, loop), record)
    iterator = iter(await in_pool(behavior, argument, observed))
    done = object()
    while (response := await in_pool(next, iterator, done)) is not done:
        yield response


class _Writer:
    """The context a reader-writer handler writes through: each answer logged and encoded."""

    def __init__(self, context: Any, interceptor: ObservingInterceptor, call: _Call, encode: Any):
        self._context = context
        self._interceptor = interceptor
        self._call = call
        self._encode = encode

    async def write(self, message: Any) -> None:
        data = await self._interceptor._answer(self._encode, message, self._context, self._call)
        await self._context.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._context, name)


async def _written(
    behavior: Callable[..., Any], argument: Any, writer: _Writer, record: CallRecord
) -> AsyncIterator[Any]:
    """Runs a reader-writer handler; it yields nothing here (its answers are written)."""
    await behavior(argument, ObservedContext(writer, record))
    return
    yield  # an async generator


class _BlockingIterator(Iterator[Any]):
    """An async iterator read from a worker thread (a plain handler's request stream)."""

    def __init__(self, source: AsyncIterator[Any], loop: asyncio.AbstractEventLoop) -> None:
        self._source = source.__aiter__()
        self._loop = loop

    def __next__(self) -> Any:
        future = asyncio.run_coroutine_threadsafe(self._next(), self._loop)
        return future.result()

    async def _next(self) -> Any:
        try:
            return await self._source.__anext__()
        except StopAsyncIteration:
            raise StopIteration from None


def _details(status: Any) -> tuple[tuple[str, bytes], ...]:
    """The trailing metadata that carries a google.rpc.Status (grpc-status-details-bin)."""
    return (("grpc-status-details-bin", status.SerializeToString()),)


def _message_name(decode: Callable[[bytes], Any]) -> str:
    owner = getattr(decode, "__self__", None)
    descriptor = getattr(owner, "DESCRIPTOR", None)
    return getattr(descriptor, "full_name", "request")
