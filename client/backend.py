"""Where a check runs: a remote server over gRPC, or in-process through the service layer."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Protocol

import grpc
from grpc_status import rpc_status

from regimenguard.client.call_failed import CallFailed
from regimenguard.regimen.model import RegimenRequest
from regimenguard.regimen.service import RegimenService
from regimenguard.regimen.validation import FieldViolation, RequestInvalid
from regimenguard.server.answer_wire import WireTables
from regimenguard.server.catalogue import drug_message, rule_messages
from regimenguard.server.convert import (
    decode_request,
    item_response,
    response_from_result,
    today_utc,
)
from regimenguard.server.errors import field_violations
from regimenguard.v1 import regimen_checker_pb2 as pb
from regimenguard.v1 import regimen_checker_pb2_grpc as pb_grpc

log = logging.getLogger(__name__)


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
    """The same decoding, service layer and encoding the server uses, in-process."""

    def __init__(self, config_path: Path | None = None) -> None:
        from regimenguard.server.main import load_checker

        self._service = RegimenService(load_checker(config_path).knowledge)
        self._tables = WireTables.of_knowledge(self._service.knowledge)  # as the servicer's

    def check(self, request: pb.CheckRegimenRequest) -> pb.CheckRegimenResponse:
        domain = decode_request(
            request,
            self._service.knowledge,
            today=today_utc(),
            records=self._service.order_records,
        )
        try:
            return response_from_result(self._service.check(domain), tables=self._tables)
        except RequestInvalid as invalid:
            raise _invalid(invalid.violations) from None
        except Exception:  # a bug: what the server would answer, without its traceback
            log.exception("internal error checking a regimen")
            raise CallFailed("INTERNAL", "internal error checking this regimen") from None

    def check_batch(self, requests: list[pb.CheckRegimenRequest]) -> list[pb.CheckRegimenResponse]:
        limit = self._service.settings.max_requests_per_batch
        if len(requests) > limit:
            raise _invalid(
                [
                    FieldViolation(
                        ("requests",), f"at most {limit} requests per batch (got {len(requests)})"
                    )
                ]
            )
        return list(self.check_stream(requests))

    def check_stream(
        self, requests: Iterable[pb.CheckRegimenRequest]
    ) -> Iterator[pb.CheckRegimenResponse]:
        knowledge, version = self._service.knowledge, self._service.version
        records = self._service.order_records
        messages: list[pb.CheckRegimenRequest] = []  # the one being answered

        def decoded() -> Iterator[RegimenRequest | RequestInvalid]:
            for message in requests:
                messages[:] = [message]
                yield decode_request(message, knowledge, today=today_utc(), records=records)

        for answer in self._service.check_many(decoded()):
            yield item_response(messages[0], answer, version, tables=self._tables)

    def list_drugs(self, query: str) -> pb.ListDrugsResponse:
        limit = self._service.settings.max_text_length
        if len(query) > limit:
            raise _invalid([FieldViolation(("query",), f"must be at most {limit} characters")])
        drugs = [drug_message(entry) for entry in self._service.drugs(query)]
        return pb.ListDrugsResponse(drugs=drugs)

    def list_rules(self) -> pb.ListRulesResponse:
        return pb.ListRulesResponse(rules=rule_messages(self._service.rules()))

    def close(self) -> None:
        pass


def _invalid(violations: Iterable[FieldViolation]) -> CallFailed:
    """What a server would have answered: INVALID_ARGUMENT naming each field by its proto path."""
    violations = list(violations)
    fields = ", ".join(v.proto_path() for v in violations[:3])
    return CallFailed(
        code="INVALID_ARGUMENT",
        message=f"request cannot be checked: {fields}",
        violations=[(v.proto_path(), v.description) for v in violations],
    )


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
