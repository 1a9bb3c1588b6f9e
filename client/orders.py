"""Turning what a prescriber typed (``--med`` sigs, ``--ack``) into a request, and naming the
typed order in the server's input errors."""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

from regimenguard.regimen.model import MedicationOrder, OrderAction, Route, TherapyResponse
from regimenguard.regimen.sig import ProductCatalog, SigParseError, SigReading, read_sig
from regimenguard.v1 import regimen_checker_pb2 as pb

ROUTES = {
    Route.ORAL: pb.ROUTE_ORAL,
    Route.TOPICAL: pb.ROUTE_TOPICAL,
    Route.TRANSDERMAL: pb.ROUTE_TRANSDERMAL,
    Route.INJECTION: pb.ROUTE_INJECTION,
    Route.INTRANASAL: pb.ROUTE_INTRANASAL,
    Route.SUBLINGUAL: pb.ROUTE_SUBLINGUAL,
    Route.RECTAL: pb.ROUTE_RECTAL,
}
ACTIONS = {
    OrderAction.CONTINUE: pb.ORDER_ACTION_CONTINUE,
    OrderAction.START: pb.ORDER_ACTION_START,
    OrderAction.CHANGE_DOSE: pb.ORDER_ACTION_CHANGE_DOSE,
    OrderAction.STOP: pb.ORDER_ACTION_STOP,
}
RESPONSES = {
    TherapyResponse.UNASSESSED: pb.THERAPY_RESPONSE_UNSPECIFIED,
    TherapyResponse.BENEFIT: pb.THERAPY_RESPONSE_BENEFIT,
    TherapyResponse.NO_BENEFIT: pb.THERAPY_RESPONSE_NO_BENEFIT,
    TherapyResponse.NOT_TOLERATED: pb.THERAPY_RESPONSE_NOT_TOLERATED,
}
# A server's description of a field of a typed order, in the words of the order.
FIELD_WORDS = {
    "dose_mg": "no dose (write one, e.g. 400 mg, or a count of tabs for a combination)",
    "doses_per_day": "no frequency (daily, bid, q6h, every 8 hours, ...)",
    "rate_mcg_per_hour": "no patch rate (write it in mcg/h)",
    "units_per_dose": "the count of units per dose is out of range",
}
_MEDICATION_PATH = re.compile(r"^medications\[(\d+)\]\.?(\w*)")


class OrderTextError(ValueError):
    """A --med or --ack text that cannot become part of a request; the message quotes it."""


@functools.cache
def knowledge_catalog() -> ProductCatalog:
    """The product catalog of the bundled knowledge base (loaded once, on first use)."""
    from regimenguard.regimen.knowledge import load_knowledge
    from regimenguard.regimen.sig.knowledge_catalog import KnowledgeCatalog

    return KnowledgeCatalog(load_knowledge())


def order_to_proto(order: MedicationOrder) -> pb.MedicationOrder:
    """The protobuf form of a domain order, as a sig reading produced it."""
    return pb.MedicationOrder(
        drug=order.drug,
        dose_mg=order.dose_mg,
        ingredients=[
            pb.IngredientDose(name=part.name, dose_mg=part.dose_mg) for part in order.ingredients
        ],
        units_per_dose=order.units_per_dose,
        rate_mcg_per_hour=order.rate_mcg_per_hour,
        doses_per_day=order.doses_per_day,
        as_needed=order.as_needed,
        route=ROUTES[order.route],
        extended_release=order.extended_release,
        action=ACTIONS[order.action],
        started_on=order.started_on.isoformat() if order.started_on else "",
        planned_days=order.planned_days,
        response=RESPONSES[order.response],
        previous_dose_mg=order.previous_dose_mg,
        indication=order.indication,
    )


def read_orders(texts: Sequence[str], catalog: ProductCatalog | None = None) -> list[SigReading]:
    """Each --med read; the first that cannot be read is an OrderTextError naming it."""
    catalog = catalog or knowledge_catalog()
    readings = []
    for number, text in enumerate(texts):
        try:
            readings.append(read_sig(text, catalog))
        except SigParseError as error:
            raise OrderTextError(f"--med {number}: {error}") from None
    return readings


def name_typed_orders(
    violations: Sequence[tuple[str, str]], texts: Sequence[str]
) -> list[str] | None:
    """The server's field errors in the words of the typed orders, or None if one is not
    about a typed order (then the field paths are the clearest words)."""
    described = []
    for path, description in violations:
        match = _MEDICATION_PATH.match(path)
        if match is None or int(match[1]) >= len(texts):
            return None
        words = FIELD_WORDS.get(match[2]) if "greater than 0" in description else None
        described.append(f'--med {match[1]} "{texts[int(match[1])]}": {words or description}')
    return described


def parse_acknowledgement(text: str) -> pb.Acknowledgement:
    """``RULE_ID:reason`` or ``RULE_ID[drug,drug]:reason``."""
    head, separator, reason = text.partition(":")
    if not separator or not reason.strip():
        raise OrderTextError(f'--ack "{text}": write RULE_ID:reason (the reason is required)')
    rule_id, _, drugs = head.partition("[")
    names = [name.strip() for name in drugs.rstrip("]").split(",") if name.strip()]
    return pb.Acknowledgement(rule_id=rule_id.strip().upper(), drugs=names, reason=reason.strip())
