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
means a bug here; this one answers INVALID_ARGUMENT with the usual BadRequest and ErrorInfo.

An optional ``observer`` (``server.metrics.Metrics``) is told what the call record sees: each
regimen received and answered, and each call's end with its code and duration. Without one, the
only cost is an ``if``; the observer is told even when the access log is off.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import IO, TYPE_CHECKING, Any

import grpc

from regimen.model import PATIENT_CONDITIONS
from regimen.validation import FieldViolation
from regimenguard.v1 import regimen_checker_pb2 as pb
from server.errors import abort_with, invalid_argument

if TYPE_CHECKING:
    from server.metrics import CallObserver

ACCESS_LOGGER = "regimenguard.access"
HEALTH_PREFIX = "/grpc.health.v1.Health/"
REQUEST_ID_LIMIT = 200
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


class AccessLogInterceptor(grpc.ServerInterceptor):
    """Logs one line per call and decodes requests (see the module's docstring)."""

    def __init__(
        self,
        *,
        log_phi: bool = False,
        enabled: bool = True,
        logger: logging.Logger | None = None,
        observer: CallObserver | None = None,
    ) -> None:
        self._log_phi = log_phi
        self._enabled = enabled
        self._logger = logger or logging.getLogger(ACCESS_LOGGER)
        self._observer = observer

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

    # --- the four shapes ----------------------------------------------------------------------

    def _unary(self, method: str, decode: Callable, behavior: Callable) -> Callable:  # type: ignore[type-arg]
        def handle(raw: bytes, context: grpc.ServicerContext) -> Any:
            call = _Call(method, self._log_phi, self._observer)
            try:
                request = self._decode(decode, raw, context, call)
                response = behavior(request, context)
                call.saw_response(response)
                return response
            except BaseException:
                call.raised = True
                raise
            finally:
                self._emit(call, context)

        return handle

    def _unary_stream(self, method: str, decode: Callable, behavior: Callable) -> Callable:  # type: ignore[type-arg]
        def handle(raw: bytes, context: grpc.ServicerContext) -> Iterator[Any]:
            call = _Call(method, self._log_phi, self._observer)
            context.add_callback(lambda: self._emit(call, context))
            try:
                request = self._decode(decode, raw, context, call)
                responses = behavior(request, context)
            except BaseException:
                call.raised = True
                self._emit(call, context)
                raise
            return self._responses(call, responses, context)

        return handle

    def _stream_unary(self, method: str, decode: Callable, behavior: Callable) -> Callable:  # type: ignore[type-arg]
        def handle(raw_requests: Iterator[bytes], context: grpc.ServicerContext) -> Any:
            call = _Call(method, self._log_phi, self._observer)
            try:
                response = behavior(self._requests(call, decode, raw_requests, context), context)
                call.saw_response(response)
                return response
            except BaseException:
                call.raised = True
                raise
            finally:
                self._emit(call, context)

        return handle

    def _stream_stream(self, method: str, decode: Callable, behavior: Callable) -> Callable:  # type: ignore[type-arg]
        def handle(raw_requests: Iterator[bytes], context: grpc.ServicerContext) -> Iterator[Any]:
            call = _Call(method, self._log_phi, self._observer)
            # A stream the client abandons may never be iterated to its end: log on termination.
            context.add_callback(lambda: self._emit(call, context))
            try:
                responses = behavior(self._requests(call, decode, raw_requests, context), context)
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
        call: _Call,
    ) -> Any:
        try:
            request = decode(raw)
        except Exception as error:
            detail = str(error).rsplit(": ", 1)[-1][:200] or type(error).__name__
            violation = FieldViolation(
                "(request)", f"is not a valid {_message_name(decode)} message: {detail}"
            )
            abort_with(context, invalid_argument([violation], reason="MALFORMED_REQUEST"))
            raise  # unreachable: abort raises
        call.saw_request(request)
        return request

    def _requests(
        self,
        call: _Call,
        decode: Callable[[bytes], Any],
        raw_requests: Iterable[bytes],
        context: grpc.ServicerContext,
    ) -> Iterator[Any]:
        for raw in raw_requests:
            yield self._decode(decode, raw, context, call)

    def _responses(
        self, call: _Call, responses: Iterable[Any], context: grpc.ServicerContext
    ) -> Iterator[Any]:
        try:
            for response in responses:
                call.saw_response(response)
                yield response
        except BaseException:
            call.raised = True
            raise
        finally:
            self._emit(call, context)

    def _emit(self, call: _Call, context: grpc.ServicerContext) -> None:
        observer = self._observer
        if not (self._enabled or observer is not None) or not call.claim():
            return
        code = _final_code(context, call.raised)
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


def _message_name(decode: Callable[[bytes], Any]) -> str:
    owner = getattr(decode, "__self__", None)
    descriptor = getattr(owner, "DESCRIPTOR", None)
    return getattr(descriptor, "full_name", "request")
