"""ParseOrder: a free-text order read by the sig reader (regimenguard.regimen.sig), as a MedicationOrder.

The same reader as the command line's ``--med``, so a form can show how an order will be read
while the prescriber types it.
"""

from __future__ import annotations

from regimenguard.client.orders import order_to_proto
from regimenguard.regimen.knowledge import Knowledge
from regimenguard.regimen.sig import SigParseError, read_sig
from regimenguard.regimen.sig.knowledge_catalog import KnowledgeCatalog
from regimenguard.regimen.validation import FieldViolation, RequestInvalid
from regimenguard.v1 import regimen_checker_pb2 as pb

MAX_ORDER_TEXT = 500


class OrderReader:
    """Built once (the product catalog over the knowledge base); then safe from many threads."""

    def __init__(self, knowledge: Knowledge) -> None:
        self._catalog = KnowledgeCatalog(knowledge)

    def parse(self, request: pb.ParseOrderRequest) -> pb.ParseOrderResponse:
        """The order as read; RequestInvalid (field ``text``) quoting what cannot be read."""
        text = request.text
        if len(text) > MAX_ORDER_TEXT:
            raise _invalid(f"must be at most {MAX_ORDER_TEXT} characters (got {len(text)})")
        try:
            reading = read_sig(text, self._catalog)
        except SigParseError as error:
            raise _invalid(str(error)) from None
        return pb.ParseOrderResponse(
            order=order_to_proto(reading.order),
            reading=reading.describe(),
            assumptions=list(reading.assumptions),
        )


def _invalid(description: str) -> RequestInvalid:
    return RequestInvalid([FieldViolation(("text",), description)], reason="UNREADABLE_ORDER")
