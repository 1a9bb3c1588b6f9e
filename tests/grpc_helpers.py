"""Shared helpers for the API-level tests: requests, rich-status decoding, servers, ports."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import signal
import socket
import subprocess
from collections.abc import Callable, Iterator
from typing import Any

import grpc
import pytest
from google.protobuf import message as protobuf_message
from google.rpc import error_details_pb2, status_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_status import rpc_status

from regimenguard.regimen.engine import RegimenChecker
from regimenguard.server.app import RunningServer, ServerOptions, create_server
from regimenguard.server.errors import ERROR_DOMAIN, field_violations
from regimenguard.v1 import regimen_checker_pb2 as pb

AS_OF = "2026-11-23"
SERVICE = pb.DESCRIPTOR.services_by_name["RegimenCheckerService"]
DETAILS_KEY = "grpc-status-details-bin"

# The rule ids of the catalogue (clinical-rules.md's 28, then issue 11's and issue 10's), in catalogue order.
RULE_IDS = (
    "ACETAMINOPHEN_DAILY_MAX",
    "DOSE_ABOVE_MAX",
    "DOSE_ABOVE_GUIDELINE_RANGE",
    "NSAID_WITH_ACETAMINOPHEN",
    "DUPLICATE_THERAPY",
    "SEROTONERGIC_COMBINATION",
    "CONTRAINDICATED_COMBINATION",
    "BENZODIAZEPINE_WITH_OPIOID",
    "CNS_DEPRESSANT_COMBINATION",
    "MULTIPLE_NEW_AGENTS",
    "ADD_BEFORE_STOPPING_INEFFECTIVE",
    "START_LOW",
    "TITRATION_INTERVAL",
    "DOSING_SCHEDULE",
    "MUSCLE_RELAXANT_DURATION",
    "TRAMADOL_EXTENDED_RELEASE_START",
    "SEIZURE_RISK",
    "MISUSE_RISK",
    "OPIOID_NOT_FIRST_LINE",
    "OPIOID_DAILY_MME",
    "NOT_RECOMMENDED_FOR_BACK_PAIN",
    "NONPREFERRED_MUSCLE_RELAXANT",
    "NSAID_RISK",
    "NSAID_PREVIOUSLY_INEFFECTIVE",
    "OLDER_ADULT_CAUTION",
    "DULOXETINE_SUBACUTE",
    "DRUG_CONDITION",
    "UNKNOWN_DRUG",
    # issue 11 (clinical fidelity)
    "LONG_ACTING_OPIOID_START",
    "OPIOID_TOLERANT_ONLY",
    "MME_INCOMPLETE",
    "NALOXONE_NOT_PRESCRIBED",
    "PATIENT_UNDER_18",
    "DUPLICATE_INGREDIENT",
    # issue 10 (the formulary's interactions)
    "NSAID_DRUG_INTERACTION",
    "OPIOID_CYP_INTERACTION",
    "QT_PROLONGATION",
)


# --- requests ---------------------------------------------------------------------------------


def order(drug: str, dose_mg: float = 0.0, doses_per_day: float = 0.0, **fields: Any):
    """A MedicationOrder; keyword arguments are MedicationOrder fields."""
    return pb.MedicationOrder(drug=drug, dose_mg=dose_mg, doses_per_day=doses_per_day, **fields)


def request(*orders: pb.MedicationOrder, **fields: Any) -> pb.CheckRegimenRequest:
    """A CheckRegimenRequest made on AS_OF unless ``as_of`` is given."""
    fields.setdefault("as_of", AS_OF)
    return pb.CheckRegimenRequest(medications=list(orders), **fields)


def contract_example() -> pb.CheckRegimenRequest:
    """The JSON example of api-contract.md, as a message."""
    return pb.CheckRegimenRequest(
        request_id="rx-1",
        patient=pb.Patient(age_years=70, hepatic_impairment=False),
        as_of=AS_OF,
        medications=[
            order("duloxetine", 60, 1, started_on="2026-09-01"),
            order("cyclobenzaprine", 5, 3, as_needed=True, action=pb.ORDER_ACTION_START),
        ],
    )


CONTRACT_EXAMPLE_JSON = """{
  "requestId": "rx-1",
  "patient": {"ageYears": 70, "hepaticImpairment": false},
  "asOf": "2026-11-23",
  "medications": [
    {"drug": "duloxetine", "doseMg": 60, "dosesPerDay": 1, "startedOn": "2026-09-01"},
    {"drug": "cyclobenzaprine", "doseMg": 5, "dosesPerDay": 3, "asNeeded": true,
     "action": "ORDER_ACTION_START"}
  ]
}
"""


def accept_request(request_id: str = "ok") -> pb.CheckRegimenRequest:
    """Naproxen 500 mg twice daily alone: a guideline-endorsed regimen (ACCEPT)."""
    return request(order("naproxen", 500, 2), request_id=request_id)


def reject_request(request_id: str = "apap") -> pb.CheckRegimenRequest:
    """Acetaminophen 1,000 mg every 4 h = 6,000 mg/day (REJECT)."""
    return request(order("acetaminophen", 1000, 6), request_id=request_id)


def invalid_request(request_id: str = "bad") -> pb.CheckRegimenRequest:
    """Two bad fields: a negative dose and an impossible date."""
    return request(order("naproxen", -500, 2), request_id=request_id, as_of="2026-13-01")


INVALID_FIELDS = ["as_of", "medications[0].dose_mg"]


# --- rich errors ------------------------------------------------------------------------------


class _Call:
    """The three accessors rpc_status.from_call reads, over a terminated grpc_testing call."""

    def __init__(self, trailing_metadata, code: grpc.StatusCode, details: str) -> None:  # type: ignore[no-untyped-def]
        self._trailing_metadata = trailing_metadata
        self._code = code
        self._details = details

    def trailing_metadata(self):  # type: ignore[no-untyped-def]
        return self._trailing_metadata

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return self._details


def rich_status(trailing_metadata, code: grpc.StatusCode, details: str) -> status_pb2.Status:  # type: ignore[no-untyped-def]
    """The google.rpc.Status in grpc-status-details-bin (checked against code and details)."""
    status = rpc_status.from_call(_Call(trailing_metadata, code, details))  # type: ignore[arg-type]
    assert status is not None, f"no {DETAILS_KEY} in trailing metadata {trailing_metadata!r}"
    return status


def violation_fields(status: status_pb2.Status) -> list[str]:
    """The BadRequest field paths of a Status, in order."""
    return [violation.field for violation in field_violations(status)]


def error_info(status: status_pb2.Status) -> error_details_pb2.ErrorInfo:
    """The single ErrorInfo detail of a Status."""
    infos = []
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            infos.append(info)
    assert len(infos) == 1, f"expected one ErrorInfo, got {infos}"
    return infos[0]


def assert_invalid_argument(
    status: status_pb2.Status, fields: list[str], reason: str | None = "INVALID_REGIMEN"
) -> None:
    """INVALID_ARGUMENT naming exactly ``fields`` (any order), with ErrorInfo in our domain.

    ``reason`` is the expected ErrorInfo reason; None accepts any non-empty reason.
    """
    assert status.code == grpc.StatusCode.INVALID_ARGUMENT.value[0]
    assert sorted(violation_fields(status)) == sorted(fields)
    for violation in field_violations(status):
        assert violation.description, violation
    info = error_info(status)
    assert info.domain == ERROR_DOMAIN == "regimenguard.v1"
    assert info.reason == reason if reason is not None else info.reason
    assert status.message


# --- grpc_testing adapter ---------------------------------------------------------------------


class _Aborted(Exception):
    """Raised by the shim context's abort_with_status to end the handler."""


