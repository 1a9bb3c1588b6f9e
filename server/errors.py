"""Rich gRPC errors: google.rpc.Status with BadRequest and ErrorInfo details (grpcio-status)."""

from __future__ import annotations

from collections.abc import Iterable

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from regimenguard.regimen.validation import FieldViolation

ERROR_DOMAIN = "regimenguard.v1"
# A unary call's rich status travels in trailing metadata, which gRPC clients refuse beyond
# 8 KiB by default (RESOURCE_EXHAUSTED, at random between their soft and hard limits): the
# BadRequest carries field violations up to this many bytes, and ErrorInfo says how many
# there were in all when some were left out.
MAX_VIOLATION_BYTES = 3072


def invalid_argument(
    violations: Iterable[FieldViolation],
    *,
    reason: str = "INVALID_REGIMEN",
    code: int = code_pb2.INVALID_ARGUMENT,
) -> status_pb2.Status:
    """A Status naming every bad field (BadRequest) plus a machine-readable reason (ErrorInfo)."""
    violations = tuple(violations)
    reported: list[FieldViolation] = []
    size = 0
    for violation in violations:
        cost = len(violation.field.encode()) + len(violation.description.encode()) + 8
        if reported and size + cost > MAX_VIOLATION_BYTES:
            break
        reported.append(violation)
        size += cost
    bad_request = error_details_pb2.BadRequest(
        field_violations=[
            error_details_pb2.BadRequest.FieldViolation(field=v.field, description=v.description)
            for v in reported
        ]
    )
    info = error_details_pb2.ErrorInfo(reason=reason, domain=ERROR_DOMAIN)
    if len(reported) < len(violations):
        info.metadata["field_violations"] = str(len(violations))
        info.metadata["reported"] = str(len(reported))
    details = []
    for detail in (bad_request, info):
        packed = any_pb2.Any()
        packed.Pack(detail)
        details.append(packed)
    fields = ", ".join(v.field for v in violations[:3]) + (" ..." if len(violations) > 3 else "")
    return status_pb2.Status(
        code=code, message=f"request cannot be checked: {fields}", details=details
    )


def abort_with(context: grpc.ServicerContext, status: status_pb2.Status) -> None:
    """End the call with a rich status (raises, as ServicerContext.abort does)."""
    context.abort_with_status(rpc_status.to_status(status))


def field_violations(
    status: status_pb2.Status,
) -> list[error_details_pb2.BadRequest.FieldViolation]:
    """The BadRequest field violations inside a Status (for clients and tests)."""
    violations = []
    for detail in status.details:
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad_request = error_details_pb2.BadRequest()
            detail.Unpack(bad_request)
            violations.extend(bad_request.field_violations)
    return violations
