"""Conversion between regimenguard.v1 messages and the domain model.

Decoding only: what a protobuf message can get wrong that a domain request cannot (a malformed
date string, an unknown enum number, repeated fields too large to look at) is found here; the
values (a negative dose, NaN, too many medications, text too long, ...) are checked by the
domain validation (``regimenguard.regimen.validation``), and both come back as ``FieldViolation``s whose
paths render as proto field paths (``medications[2].dose_mg``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import operator
import re
from collections.abc import Callable, Sequence

from google.rpc import code_pb2, status_pb2

from regimenguard.regimen.cache import OrderRecords
from regimenguard.regimen.engine import RegimenChecker
from regimenguard.regimen.headlines import HeadlineWriter
from regimenguard.regimen.knowledge import Knowledge
from regimenguard.regimen.model import (
    Acknowledgement,
    CheckResult,
    IngredientDose,
    MedicationOrder,
    OrderAction,
    Patient,
    RegimenRequest,
    ResolvedOrder,
    Route,
    Severity,
    TherapyResponse,
    Verdict,
    assemble_order,
    assemble_patient,
    assemble_request,
)
from regimenguard.regimen.order_record import OrderRecord, build_record
from regimenguard.regimen.validation import (
    FieldViolation,
    Path,
    RequestInvalid,
    count_violations,
    normalized,
    request_error,
)
from regimenguard.server.answer_wire import NO_TABLES, WireTables, answer_bytes
from regimenguard.server.errors import invalid_argument
from regimenguard.v1 import regimen_checker_pb2 as pb

log = logging.getLogger(__name__)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# A refused request's id, as far as the logs quote it.
REQUEST_ID_LIMIT = 200

ROUTES = {
    pb.ROUTE_UNSPECIFIED: Route.ORAL,
    pb.ROUTE_ORAL: Route.ORAL,
    pb.ROUTE_TOPICAL: Route.TOPICAL,
    pb.ROUTE_TRANSDERMAL: Route.TRANSDERMAL,
    pb.ROUTE_INJECTION: Route.INJECTION,
    pb.ROUTE_INTRANASAL: Route.INTRANASAL,
    pb.ROUTE_SUBLINGUAL: Route.SUBLINGUAL,
    pb.ROUTE_RECTAL: Route.RECTAL,
    pb.ROUTE_BUCCAL: Route.BUCCAL,
}
ACTIONS = {
    pb.ORDER_ACTION_UNSPECIFIED: OrderAction.CONTINUE,
    pb.ORDER_ACTION_CONTINUE: OrderAction.CONTINUE,
    pb.ORDER_ACTION_START: OrderAction.START,
    pb.ORDER_ACTION_CHANGE_DOSE: OrderAction.CHANGE_DOSE,
    pb.ORDER_ACTION_STOP: OrderAction.STOP,
}
RESPONSES = {
    pb.THERAPY_RESPONSE_UNSPECIFIED: TherapyResponse.UNASSESSED,
    pb.THERAPY_RESPONSE_BENEFIT: TherapyResponse.BENEFIT,
    pb.THERAPY_RESPONSE_NO_BENEFIT: TherapyResponse.NO_BENEFIT,
    pb.THERAPY_RESPONSE_NOT_TOLERATED: TherapyResponse.NOT_TOLERATED,
}
ACTION_TO_PROTO = {action: number for number, action in ACTIONS.items() if number}
SEVERITY_TO_PROTO = {
    Severity.INFO: pb.SEVERITY_INFO,
    Severity.WARNING: pb.SEVERITY_WARNING,
    Severity.CRITICAL: pb.SEVERITY_CRITICAL,
}
# Every field of the domain Patient, read from the message's field of the same name in one call
# (pb.Patient has each of them: checked here, at import).
_PATIENT_FIELDS = tuple(field.name for field in dataclasses.fields(Patient))
_MISSING = sorted(set(_PATIENT_FIELDS) - set(pb.Patient.DESCRIPTOR.fields_by_name))
if _MISSING:
    raise ImportError(f"pb.Patient lacks the domain Patient's fields {_MISSING}")
_PATIENT_VALUES = operator.attrgetter(*_PATIENT_FIELDS)
# An order's fields, read from its message in one call, in the domain MedicationOrder's field
# order (the message has a field of each name: checked here, at import); ``_order`` unpacks
# them into locals by these names (checked here too), converts the enums, the dates and the
# ingredients, and builds the domain order positionally.
_ORDER_FIELDS = tuple(field.name for field in dataclasses.fields(MedicationOrder))
_MISSING = sorted(set(_ORDER_FIELDS) - set(pb.MedicationOrder.DESCRIPTOR.fields_by_name))
if _MISSING:
    raise ImportError(f"pb.MedicationOrder lacks the domain order's fields {_MISSING}")
_ORDER_UNPACKED = (
    "drug",
    "dose_mg",
    "ingredients",
    "rate_mcg_per_hour",
    "doses_per_day",
    "as_needed",
    "route",
    "extended_release",
    "action",
    "started_on",
    "previous_dose_mg",
    "planned_days",
    "response",
    "indication",
    "units_per_dose",
    "stopped_on",
)
if _ORDER_FIELDS != _ORDER_UNPACKED:
    raise ImportError(f"convert._order unpacks {_ORDER_UNPACKED}; the order has {_ORDER_FIELDS}")
_ORDER_VALUES = operator.attrgetter(*_ORDER_FIELDS)
_ROUTE_OF, _ACTION_OF, _RESPONSE_OF = ROUTES.get, ACTIONS.get, RESPONSES.get
_INGREDIENTS_OF = operator.attrgetter("ingredients")
_from_iso = dt.date.fromisoformat
_SERIALIZED_ORDER = pb.MedicationOrder.SerializeToString
_RECEIVED = operator.attrgetter("received")
_RECORDED_INGREDIENTS = operator.attrgetter("received.ingredients")
_DRUGS_OF = operator.attrgetter("drugs")

_parse_response = pb.CheckRegimenResponse.FromString
VERDICT_TO_PROTO = {
    Verdict.ACCEPT: pb.VERDICT_ACCEPT,
    Verdict.REVIEW: pb.VERDICT_REVIEW,
    Verdict.REJECT: pb.VERDICT_REJECT,
}


def today_utc() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


class _Decoder(list[FieldViolation]):
    """Collects what cannot be decoded, by domain path: the list of its violations (a list
    made in one C call, where a class of its own would run a Python ``__init__``)."""

    __slots__ = ()

    def date(self, value: str, *path: str | int) -> dt.date | None:
        if not value:
            return None
        # YYYY-MM-DD is read at once: date.fromisoformat reads such a text only when its
        # digits are ASCII digits, and so the pattern would match it
        if (len(value) == 10 and value[4] == "-" and value[7] == "-") or _DATE.match(value):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                pass
        self.append(FieldViolation(path, f"must be a date YYYY-MM-DD (got {value[:40]!r})"))
        return None

    def enum(self, value: int, table: dict, path: Path) -> object:  # type: ignore[type-arg]
        if value not in table:
            self.append(FieldViolation(path, f"unknown enum value {value}"))
            return next(iter(table.values()))
        return table[value]


def decode_request(
    message: pb.CheckRegimenRequest,
    knowledge: Knowledge,
    *,
    today: dt.date | None = None,
    records: OrderRecords | None = None,
) -> RegimenRequest | RequestInvalid:
    """The domain request as received (its values not yet validated), or why it cannot be.

    When something cannot be decoded, the answer is a ``RequestInvalid`` naming it together
    with every value the domain validation refuses, so a caller learns about all at once.
    ``records``: the checker's cache of order records; each order is then looked up by the
    bytes of its message, and decoded, validated and resolved only when they are new
    (regimenguard.regimen.order_record).
    """
    bad = _Decoder()
    as_of = bad.date(message.as_of, "as_of") or today or today_utc()
    count = len(message.medications)
    # the orders' messages, listed once (each access to a repeated field makes its objects;
    # a slice lists them in one call); none when there are too many to look at
    orders = (
        message.medications[:] if count <= knowledge.settings.max_medications_per_request else []
    )
    # the acknowledgements and their drug lists, listed once (map: a loop in C, where a
    # comprehension is a Python frame)
    acks = message.acknowledgements[:]
    ack_drugs = list(map(_DRUGS_OF, acks)) if acks else []
    if records is None:
        keys: list[bytes] = []
        found: list[OrderRecord | None] = []
        new = 0
        # each order's ingredients, held while the orders are decoded (reading the field again
        # then finds this object)
        ingredients = list(map(_INGREDIENTS_OF, orders))
        sizes = list(map(len, ingredients))
    else:
        # each order's record, by the bytes of its message (map: the serializer called in a C
        # loop); a known order's ingredients are counted from its record
        keys = list(map(_SERIALIZED_ORDER, orders))
        found, new = records.lookup(keys)
        ingredients, sizes = _ingredient_counts(orders, found, new)
    counted = count_violations(
        count,
        sizes,
        len(acks),
        list(map(len, ack_drugs)) if acks else [],
        knowledge.settings,
    )
    if counted is not None:
        # Oversized repeated fields are refused before any of their items is looked at.
        return RequestInvalid(
            [*bad, *counted.violations],
            counted.reason,
            request_id=message.request_id[:REQUEST_ID_LIMIT],
            medications=len(message.medications),
        )
    if records is None:
        medications = tuple(_order(order, i, bad) for i, order in enumerate(orders))
        prepared: tuple[OrderRecord, ...] = ()
    else:
        medications, prepared = _recorded_orders(orders, keys, found, new, bad, knowledge, records)
    # RegimenRequest(...) and Patient(...), their fields in order (see model._assembler)
    request = assemble_request(
        message.request_id,
        as_of,
        assemble_patient(*_PATIENT_VALUES(message.patient)),
        medications,
        tuple(
            [
                Acknowledgement(ack.rule_id, ack.reason, tuple(drugs[:]) if drugs else ())
                for ack, drugs in zip(acks, ack_drugs, strict=True)
            ]
        )
        if acks
        else (),
        prepared,
    )
    if bad:
        error = request_error(request, knowledge.settings, knowledge, decoded=list(bad))
        assert error is not None  # the decoder's own violations are in it
        return error
    return request


def request_from_proto(
    message: pb.CheckRegimenRequest, checker: RegimenChecker, *, today: dt.date | None = None
) -> RegimenRequest:
    """The validated domain request, or RequestInvalid naming every field that cannot be checked."""
    knowledge = checker.knowledge
    request = decode_request(message, knowledge, today=today)
    if isinstance(request, RequestInvalid):
        raise request
    error = request_error(request, knowledge.settings, knowledge)
    if error is not None:
        raise error
    return normalized(request)


def _ingredient_counts(
    messages: Sequence[pb.MedicationOrder], found: Sequence[OrderRecord | None], new: int
) -> tuple[list[object], list[int]]:
    """How many ingredients each order has: a known order's (``found``: its record; ``new``:
    how many are None) counted from its record, a new one's from its message, whose
    ingredients are then held while it is decoded (reading the field again finds this
    object); (what is held, the counts)."""
    if not new:  # every order known: counted in C loops
        return [], list(map(len, map(_RECORDED_INGREDIENTS, found)))
    held: list[object] = []
    sizes: list[int] = []
    for message, record in zip(messages, found, strict=True):
        if record is None:
            parts = message.ingredients
            held.append(parts)
            sizes.append(len(parts))
        else:
            sizes.append(len(record.received.ingredients))
    return held, sizes


def _recorded_orders(
    messages: Sequence[pb.MedicationOrder],
    keys: Sequence[bytes],
    found: Sequence[OrderRecord | None],
    new: int,
    bad: _Decoder,
    knowledge: Knowledge,
    records: OrderRecords,
) -> tuple[tuple[MedicationOrder, ...], tuple[OrderRecord, ...]]:
    """The orders and their records (``found``: each message's record by its bytes, ``keys``,
    or None: ``new`` of them), a new order's record built and kept; no records when one of
    the orders cannot be decoded (the request is then refused)."""
    if not new:  # every order known: the common case, in C loops
        return tuple(map(_RECEIVED, found)), tuple(found)  # type: ignore[arg-type]
    orders: list[MedicationOrder] = []
    kept: list[OrderRecord] = []
    get, put = records.get, records.put
    violations = bad
    for i, record in enumerate(found):
        if record is None:
            key = keys[i]
            record = get(key)  # kept since the lookup: the same order earlier in the request
            if record is None:
                before = len(violations)
                order = _order(messages[i], i, bad)
                if len(violations) > before:  # what was decoded is not the message: keep nothing
                    orders.append(order)
                    continue
                record = put(key, build_record(order, knowledge))
        orders.append(record.received)
        kept.append(record)
    return tuple(orders), (tuple(kept) if len(kept) == len(orders) else ())


def _order(message: pb.MedicationOrder, i: int, bad: _Decoder) -> MedicationOrder:
    # the message's fields, in the domain's field order (see _ORDER_UNPACKED), into locals
    (
        drug,
        dose_mg,
        parts,
        rate_mcg_per_hour,
        doses_per_day,
        as_needed,
        route,
        extended_release,
        action,
        started_on,
        previous_dose_mg,
        planned_days,
        response,
        indication,
        units_per_dose,
        stopped_on,
    ) = _ORDER_VALUES(message)
    # the enum tables are looked up directly; the decoder is asked only about a value they lack
    # (and so names it), in the order of the fields
    number = route
    route = _ROUTE_OF(number)
    if route is None:
        route = bad.enum(number, ROUTES, ("medications", i, "route"))
    number = action
    action = _ACTION_OF(number)
    if action is None:
        action = bad.enum(number, ACTIONS, ("medications", i, "action"))
    number = response
    response = _RESPONSE_OF(number)
    if response is None:
        response = bad.enum(number, RESPONSES, ("medications", i, "response"))
    # a date: YYYY-MM-DD with ASCII digits read at once (as _Decoder.date does); any other
    # text, or one that is not a day, is the decoder's to read or refuse
    if not started_on:
        started_on = None
    elif len(started_on) == 10 and started_on[4] == "-" and started_on[7] == "-":
        try:
            started_on = _from_iso(started_on)
        except ValueError:
            started_on = bad.date(started_on, "medications", i, "started_on")
    else:
        started_on = bad.date(started_on, "medications", i, "started_on")
    stopped_on = bad.date(stopped_on, "medications", i, "stopped_on") if stopped_on else None
    return assemble_order(  # MedicationOrder(...), its fields in order, faster
        drug,
        dose_mg,
        tuple([IngredientDose(part.name, part.dose_mg) for part in parts]) if parts else (),
        rate_mcg_per_hour,
        doses_per_day,
        as_needed,
        route,
        extended_release,
        action,
        started_on,
        previous_dose_mg,
        planned_days,
        response,
        indication,
        units_per_dose,
        stopped_on,
    )


def item_response(
    request: pb.CheckRegimenRequest,
    answer: CheckResult | RequestInvalid | Exception,
    knowledge_base_version: str,
    out: pb.CheckRegimenResponse | None = None,
    tables: WireTables = NO_TABLES,
) -> pb.CheckRegimenResponse:
    """One item of a batch or stream: its answer, or its ``error``; never an exception.

    ``answer`` is what ``RegimenService.check_many`` gave for it (an Exception other than
    RequestInvalid: the check failed, a bug). ``out``: the message to fill (an item a batch
    response has added), instead of a new one; ``tables``: as for ``response_from_result``.
    """
    if isinstance(answer, CheckResult):
        try:
            return response_from_result(answer, out, tables)
        except Exception:  # a bug must cost one item, not the whole batch
            log.exception("internal error encoding a batch item")
            error = _internal_error()
    elif isinstance(answer, RequestInvalid):
        error = invalid_argument(answer.violations, reason=answer.reason)
    else:
        error = _internal_error()
    if out is None:
        out = pb.CheckRegimenResponse()
    else:
        out.Clear()  # whatever a failed encoding left in it
    out.request_id = request.request_id
    out.knowledge_base_version = knowledge_base_version
    out.error.CopyFrom(error)
    return out


def _internal_error() -> status_pb2.Status:
    return status_pb2.Status(code=code_pb2.INTERNAL, message="internal error checking this item")


def response_from_result(
    result: CheckResult,
    out: pb.CheckRegimenResponse | None = None,
    tables: WireTables = NO_TABLES,
) -> pb.CheckRegimenResponse:
    """The response message, parsed from its wire bytes (``answer_wire``: the same message as
    ``fields_response`` builds, for fewer instructions). ``out``: an empty message to fill (an
    item of a batch response) instead of a new one. ``tables``: the fields that no request changes, encoded
    once from the knowledge base that checked ``result`` (``WireTables.compile``, as the
    servicer does when it is made); without them every text is encoded when met (the same
    message)."""
    headlines = HeadlineWriter(result.summary).headlines(result.findings)
    try:
        data = answer_bytes(result, headlines, tables)
    except IndexError:  # a text or message too long for the table of lengths
        return fields_response(result, out, headlines)
    if out is None:
        return _parse_response(data)
    out.MergeFromString(data)
    return out


def fields_response(
    result: CheckResult,
    out: pb.CheckRegimenResponse | None = None,
    headlines: Sequence[str] | None = None,
) -> pb.CheckRegimenResponse:
    """The response message, built field by field in place: each finding, order and
    interaction is added to its repeated field (``add``) rather than built apart and copied in;
    ``out``: an empty message to fill instead of a new one; ``headlines``: the findings'."""
    summary = result.summary
    if headlines is None:
        headlines = HeadlineWriter(summary).headlines(result.findings)
    if out is None:
        response = pb.CheckRegimenResponse(
            request_id=result.request_id,
            verdict=VERDICT_TO_PROTO[result.verdict],
            knowledge_base_version=result.knowledge_base_version,
        )
    else:
        response = out
        response.request_id = result.request_id
        response.verdict = VERDICT_TO_PROTO[result.verdict]  # type: ignore[assignment]
        response.knowledge_base_version = result.knowledge_base_version
    add_finding = response.findings.add
    for finding, headline in zip(result.findings, headlines, strict=True):
        # field by field, the defaults left unset (cheaper in upb than keyword arguments)
        message = add_finding()
        message.rule_id = finding.rule_id
        message.severity = SEVERITY_TO_PROTO[finding.severity]  # type: ignore[assignment]
        if finding.drugs:
            message.drugs.extend(finding.drugs)
        message.message = finding.message
        message.recommendation = finding.recommendation
        message.guideline_section = finding.guideline_section
        if finding.acknowledged:
            message.acknowledged = True
        if finding.ncpdp_reason_code:
            message.ncpdp_reason_code = finding.ncpdp_reason_code
        message.headline = headline
    out = response.summary
    out.SetInParent()  # present even when every total is zero
    out.acetaminophen_mg_per_day = summary.acetaminophen_mg_per_day
    out.acetaminophen_limit_mg_per_day = summary.acetaminophen_limit_mg_per_day
    out.morphine_mg_equivalents_per_day = summary.morphine_mg_equivalents_per_day
    out.serotonergic_agents = summary.serotonergic_agents
    add_order = out.orders.add
    for order in summary.orders:
        _add_resolved_order(add_order, order)
    add_interaction = out.interactions.add
    for fired in summary.interactions:
        add_interaction(
            node_a=fired.node_a,
            node_b=fired.node_b,
            rule_id=fired.rule_id,
            severity=SEVERITY_TO_PROTO[fired.severity],
            drugs=fired.drugs,
        )
    out.oud_treatment_drugs.extend(summary.oud_treatment_drugs)
    out.mme_uncounted_drugs.extend(summary.mme_uncounted_drugs)
    return response


def _add_resolved_order(add: Callable[..., pb.ResolvedOrder], order: ResolvedOrder) -> None:
    """``order`` as a ``pb.ResolvedOrder``, made by ``add`` (a repeated field's ``add``), field
    by field: the answer of ``fields_response``, which reads nothing kept with the order's
    record and keeps nothing there (``answer_wire.order_bytes`` alone does, for the answers
    ``response_from_result`` writes), so that the tests' comparison with it is independent."""
    message = add(
        medication_index=order.index,
        drug=order.order.drug,
        product=order.product,
        resolved=not order.unresolved_names,
        action=ACTION_TO_PROTO[order.order.action],
    )
    add_ingredient = message.ingredients.add
    for ingredient in order.ingredients:
        add_ingredient(
            name=ingredient.name,
            rxcui=ingredient.rxcui,
            mg_per_dose=ingredient.mg_per_dose or 0.0,
            mg_per_day=ingredient.mg_per_day or 0.0,
            classes=ingredient.classes,
        )
