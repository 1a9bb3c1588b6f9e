"""The gRPC API as JSON over HTTP, routed by the proto's ``google.api.http`` annotations.

Each annotated RPC of ``regimenguard.v1.RegimenCheckerService`` becomes a route: a POST body
(``body: "*"``) is the request message in the protobuf JSON mapping (a request file for
``regimen-guard check`` is also an HTTP body); a GET's query parameters are the request's fields
(``?query=nsaid&pageSize=10``). The request is answered by the same servicer as the gRPC door,
so both give the same answer; an error is the google.rpc.Status the gRPC call would end with,
as JSON (BadRequest field paths included), with the HTTP status of its code.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import grpc
from google.api import annotations_pb2
from google.protobuf import descriptor, json_format, message_factory
from google.rpc import code_pb2, status_pb2
from grpc_status import rpc_status
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from regimenguard.regimen.validation import FieldViolation
from regimenguard.server.errors import invalid_argument
from regimenguard.server.http.errors import status_response
from regimenguard.server.servicer import RegimenCheckerServicer
from regimenguard.v1 import regimen_checker_pb2 as pb

SERVICE = pb.DESCRIPTOR.services_by_name["RegimenCheckerService"]
# protobuf's ParseError ends with: at "CheckRegimenRequest.medications[0].doseMg".
_AT = re.compile(r'\bat "?[A-Z]\w*\.([\w.\[\]]+?)"?\.?\s*$')


@dataclass(frozen=True)
class HttpRule:
    method: descriptor.MethodDescriptor
    verb: str  # "GET" or "POST"
    path: str
    body: str  # "*" or ""


@functools.cache
def http_rules() -> tuple[HttpRule, ...]:
    """The annotated RPCs, in the proto's order."""
    rules = []
    for method in SERVICE.methods:
        options = method.GetOptions()
        if not options.HasExtension(annotations_pb2.http):
            continue
        rule = options.Extensions[annotations_pb2.http]
        verb = rule.WhichOneof("pattern")
        rules.append(HttpRule(method, verb.upper(), getattr(rule, verb), rule.body))
    return tuple(rules)


class _Aborted(Exception):
    def __init__(self, status: status_pb2.Status) -> None:
        self.status = status


class HttpServicerContext:
    """What the servicer uses of grpc.ServicerContext, for a call that came over HTTP."""

    def __init__(self, call: Any) -> None:
        self.regimen_call = call

    def is_active(self) -> bool:
        return True

    def abort(self, code: grpc.StatusCode, details: str) -> None:
        raise _Aborted(status_pb2.Status(code=code.value[0], message=details))

    def abort_with_status(self, status: grpc.Status) -> None:
        for key, value in status.trailing_metadata or ():
            if key == rpc_status.GRPC_DETAILS_METADATA_KEY:
                raise _Aborted(status_pb2.Status.FromString(value))
        raise _Aborted(status_pb2.Status(code=status.code.value[0], message=status.details))

    def invocation_metadata(self) -> tuple[()]:
        return ()

    def peer(self) -> str:
        return "http"


def routes(servicer: RegimenCheckerServicer) -> list[Route]:
    return [
        Route(rule.path, _endpoint(servicer, rule), methods=[rule.verb]) for rule in http_rules()
    ]


def _endpoint(servicer: RegimenCheckerServicer, rule: HttpRule) -> Callable[[Request], Any]:
    request_class = message_factory.GetMessageClass(rule.method.input_type)
    handler = getattr(servicer, rule.method.name)

    async def endpoint(request: Request) -> Response:
        message = request_class()
        try:
            if rule.body == "*":
                raw = await request.body()
                json_format.Parse(raw or b"{}", message)
            else:
                json_format.ParseDict(_query_fields(request, rule.method.input_type), message)
        except (json_format.ParseError, UnicodeDecodeError, ValueError) as error:
            return status_response(_parse_error(error))
        context = HttpServicerContext(getattr(request.state, "call", None))
        try:
            answer = await run_in_threadpool(handler, message, context)
        except _Aborted as aborted:
            return status_response(aborted.status)
        return JSONResponse(json_format.MessageToDict(answer))

    endpoint.__name__ = rule.method.name
    return endpoint


def _query_fields(request: Request, message: descriptor.Descriptor) -> dict[str, Any]:
    """Query parameters by JSON or proto field name; repeated ones as lists."""
    names = {f.json_name: f for f in message.fields} | {f.name: f for f in message.fields}
    values: dict[str, Any] = {}
    for key in request.query_params:
        field = names.get(key)
        if field is None:
            raise ValueError(f"{key}: no such field of {message.name}")
        items = request.query_params.getlist(key)
        values[field.json_name] = items if field.is_repeated else items[-1]
    return values


def _parse_error(error: Exception) -> status_pb2.Status:
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    match = _AT.search(text)
    path = match.group(1).rstrip(".") if match else "(body)"
    return invalid_argument(
        [FieldViolation((path,), text[:300])],
        reason="MALFORMED_JSON",
        code=code_pb2.INVALID_ARGUMENT,
    )
