"""The access log (one JSON line per call) and strict request decoding, as a server interceptor.

Every call ends in exactly one line on the ``regimenguard.access`` logger, its message a JSON
object: ``method``, ``code``, ``duration_ms``, ``request_id`` (the caller's correlation id; for a
batch or stream, the first item's), ``items``, ``medications``, ``findings``, ``errors`` (items
answered with an error), ``verdict`` (CheckRegimen), ``peer`` and, under mutual TLS, ``client``
(the certificate's identity). Streams get one line when the call ends, with their totals.

Drug names and patient fields are protected health information: they are logged only when the
operator asks for it (``serve --log-phi``), as ``drugs`` and ``patients``.

The interceptor also decodes requests itself: gRPC's own decoder answers bytes that are not the
expected message (invalid UTF-8 in a string, a truncated field) with INTERNAL, a status that
means a bug here; this one answers INVALID_ARGUMENT with the usual BadRequest and ErrorInfo,
naming the field whose bytes are bad where it can be found (server/wire.py). In a stream whose
handler accepts them (``accepts_malformed_items``, CheckRegimens), an undecodable item is passed
on as a ``MalformedItem``, answered with an ``error``, and the stream goes on.

It encodes answers itself too, so that one larger than the send limit is refused with
RESOURCE_EXHAUSTED, and logged so, instead of failing after the log said OK.

The code logged is what the caller received: the handler's status; CANCELLED for a call the
client cancelled, or that was cut off (a stream still open at shutdown); DEADLINE_EXCEEDED for a
call past its deadline.

It is a ``grpc.aio`` interceptor. Handlers that are ordinary functions (the checks) run on the
loop's thread pool with a blocking view of the context (server/aio_bridge.py); ``inner``
interceptors of the synchronous kind (the shutdown gate, tests' and benchmarks' own) are applied
to the handler first.

An optional ``observer`` (``server.metrics.Metrics``) is told what the call record sees: each
regimen received and answered, and each call's end with its code and duration. Without one, the
only cost is an ``if``; the observer is told even when the access log is off.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import inspect
import json
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

import grpc

from regimen.model import PATIENT_CONDITIONS
from regimen.validation import FieldViolation
from regimenguard.v1 import regimen_checker_pb2 as pb
from server.aio_bridge import call_blocking, in_pool, is_async
from server.errors import invalid_argument
from server.wire import undecodable_field

if TYPE_CHECKING:
    from server.metrics import CallObserver

ACCESS_LOGGER = "regimenguard.access"
HEALTH_PREFIX = "/grpc.health.v1.Health/"
REQUEST_ID_LIMIT = 200
# Requests and answers larger than this are decoded and encoded on the thread pool, not the loop.
OFF_LOOP_BYTES = 64 * 1024
END_OF_STREAM_SETTLE_SECONDS = 0.02
_SERVER_FAULTS = frozenset(
    {grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN, grpc.StatusCode.DATA_LOSS}
)


def configure_access_log(stream: IO[str], level: int | str = logging.INFO) -> logging.Logger:
    """Access lines go to ``stream`` as bare JSON, one per line, and not through the root."""
    logger = logging.getLogger(ACCESS_LOGGER)
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
    return logger


class _Call:
    """What one call did, gathered as its messages go by."""

    def __init__(self, method: str, log_phi: bool, observer: CallObserver | None = None) -> None:
        self.method = method
        self.log_phi = log_phi
        self.observer = observer
        self.started = time.perf_counter()
        self.items = 0
        self.medications = 0
        self.findings = 0
        self.errors = 0
        self.request_id: str | None = None
        self.verdict: str | None = None
        self.drugs: list[str] = []
        self.patients: list[dict[str, Any]] = []
        self.query: str | None = None
        self.raised = False
        self.completed = False  # the handler ran to its end (for a stream: its last answer)
        self.cancelled = False
        self._logged = False
        self._lock = threading.Lock()

    def claim(self) -> bool:
        """True the first time only: a call is logged once, whichever path ends it."""
        with self._lock:
            first, self._logged = not self._logged, True
            return first

    def saw_request(self, message: object) -> None:
        if isinstance(message, pb.CheckRegimenRequest):
            self._regimen(message)
        elif isinstance(message, pb.CheckRegimenBatchRequest):
            for item in message.requests:
                self._regimen(item)
        elif isinstance(message, pb.ListDrugsRequest) and self.log_phi:
            self.query = message.query  # may name a patient's drug

    def _regimen(self, request: pb.CheckRegimenRequest) -> None:
        self.items += 1
        self.medications += len(request.medications)
        if self.observer is not None:
            self.observer.regimen_received(request)
        if self.request_id is None:
            self.request_id = request.request_id[:REQUEST_ID_LIMIT]
        if self.log_phi:
            for order in request.medications:
                parts = " + ".join(part.name for part in order.ingredients)
                self.drugs.append(f"{order.drug} ({parts})" if parts else order.drug)
            patient = request.patient
            self.patients.append(
                {
                    "age_years": patient.age_years,
                    "pain_duration_weeks": patient.pain_duration_weeks,
                    "conditions": [flag for flag in PATIENT_CONDITIONS if getattr(patient, flag)],
                }
            )

    def saw_response(self, message: object) -> None:
        if isinstance(message, pb.CheckRegimenResponse):
            self._answer(message)
            if self.method.endswith("/CheckRegimen") and not message.HasField("error"):
                self.verdict = pb.Verdict.Name(message.verdict)
        elif isinstance(message, pb.CheckRegimenBatchResponse):
            for item in message.responses:
                self._answer(item)

    def _answer(self, response: pb.CheckRegimenResponse) -> None:
        self.findings += len(response.findings)
        self.errors += response.HasField("error")
        if self.observer is not None:
            self.observer.regimen_answered(response)


@dataclass(frozen=True)
class MalformedItem:
    """A stream item whose bytes are not the expected message: answered with ``status``."""

    status: Any  # google.rpc.Status, INVALID_ARGUMENT with the field path where it is known


def accepts_malformed_items(behavior: Callable[..., Any]) -> Callable[..., Any]:
    """Marks a stream handler that answers a MalformedItem itself (and goes on)."""
    behavior.accepts_malformed_items = True  # type: ignore[attr-defined]
    return behavior


def _final_code(context: grpc.aio.ServicerContext, call: _Call) -> grpc.StatusCode:
    """What the caller received."""
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


class AccessLogInterceptor(grpc.aio.ServerInterceptor):
    """Logs one line per call, decodes requests and encodes answers (see the module's
    docstring)."""

    def __init__(
        self,
        *,
        log_phi: bool = False,
        enabled: bool = True,
        logger: logging.Logger | None = None,
        observer: CallObserver | None = None,
        max_send_bytes: int | None = None,
        stream_idle_seconds: float | None = None,
        inner: Sequence[grpc.ServerInterceptor] = (),
    ) -> None:
        self._log_phi = log_phi
        self._enabled = enabled
        self._logger = logger or logging.getLogger(ACCESS_LOGGER)
        self._observer = observer
        self._max_send_bytes = max_send_bytes
        self._stream_idle_seconds = stream_idle_seconds
        self._inner = tuple(inner)

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
        method = handler_call_details.method
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

    # --- the four shapes ----------------------------------------------------------------------

    def _unary(self, method: str, decode: Callable, encode: Callable, behavior: Callable):  # type: ignore[no-untyped-def,type-arg]
        async def handle(raw: bytes, context: grpc.aio.ServicerContext) -> bytes:
            call = _Call(method, self._log_phi, self._observer)
            try:
                request = await self._decode(decode, raw, context, call)
                response = await _invoke(behavior, request, context)
                return await self._answer(encode, response, context, call, last=True)
            except asyncio.CancelledError:
                call.cancelled = True
                raise
            except grpc.aio.AbortError:
                raise
            except BaseException:
                call.raised = True
                raise
            finally:
                self._emit(call, context)

        return handle

    def _unary_stream(self, method: str, decode: Callable, encode: Callable, behavior: Callable):  # type: ignore[no-untyped-def,type-arg]
        async def handle(raw: bytes, context: grpc.aio.ServicerContext) -> AsyncIterator[bytes]:
            call = _Call(method, self._log_phi, self._observer)
            # A stream cut while its answer is being written never returns here: log at its end.
            context.add_done_callback(lambda _: self._emit(call, context))
            request = await self._guard(call, self._decode(decode, raw, context, call))
            responses = self._responses(call, encode, behavior, request, context)
            async for answer in self._stream_answers(call, encode, responses, context):
                yield answer

        return handle

    def _stream_unary(self, method: str, decode: Callable, encode: Callable, behavior: Callable):  # type: ignore[no-untyped-def,type-arg]
        async def handle(raw_requests: AsyncIterator[bytes], context: grpc.aio.ServicerContext):  # type: ignore[no-untyped-def]
            call = _Call(method, self._log_phi, self._observer)
            try:
                requests = self._requests(call, decode, raw_requests, context, behavior)
                response = await _invoke(behavior, requests, context)
                return await self._answer(encode, response, context, call, last=True)
            except asyncio.CancelledError:
                call.cancelled = True
                raise
            except grpc.aio.AbortError:
                raise
            except BaseException:
                call.raised = True
                raise
            finally:
                self._emit(call, context)

        return handle

    def _stream_stream(self, method: str, decode: Callable, encode: Callable, behavior: Callable):  # type: ignore[no-untyped-def,type-arg]
        async def handle(
            raw_requests: AsyncIterator[bytes], context: grpc.aio.ServicerContext
        ) -> AsyncIterator[bytes]:
            call = _Call(method, self._log_phi, self._observer)
            context.add_done_callback(lambda _: self._emit(call, context))
            requests = self._requests(call, decode, raw_requests, context, behavior)
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
            return _written(behavior, argument, _Writer(context, self, call, encode))
        return _responses(behavior, argument, context)

    async def _guard(self, call: _Call, step: Any) -> Any:
        try:
            return await step
        except asyncio.CancelledError:
            call.cancelled = True
            raise
        except grpc.aio.AbortError:
            raise
        except BaseException:
            call.raised = True
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
        except asyncio.CancelledError:
            call.cancelled = True
            raise
        except grpc.aio.AbortError:
            raise
        except BaseException:
            call.raised = True
            raise

    def _malformed(self, decode: Callable[[bytes], Any], raw: bytes, error: Exception) -> Any:
        """The INVALID_ARGUMENT status for bytes that are not the expected message."""
        descriptor = getattr(getattr(decode, "__self__", None), "DESCRIPTOR", None)
        path = undecodable_field(descriptor, raw) if descriptor is not None else None
        detail = str(error).rsplit(": ", 1)[-1][:200] or type(error).__name__
        if path:
            violation = FieldViolation(path, f"cannot be decoded: {detail}")
        else:
            violation = FieldViolation(
                "(request)", f"is not a valid {_message_name(decode)} message: {detail}"
            )
        return invalid_argument([violation], reason="MALFORMED_REQUEST")

    async def _decode(
        self,
        decode: Callable[[bytes], Any],
        raw: bytes,
        context: grpc.aio.ServicerContext,
        call: _Call,
    ) -> Any:
        try:
            request = await in_pool(decode, raw) if len(raw) > OFF_LOOP_BYTES else decode(raw)
        except Exception as error:
            status = self._malformed(decode, raw, error)
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, status.message, _details(status))
            raise  # unreachable: abort raises
        call.saw_request(request)
        return request

    async def _requests(
        self,
        call: _Call,
        decode: Callable[[bytes], Any],
        raw_requests: AsyncIterator[bytes],
        context: grpc.aio.ServicerContext,
        behavior: Callable[..., Any],
    ) -> AsyncIterator[Any]:
        tolerant = getattr(behavior, "accepts_malformed_items", False)
        async for raw in self._paced(raw_requests, context):
            if not tolerant:
                yield await self._decode(decode, raw, context, call)
                continue
            try:
                request = await in_pool(decode, raw) if len(raw) > OFF_LOOP_BYTES else decode(raw)
            except Exception as error:
                call.items += 1
                yield MalformedItem(self._malformed(decode, raw, error))
                continue
            call.saw_request(request)
            yield request

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
        """The encoded answer, or RESOURCE_EXHAUSTED when it is over the send limit."""
        size = response.ByteSize() if hasattr(response, "ByteSize") else None
        limit = self._max_send_bytes
        if limit is not None and size is not None and size > limit:
            await context.abort(
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                f"the answer is {size:,} bytes, over the {limit:,}-byte message limit: "
                "send fewer requests per call",
            )
        call.saw_response(response)
        data = await in_pool(encode, response) if (size or 0) > OFF_LOOP_BYTES else encode(response)
        if last:
            call.completed = True
        return data

    def _emit(self, call: _Call, context: grpc.aio.ServicerContext) -> None:
        observer = self._observer
        if not (self._enabled or observer is not None) or not call.claim():
            return
        code = _final_code(context, call)
        duration = time.perf_counter() - call.started
        if observer is not None:
            observer.call_ended(call.method, code, duration)
            if not self._enabled:
                return
        if call.method.startswith(HEALTH_PREFIX):
            level = logging.DEBUG
        elif code in _SERVER_FAULTS:
            level = logging.WARNING
        else:
            level = logging.INFO
        if not self._logger.isEnabledFor(level):
            return
        fields: dict[str, Any] = {
            "time": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
            "method": call.method,
            "code": code.name,
            "duration_ms": round(duration * 1000, 3),
            "request_id": call.request_id,
            "items": call.items,
            "medications": call.medications,
            "findings": call.findings,
            "errors": call.errors,
        }
        if call.verdict is not None:
            fields["verdict"] = call.verdict
        fields["peer"] = context.peer()
        identities = context.peer_identities()
        if identities:
            fields["client"] = identities[0].decode("utf-8", errors="replace")
        if self._log_phi and call.items:
            fields["drugs"] = call.drugs
            fields["patients"] = call.patients
        if self._log_phi and call.query is not None:
            fields["query"] = call.query
        self._logger.log(
            level,
            "%s",
            json.dumps(fields, ensure_ascii=True, separators=(",", ":")),
            extra={"access": fields},
        )


async def _invoke(behavior: Callable[..., Any], argument: Any, context: Any) -> Any:
    """A unary answer from an async handler, or from a plain one on the thread pool. A plain
    handler given a request stream reads it through a blocking iterator."""
    if is_async(behavior):
        return await behavior(argument, context)
    if hasattr(argument, "__aiter__"):
        argument = _BlockingIterator(argument, asyncio.get_running_loop())
    return await call_blocking(behavior, argument, context)


async def _responses(
    behavior: Callable[..., Any], argument: Any, context: Any
) -> AsyncIterator[Any]:
    """The answers of a streaming handler, async or plain (a plain one steps on the pool)."""
    if inspect.isasyncgenfunction(behavior):
        async for response in behavior(argument, context):
            yield response
        return
    if hasattr(argument, "__aiter__"):
        argument = _BlockingIterator(argument, asyncio.get_running_loop())
    iterator = iter(await call_blocking(behavior, argument, context))
    done = object()
    while (response := await in_pool(next, iterator, done)) is not done:
        yield response


class _Writer:
    """The context a reader-writer handler writes through: each answer logged and encoded."""

    def __init__(self, context: Any, interceptor: AccessLogInterceptor, call: _Call, encode: Any):
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
    behavior: Callable[..., Any], argument: Any, writer: _Writer
) -> AsyncIterator[Any]:
    """Runs a reader-writer handler; it yields nothing here (its answers are written)."""
    await behavior(argument, writer)
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
