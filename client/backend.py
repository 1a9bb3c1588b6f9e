"""Where a check runs: a remote server over gRPC, or in-process with the server's own code."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import grpc
from grpc_status import rpc_status

from regimenguard.v1 import regimen_checker_pb2 as pb
from regimenguard.v1 import regimen_checker_pb2_grpc as pb_grpc
from server.errors import field_violations


@dataclass
class CallFailed(Exception):
    """A call that produced no answer: the status code name, message and bad fields."""

    code: str
    message: str
    violations: list[tuple[str, str]] = field(default_factory=list)

    @property
    def is_input_error(self) -> bool:
        return self.code in ("INVALID_ARGUMENT", "RESOURCE_EXHAUSTED", "OUT_OF_RANGE")

    def __str__(self) -> str:
        fields = "; ".join(f"{path}: {description}" for path, description in self.violations)
        return f"{self.code}: {fields or self.message}"


class Backend(Protocol):
    def check(self, request: pb.CheckRegimenRequest) -> pb.CheckRegimenResponse: ...
    def check_batch(
        self, requests: list[pb.CheckRegimenRequest]
    ) -> list[pb.CheckRegimenResponse]: ...
    def check_stream(
        self, requests: Iterable[pb.CheckRegimenRequest]
    ) -> Iterator[pb.CheckRegimenResponse]: ...
    def list_drugs(self, query: str) -> pb.ListDrugsResponse: ...
    def list_rules(self) -> pb.ListRulesResponse: ...
    def close(self) -> None: ...


MAX_ANSWER_BYTES = 16 * 1024 * 1024  # the server's default send limit (ServerOptions)


class RemoteBackend:
    def __init__(
        self,
        target: str,
        *,
        timeout: float = 10.0,
        credentials: grpc.ChannelCredentials | None = None,
        options: list[tuple[str, object]] | None = None,
    ) -> None:
        # Answers as large as the server may send (a batch of big regimens runs past gRPC's
        # 4 MiB default for clients); the caller's options win.
        merged: dict[str, object] = {"grpc.max_receive_message_length": MAX_ANSWER_BYTES}
        merged.update(dict(options or []))
        options = list(merged.items())
        if credentials is None:
            self._channel = grpc.insecure_channel(target, options=options)
        else:
            self._channel = grpc.secure_channel(target, credentials, options=options)
        self._stub = pb_grpc.RegimenCheckerServiceStub(self._channel)
        self._timeout = timeout
        self.target = target

    def _call(self, method, request):  # type: ignore[no-untyped-def]
        try:
            return method(request, timeout=self._timeout, wait_for_ready=False)
        except grpc.RpcError as error:
            raise _failed(error) from None

    def check(self, request: pb.CheckRegimenRequest) -> pb.CheckRegimenResponse:
        return self._call(self._stub.CheckRegimen, request)

    def check_batch(self, requests: list[pb.CheckRegimenRequest]) -> list[pb.CheckRegimenResponse]:
        response = self._call(
            self._stub.CheckRegimenBatch, pb.CheckRegimenBatchRequest(requests=requests)
        )
        return list(response.responses)

    def check_stream(
        self, requests: Iterable[pb.CheckRegimenRequest]
    ) -> Iterator[pb.CheckRegimenResponse]:
        try:
            yield from self._stub.CheckRegimens(iter(requests))
        except grpc.RpcError as error:
            raise _failed(error) from None

    def list_drugs(self, query: str) -> pb.ListDrugsResponse:
        return self._call(self._stub.ListDrugs, pb.ListDrugsRequest(query=query))

    def list_rules(self) -> pb.ListRulesResponse:
        return self._call(self._stub.ListRules, pb.ListRulesRequest())

    def close(self) -> None:
        self._channel.close()


class LocalBackend:
    """The same conversion, checker and listings the server uses, without a network."""

    def __init__(self, config_path: Path | None = None) -> None:
        from server.main import load_checker
        from server.servicer import RegimenCheckerServicer

        self._servicer = RegimenCheckerServicer(load_checker(config_path))

    def check(self, request: pb.CheckRegimenRequest) -> pb.CheckRegimenResponse:
        context = _LocalContext()
        try:
            return self._servicer.CheckRegimen(request, context)  # type: ignore[arg-type]
        except _Aborted as aborted:
            raise aborted.failed from None

    def check_batch(self, requests: list[pb.CheckRegimenRequest]) -> list[pb.CheckRegimenResponse]:
        context = _LocalContext()
        try:
            batch = pb.CheckRegimenBatchRequest(requests=requests)
            return list(self._servicer.CheckRegimenBatch(batch, context).responses)  # type: ignore[arg-type]
        except _Aborted as aborted:
            raise aborted.failed from None

    def check_stream(
        self, requests: Iterable[pb.CheckRegimenRequest]
    ) -> Iterator[pb.CheckRegimenResponse]:
        return self._servicer.check_items(requests)

    def list_drugs(self, query: str) -> pb.ListDrugsResponse:
        return self._servicer.ListDrugs(pb.ListDrugsRequest(query=query), _LocalContext())  # type: ignore[arg-type]

    def list_rules(self) -> pb.ListRulesResponse:
        return self._servicer.ListRules(pb.ListRulesRequest(), _LocalContext())  # type: ignore[arg-type]

    def close(self) -> None:
        pass


class _Aborted(Exception):
    def __init__(self, failed: CallFailed) -> None:
        self.failed = failed


class _LocalContext:
    """Just enough of grpc.ServicerContext for the servicer in-process."""

    def is_active(self) -> bool:
        return True

    def abort_with_status(self, status: grpc.Status) -> None:
        from google.rpc import status_pb2

        rich = status_pb2.Status()
        for key, value in status.trailing_metadata:
            if key == "grpc-status-details-bin":
                rich.ParseFromString(value)
        raise _Aborted(_from_status(rich))


def _from_status(status) -> CallFailed:  # type: ignore[no-untyped-def]
    code = grpc.StatusCode.UNKNOWN
    for candidate in grpc.StatusCode:
        if candidate.value[0] == status.code:
            code = candidate
    return CallFailed(
        code=code.name,
        message=status.message,
        violations=[(v.field, v.description) for v in field_violations(status)],
    )


def _failed(error: grpc.RpcError) -> CallFailed:
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    if status is not None:
        return _from_status(status)
    return CallFailed(code=error.code().name, message=error.details() or "")  # type: ignore[attr-defined]


def item_error(response: pb.CheckRegimenResponse) -> CallFailed | None:
    """The error of one batch or stream answer, if it has one."""
    return _from_status(response.error) if response.HasField("error") else None
