"""RegimenCheckerService: a thin adapter from gRPC to the checker."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Iterator

import grpc
from google.rpc import code_pb2, status_pb2

from interactions.lookup import DrugLookup
from regimen.engine import RegimenChecker
from regimen.validation import FieldViolation, RequestInvalid
from regimenguard.v1 import regimen_checker_pb2 as pb
from regimenguard.v1 import regimen_checker_pb2_grpc as pb_grpc
from server.catalogue import drug_listing, page, rule_listing
from server.convert import request_from_proto, response_from_result, today_utc
from server.errors import abort_with, invalid_argument

log = logging.getLogger(__name__)
MAX_TOKEN_DIGITS = 9  # a page token is an offset into the drug list


class RegimenCheckerServicer(pb_grpc.RegimenCheckerServiceServicer):
    def __init__(
        self, checker: RegimenChecker, *, today: Callable[[], dt.date] = today_utc
    ) -> None:
        self._checker = checker
        self._today = today
        self._drugs = drug_listing(checker.knowledge)
        self._lookup = DrugLookup(checker.knowledge.resolver)
        self._rules = rule_listing(checker.knowledge)

    def CheckRegimen(
        self, request: pb.CheckRegimenRequest, context: grpc.ServicerContext
    ) -> pb.CheckRegimenResponse:
        try:
            domain = request_from_proto(request, self._checker, today=self._today())
        except RequestInvalid as invalid:
            abort_with(context, invalid_argument(invalid.violations, reason=invalid.reason))
            raise  # unreachable: abort raises
        try:
            return response_from_result(self._checker.check(domain))
        except Exception:
            # A bug: INTERNAL with a fixed message (gRPC would answer UNKNOWN and pass the
            # exception's text, which may quote the request, to the caller).
            log.exception("internal error checking a regimen")
            context.abort(grpc.StatusCode.INTERNAL, "internal error checking this regimen")
            raise  # unreachable: abort raises

    def CheckRegimens(
        self, request_iterator: Iterable[pb.CheckRegimenRequest], context: grpc.ServicerContext
    ) -> Iterator[pb.CheckRegimenResponse]:
        """One answer per request, in order; stops as soon as the client has gone away."""
        try:
            for request in request_iterator:
                if not context.is_active():
                    return
                yield self._check_item(request)
        except grpc.RpcError:
            # The request stream broke off: the client cancelled or its deadline passed.
            if context.is_active():
                raise

    def CheckRegimenBatch(
        self, request: pb.CheckRegimenBatchRequest, context: grpc.ServicerContext
    ) -> pb.CheckRegimenBatchResponse:
        limit = self._checker.knowledge.settings.max_requests_per_batch
        if len(request.requests) > limit:
            violation = FieldViolation(
                "requests", f"at most {limit} requests per batch (got {len(request.requests)})"
            )
            abort_with(context, invalid_argument([violation], reason="BATCH_TOO_LARGE"))
        today = self._today()
        responses = []
        for item in request.requests:
            if not context.is_active():
                break  # cancelled or past its deadline: nobody will read the answer
            responses.append(self._check_item(item, today))
        return pb.CheckRegimenBatchResponse(responses=responses)

    def ListDrugs(
        self, request: pb.ListDrugsRequest, context: grpc.ServicerContext
    ) -> pb.ListDrugsResponse:
        limit = self._checker.knowledge.settings.max_text_length
        violations = []
        if len(request.query) > limit:
            violations.append(FieldViolation("query", f"must be at most {limit} characters"))
        token = request.page_token
        if token and not (token.isascii() and token.isdigit() and len(token) <= MAX_TOKEN_DIGITS):
            violations.append(FieldViolation("page_token", "is not a token returned by ListDrugs"))
        if violations:
            abort_with(context, invalid_argument(violations, reason="INVALID_LIST_REQUEST"))
        found = self._lookup.search(
            request.query,
            self._drugs,
            key_of=lambda item: item[0],
            name_of=lambda item: item[1].name,
        )
        matching = [drug for _, drug in found]
        try:
            drugs, next_token = page(matching, request.page_size, request.page_token)
        except ValueError as error:
            field, description = (*error.args, "is not valid")[:2]
            abort_with(
                context,
                invalid_argument(
                    [FieldViolation(str(field), str(description))], reason="INVALID_LIST_REQUEST"
                ),
            )
            raise
        return pb.ListDrugsResponse(drugs=drugs, next_page_token=next_token)

    def ListRules(
        self, request: pb.ListRulesRequest, context: grpc.ServicerContext
    ) -> pb.ListRulesResponse:
        return pb.ListRulesResponse(rules=self._rules)

    def _check_item(
        self, request: pb.CheckRegimenRequest, today: dt.date | None = None
    ) -> pb.CheckRegimenResponse:
        """One item of a batch or stream: an answer or an error, never an exception."""
        try:
            domain = request_from_proto(request, self._checker, today=today or self._today())
            return response_from_result(self._checker.check(domain))
        except RequestInvalid as invalid:
            error = invalid_argument(invalid.violations, reason=invalid.reason)
        except Exception:  # a bug must cost one item, not the whole batch
            log.exception("internal error checking a batch item")
            error = status_pb2.Status(
                code=code_pb2.INTERNAL, message="internal error checking this item"
            )
        return pb.CheckRegimenResponse(
            request_id=request.request_id,
            knowledge_base_version=self._checker.knowledge.version,
            error=error,
        )
