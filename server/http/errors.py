"""Error bodies of the HTTP door: FHIR OperationOutcome (CDS Hooks) and google.rpc.Status (JSON API).

gRPC status codes map to HTTP statuses as google/rpc/code.proto documents them, so a JSON
caller sees the status a gRPC-to-JSON gateway would give.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from google.protobuf import json_format
from google.rpc import code_pb2, error_details_pb2, status_pb2  # noqa: F401 (types for Any)
from starlette.responses import JSONResponse

from regimenguard.fhir.reader import Issue

HTTP_STATUS = {
    code_pb2.OK: 200,
    code_pb2.CANCELLED: 499,
    code_pb2.UNKNOWN: 500,
    code_pb2.INVALID_ARGUMENT: 400,
    code_pb2.DEADLINE_EXCEEDED: 504,
    code_pb2.NOT_FOUND: 404,
    code_pb2.ALREADY_EXISTS: 409,
    code_pb2.PERMISSION_DENIED: 403,
    code_pb2.UNAUTHENTICATED: 401,
    code_pb2.RESOURCE_EXHAUSTED: 429,
    code_pb2.FAILED_PRECONDITION: 400,
    code_pb2.ABORTED: 409,
    code_pb2.OUT_OF_RANGE: 400,
    code_pb2.UNIMPLEMENTED: 501,
    code_pb2.INTERNAL: 500,
    code_pb2.UNAVAILABLE: 503,
    code_pb2.DATA_LOSS: 500,
}
# HTTP status -> the gRPC code name the access log and metrics use for an HTTP call.
CODE_NAMES = {
    200: "OK",
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "UNIMPLEMENTED",
    409: "ABORTED",
    413: "RESOURCE_EXHAUSTED",
    415: "INVALID_ARGUMENT",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


def code_name(status: int) -> str:
    return CODE_NAMES.get(status, "OK" if status < 400 else "UNKNOWN")


def status_response(status: status_pb2.Status) -> JSONResponse:
    """A google.rpc.Status as JSON (details with their ``@type``), with its HTTP status."""
    body = json_format.MessageToDict(status)
    body.setdefault("code", status.code)
    body.setdefault("message", status.message)
    return JSONResponse(body, status_code=HTTP_STATUS.get(status.code, 500))


def operation_outcome(
    issues: Iterable[Issue], *, code: str = "invalid", status: int = 400
) -> JSONResponse:
    """A FHIR OperationOutcome naming each bad element by FHIRPath (``expression``)."""
    entries: list[dict[str, Any]] = []
    for issue in issues:
        entry: dict[str, Any] = {
            "severity": "error",
            "code": code,
            "diagnostics": f"{issue.where}: {issue.diagnostics}"
            if issue.where
            else issue.diagnostics,
        }
        if issue.expression:
            entry["expression"] = [issue.expression]
        entries.append(entry)
    body = {"resourceType": "OperationOutcome", "issue": entries}
    return JSONResponse(body, status_code=status, media_type="application/fhir+json")


def outcome(
    diagnostics: str, *, expression: str = "", code: str = "invalid", status: int = 400
) -> JSONResponse:
    return operation_outcome([Issue(expression, diagnostics)], code=code, status=status)
