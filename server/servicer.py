"""RegimenCheckerService: a thin adapter from gRPC to the service layer.

Each method decodes its message (``regimenguard.server.convert``), calls ``regimenguard.regimen.service.RegimenService``
and encodes the answer; refusals become INVALID_ARGUMENT with a BadRequest naming each field by
its proto path. The call record the access-log interceptor opened (``call_of``) is passed on, so
the service's observers see the regimens of each call.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from typing import TYPE_CHECKING

import grpc

from regimenguard.regimen.engine import RegimenChecker
from regimenguard.regimen.model import CheckResult
from regimenguard.regimen.observers import CallRecord
from regimenguard.regimen.service import CheckFailed, RegimenService
from regimenguard.regimen.validation import FieldViolation, RequestInvalid
from regimenguard.server.aio_bridge import in_pool, inline_when_small
from regimenguard.server.answer_wire import WireTables
from regimenguard.server.catalogue import drug_message, page, rule_messages
from regimenguard.server.convert import (
    decode_request,
    item_response,
    response_from_result,
    today_utc,
)
from regimenguard.server.errors import abort_with, invalid_argument
from regimenguard.server.logging_interceptor import accepts_malformed_items
from regimenguard.v1 import regimen_checker_pb2 as pb
from regimenguard.v1 import regimen_checker_pb2_grpc as pb_grpc

if TYPE_CHECKING:
    from regimenguard.server.order_reading import OrderReader

log = logging.getLogger(__name__)
MAX_TOKEN_DIGITS = 9  # a page token is an offset into the drug list


def call_of(context: grpc.ServicerContext) -> CallRecord | None:
    """The call record of an observed call (see regimenguard.server.logging_interceptor), else None."""
    return getattr(context, "regimen_call", None)


def as_service(service: RegimenService | RegimenChecker) -> RegimenService:
    if isinstance(service, RegimenService):
        return service
    return RegimenService(service.knowledge, checker=service)


class RegimenCheckerServicer(pb_grpc.RegimenCheckerServiceServicer):
    def __init__(
        self,
        service: RegimenService | RegimenChecker,
        *,
        today: Callable[[], dt.date] = today_utc,
    ) -> None:
        self._service = as_service(service)
        self._knowledge = self._service.knowledge
        self._records = self._service.order_records  # the checker's one cache
        # the answers' fields that no request changes, encoded once (server/answer_wire.py)
        self._tables = WireTables.of_knowledge(self._knowledge)
        self._today = today
        self._drug_messages = {
            entry.name: drug_message(entry) for entry in self._service.drug_entries
        }
        self._rules = rule_messages(self._service.rules())
        # The sig reader (its grammar and product catalog) is built on the first ParseOrder, so
        # that start-up does not wait for a method most callers never use.
        self._orders: OrderReader | None = None
        self._orders_lock = threading.Lock()

    def _order_reader(self) -> OrderReader:
        with self._orders_lock:
            if self._orders is None:
                from regimenguard.server.order_reading import OrderReader

                self._orders = OrderReader(self._knowledge)
            return self._orders

    @inline_when_small
    def CheckRegimen(
        self, request: pb.CheckRegimenRequest, context: grpc.ServicerContext
    ) -> pb.CheckRegimenResponse:
        domain = decode_request(
            request, self._knowledge, today=self._today(), records=self._records
        )
        try:
            result = self._service.check(domain, call=call_of(context))
        except RequestInvalid as invalid:
            abort_with(context, invalid_argument(invalid.violations, reason=invalid.reason))
            raise  # unreachable: abort raises
        except Exception:
            # A bug: INTERNAL with a fixed message (gRPC would answer UNKNOWN and pass the
            # exception's text, which may quote the request, to the caller).
            log.exception("internal error checking a regimen")
            context.abort(grpc.StatusCode.INTERNAL, "internal error checking this regimen")
            raise  # unreachable: abort raises
        return response_from_result(result, tables=self._tables)

    @accepts_malformed_items
    async def CheckRegimens(
        self,
        request_iterator: AsyncIterator[pb.CheckRegimenRequest | RequestInvalid],
        context: grpc.aio.ServicerContext,
    ) -> AsyncIterator[pb.CheckRegimenResponse]:
        """One answer per request, in order, an item whose bytes cannot be decoded included
        (the interceptor passes it as a RequestInvalid; its answer carries the error). Waiting
        for the next item holds no thread; each check runs on the thread pool. A client that
        goes away cancels the stream, and its work."""
        call = call_of(context)
        async for request in request_iterator:
            yield await in_pool(self._answer_one, request, call)

    def check_items(
        self, requests: Iterable[pb.CheckRegimenRequest], call: CallRecord | None = None
    ) -> Iterator[pb.CheckRegimenResponse]:
        """One answer per request, in order (CheckRegimens without a server)."""
        for request in requests:
            yield self._answer_one(request, call)

    def _answer_one(
        self, request: pb.CheckRegimenRequest | RequestInvalid, call: CallRecord | None
    ) -> pb.CheckRegimenResponse:
        if isinstance(request, RequestInvalid):  # bytes that are not a CheckRegimenRequest
            message, decoded = pb.CheckRegimenRequest(), request
        else:
            message = request
            decoded = decode_request(
                request, self._knowledge, today=self._today(), records=self._records
            )
        answers = self._service.check_many([decoded], call=call)
        try:
            return self._item_answer(message, next(answers))
        finally:
            answers.close()

    def CheckRegimenBatch(
        self, request: pb.CheckRegimenBatchRequest, context: grpc.ServicerContext
    ) -> pb.CheckRegimenBatchResponse:
        limit = self._service.settings.max_requests_per_batch
        if len(request.requests) > limit:
            violation = FieldViolation(
                ("requests",), f"at most {limit} requests per batch (got {len(request.requests)})"
            )
            abort_with(context, invalid_argument([violation], reason="BATCH_TOO_LARGE"))
        today = self._today()
        items = request.requests
        records = self._records
        decoded = (
            decode_request(item, self._knowledge, today=today, records=records) for item in items
        )
        batch = pb.CheckRegimenBatchResponse()
        add = batch.responses.add  # each answer is built in place, not built apart and copied
        version = self._service.version
        answers = self._service.check_many(decoded, call=call_of(context))
        for item in items:
            if not context.is_active():
                break  # cancelled or past its deadline: nobody will read the answer
            item_response(item, next(answers), version, add(), self._tables)
        answers.close()
        return batch

    @inline_when_small
    def ListDrugs(
        self, request: pb.ListDrugsRequest, context: grpc.ServicerContext
    ) -> pb.ListDrugsResponse:
        limit = self._service.settings.max_text_length
        violations = []
        if len(request.query) > limit:
            violations.append(FieldViolation(("query",), f"must be at most {limit} characters"))
        token = request.page_token
        if token and not (token.isascii() and token.isdigit() and len(token) <= MAX_TOKEN_DIGITS):
            violations.append(
                FieldViolation(("page_token",), "is not a token returned by ListDrugs")
            )
        if violations:
            abort_with(context, invalid_argument(violations, reason="INVALID_LIST_REQUEST"))
        matching = self._service.drugs(request.query, call=call_of(context))
        try:
            entries, next_token = page(matching, request.page_size, request.page_token)
        except ValueError as error:
            field, description = (*error.args, "is not valid")[:2]
            abort_with(
                context,
                invalid_argument(
                    [FieldViolation((str(field),), str(description))],
                    reason="INVALID_LIST_REQUEST",
                ),
            )
            raise
        drugs = [self._drug_messages[entry.name] for entry in entries]
        return pb.ListDrugsResponse(drugs=drugs, next_page_token=next_token)

    @inline_when_small
    def ListRules(
        self, request: pb.ListRulesRequest, context: grpc.ServicerContext
    ) -> pb.ListRulesResponse:
        return pb.ListRulesResponse(rules=self._rules)

    def ParseOrder(
        self, request: pb.ParseOrderRequest, context: grpc.ServicerContext
    ) -> pb.ParseOrderResponse:
        try:
            return self._order_reader().parse(request)
        except RequestInvalid as invalid:
            abort_with(context, invalid_argument(invalid.violations, reason=invalid.reason))
            raise  # unreachable: abort raises

    def _item_answer(
        self,
        request: pb.CheckRegimenRequest,
        answer: CheckResult | RequestInvalid | CheckFailed,
    ) -> pb.CheckRegimenResponse:
        return item_response(request, answer, self._service.version, tables=self._tables)