class _AbortWithStatusContext:
    """A grpc_testing ServicerContext that also supports abort_with_status.

    grpc_testing's context raises NotImplementedError from abort_with_status, and its abort()
    drops trailing metadata. The real server implements abort_with_status as "set the trailing
    metadata, then abort with the code and details"; this shim does the same with the calls
    grpc_testing does keep (set_trailing_metadata/set_code/set_details), then ends the handler.
    """

    def __init__(self, context: grpc.ServicerContext) -> None:
        self._context = context

    def __getattr__(self, name: str) -> Any:
        return getattr(self._context, name)

    def abort_with_status(self, status: grpc.Status) -> None:
        self._context.set_trailing_metadata(status.trailing_metadata)
        self._context.set_code(status.code)
        self._context.set_details(status.details)
        raise _Aborted


class AbortWithStatusServicer:
    """Wraps a servicer for grpc_testing so that abort_with_status ends the call as in grpc."""

    def __init__(self, servicer: object) -> None:
        self._servicer = servicer

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(self._servicer, name)

        def handler(request_or_iterator: Any, context: grpc.ServicerContext) -> Any:
            shim = _AbortWithStatusContext(context)
            if inspect.isasyncgenfunction(method):  # CheckRegimens on the asyncio server
                return _until_aborted(_driven(method, request_or_iterator, shim))
            try:
                result = method(request_or_iterator, shim)
            except _Aborted:
                return None  # code, details and trailing metadata are already set
            if isinstance(result, protobuf_message.Message):
                return result
            return _until_aborted(result)

        return handler


def _driven(method: Callable[..., Any], requests: Any, context: Any) -> Iterator[Any]:
    """An async generator handler stepped on an event loop of its own, for grpc_testing."""
    loop = asyncio.new_event_loop()

    async def source() -> Any:
        for request in requests:  # grpc_testing's blocking iterator; fine in a test
            yield request

    responses = method(source(), context)
    try:
        while True:
            try:
                yield loop.run_until_complete(responses.__anext__())
            except StopAsyncIteration:
                return
    finally:
        loop.run_until_complete(responses.aclose())
        loop.close()


def _until_aborted(responses: Iterator[Any]) -> Iterator[Any]:
    with contextlib.suppress(_Aborted):
        yield from responses


# --- servers and ports ------------------------------------------------------------------------


def start_server(checker: RegimenChecker) -> RunningServer:
    """create_server on 127.0.0.1 with an ephemeral port, started."""
    running = create_server(checker, ServerOptions(host="127.0.0.1", port=0, threads=4))
    assert running.port > 0
    running.start()
    return running


def free_port() -> int:
    """A port that was free a moment ago (bound to 0, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def health_status(channel: grpc.Channel, service: str = "", timeout: float = 2.0) -> int:
    """The health status of ``service`` over ``channel``."""
    stub = health_pb2_grpc.HealthStub(channel)
    return stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=timeout).status


def stop_process(process: subprocess.Popen, timeout: float = 20.0) -> tuple[int, str]:  # type: ignore[type-arg]
    """SIGTERM a `serve` subprocess; its exit status and stderr (fails if it does not exit)."""
    process.send_signal(signal.SIGTERM)
    try:
        _, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        pytest.fail(f"serve did not exit within {timeout:g} s of SIGTERM")
    return process.returncode, stderr


def kill_if_running(process: subprocess.Popen) -> None:  # type: ignore[type-arg]
    """Cleanup after a failed test: never leave a server process behind."""
    if process.poll() is None:
        process.kill()
        process.communicate()
