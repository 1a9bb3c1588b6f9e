"""RegimenCheckerService: a thin adapter from gRPC to the checker."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Iterator

import grpc
from google.rpc import code_pb2, status_pb2
from regimenguard.v1 import regimen_checker_pb2 as pb
from regimenguard.v1 import regimen_checker_pb2_grpc as pb_grpc

from regimen.engine import RegimenChecker
from regimen.validation import FieldViolation, RequestInvalid
from server.catalogue import drug_listing, page, rule_listing
from server.convert import request_from_proto, response_from_result, today_utc
from server.errors import abort_with, invalid_argument

log = logging.getLogger(__name__)


class RegimenCheckerServicer(pb_grpc.RegimenCheckerServiceServicer):
    def __init__(
        self, checker: RegimenChecker, *, today: Callable[[], dt.date] = today_utc
    ) -> None:
        self._checker = checker
        self._today = today
        self._drugs = drug_listing(checker.knowledge)
        self._rules = rule_listing(checker.knowledge)

    def CheckRegimen(
        self, request: pb.CheckRegimenRequest, context: grpc.ServicerContext
    ) -> pb.CheckRegimenResponse:
        try:
            domain = request_from_proto(request, self._checker, today=self._today())
        except RequestInvalid as invalid:
            abort_with(context, invalid_argument(invalid.violations, reason=invalid.reason))
            raise  # unreachable: abort raises
        return response_from_result(self._checker.check(domain))

    def CheckRegimens(
        self, request_iterator: Iterable[pb.CheckRegimenRequest], context: grpc.ServicerContext
    ) -> Iterator[pb.CheckRegimenResponse]:
        for request in request_iterator:
            if not context.is_active():
                return
            yield self._check_item(request)

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
        return pb.CheckRegimenBatchResponse(
            responses=[self._check_item(item, today) for item in request.requests]
        )

    def ListDrugs(
        self, request: pb.ListDrugsRequest, context: grpc.ServicerContext
    ) -> pb.ListDrugsResponse:
        query = request.query.strip().casefold()
        matching = [drug for key, drug in self._drugs if not query or query in key]
        try:
            drugs, next_token = page(matching, request.page_size, request.page_token)
        except ValueError as error:
            abort_with(
                context, invalid_argument([FieldViolation(str(error.args[0]), str(error.args[1]))])
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
