"""Turning what a prescriber typed (``--med`` sigs, patient flags, ``--ack``) into a request."""

from __future__ import annotations

from collections.abc import Sequence

from client.sig import ParsedSig, SigParseError, parse_sig
from regimenguard.v1 import regimen_checker_pb2 as pb

ROUTES = {
    "oral": pb.ROUTE_ORAL,
    "topical": pb.ROUTE_TOPICAL,
    "transdermal": pb.ROUTE_TRANSDERMAL,
    "injection": pb.ROUTE_INJECTION,
    "intranasal": pb.ROUTE_INTRANASAL,
    "sublingual": pb.ROUTE_SUBLINGUAL,
    "rectal": pb.ROUTE_RECTAL,
}
ACTIONS = {
    None: pb.ORDER_ACTION_CONTINUE,
    "continue": pb.ORDER_ACTION_CONTINUE,
    "start": pb.ORDER_ACTION_START,
    "change_dose": pb.ORDER_ACTION_CHANGE_DOSE,
    "stop": pb.ORDER_ACTION_STOP,
}
RESPONSES = {
    None: pb.THERAPY_RESPONSE_UNSPECIFIED,
    "benefit": pb.THERAPY_RESPONSE_BENEFIT,
    "no_benefit": pb.THERAPY_RESPONSE_NO_BENEFIT,
    "not_tolerated": pb.THERAPY_RESPONSE_NOT_TOLERATED,
}


class OrderTextError(ValueError):
    """A --med or --ack text that cannot become part of a request; the message quotes it."""


def order_from_sig(sig: ParsedSig) -> pb.MedicationOrder:
    """One MedicationOrder from a parsed sig; amounts it lacks are left for the server to judge."""
    action = ACTIONS[sig.action]
    if (
        sig.doses_per_day is None
        and sig.rate_mcg_per_hour is None
        and action != pb.ORDER_ACTION_STOP
    ):
        raise OrderTextError(
            f'no frequency in "{sig.text}" (daily, bid, tid, q6h, every 8 hours, ...)'
        )
    order = pb.MedicationOrder(
        drug=sig.drug,
        dose_mg=sig.dose_mg or 0.0,
        units_per_dose=sig.units_per_dose or 0.0,
        rate_mcg_per_hour=sig.rate_mcg_per_hour or 0.0,
        doses_per_day=sig.doses_per_day or 0.0,
        as_needed=sig.as_needed,
        route=ROUTES.get(sig.route or "", pb.ROUTE_UNSPECIFIED),
        extended_release=sig.extended_release,
        action=action,
        started_on=sig.started_on.isoformat() if sig.started_on else "",
        planned_days=sig.planned_days or 0,
        response=RESPONSES[sig.response],
        previous_dose_mg=sig.previous_dose_mg or 0.0,
        indication=sig.indication,
    )
    if sig.rate_mcg_per_hour:
        order.route = pb.ROUTE_TRANSDERMAL
    return order


def parse_orders(texts: Sequence[str]) -> tuple[list[ParsedSig], list[pb.MedicationOrder]]:
    sigs, orders = [], []
    for text in texts:
        try:
            sig = parse_sig(text)
        except SigParseError as error:
            raise OrderTextError(f"--med: {error}") from None
        sigs.append(sig)
        orders.append(order_from_sig(sig))
    return sigs, orders


def parse_acknowledgement(text: str) -> pb.Acknowledgement:
    """``RULE_ID:reason`` or ``RULE_ID[drug,drug]:reason``."""
    head, separator, reason = text.partition(":")
    if not separator or not reason.strip():
        raise OrderTextError(f'--ack "{text}": write RULE_ID:reason (the reason is required)')
    rule_id, _, drugs = head.partition("[")
    names = [name.strip() for name in drugs.rstrip("]").split(",") if name.strip()]
    return pb.Acknowledgement(rule_id=rule_id.strip().upper(), drugs=names, reason=reason.strip())


def describe_sig(sig: ParsedSig) -> str:
    """How a sig was read, in words, for the report."""
    parts = [sig.drug]
    if sig.dose_mg is not None:
        parts.append(f"{sig.dose_mg:g} mg/dose")
    if sig.units_per_dose is not None:
        parts.append(f"{sig.units_per_dose:g} unit(s)/dose")
    if sig.rate_mcg_per_hour is not None:
        parts.append(f"{sig.rate_mcg_per_hour:g} mcg/h")
    if sig.doses_per_day is not None:
        parts.append(f"{sig.doses_per_day:g}/day" + (" at most (PRN)" if sig.as_needed else ""))
    for flag, words in (
        (sig.route, f"route {sig.route}"),
        (sig.extended_release, "extended-release"),
        (sig.action, f"action {sig.action}"),
        (sig.started_on, f"started {sig.started_on}"),
        (sig.planned_days, f"for {sig.planned_days} days"),
        (sig.response, f"response {sig.response}"),
        (sig.previous_dose_mg, f"from {sig.previous_dose_mg} mg"),
        (sig.indication, f"for {sig.indication} (not judged as back-pain therapy)"),
    ):
        if flag:
            parts.append(words)
    return ", ".join(parts)
