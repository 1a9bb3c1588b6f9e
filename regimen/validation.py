"""Input that cannot be checked: every bad field of a domain request, named by its path.

A path is a tuple of field names and list indices (``("medications", 2, "dose_mg")``); each
front door renders it its own way: ``proto_path()`` for gRPC's BadRequest
(``medications[2].dose_mg``), ``fhir_path()`` for a FHIRPath-like location
(``medications[2].doseMg``). Decoding problems that only a wire format can have (a malformed
date string, an unknown enum number) are the adapter's; everything about values (a negative
dose, NaN, a scheduled order without doses per day, too many medications, text too long) is
checked here, the same for every door.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, cast

from regimenguard.interactions.resolver import LOOK_UP
from regimenguard.regimen.model import (
    Acknowledgement,
    IngredientDose,
    MedicationOrder,
    OrderAction,
    Patient,
    RegimenRequest,
    Route,
)

if TYPE_CHECKING:
    from regimenguard.interactions.resolver import NameMatch
    from regimenguard.regimen.knowledge import Knowledge
    from regimenguard.regimen.settings import Settings

Path = tuple[str | int, ...]
# one order's violations: (path within the order, description) each
OrderViolations = tuple[tuple[Path, str], ...]

# Unicode category Cc (C0 and C1 controls, DEL) except tab. A text that ``str.isprintable()``
# has none (every Cc character is unprintable): the quick tests below ask that first, and
# search only a text it is not sure of.
CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f]")
MAX_AGE_YEARS = 130
MAX_REASON_LENGTH = 2000
# Plausibility bounds: far beyond any real order, low enough that no product of them overflows
# (a dose times doses per day times units stays finite), so every answer carries finite numbers.
MAX_PAIN_DURATION_WEEKS = MAX_AGE_YEARS * 53
MAX_DOSE_MG = 1_000_000.0  # one kilogram per administration
MAX_DOSES_PER_DAY = 1440.0  # once a minute
MAX_RATE_MCG_PER_HOUR = 1_000_000.0
MAX_UNITS_PER_DOSE = 1000.0
MAX_PLANNED_DAYS = 36_500  # a hundred years
# Repeated fields that the per-request limits of the settings do not cover.
MAX_INGREDIENTS_PER_ORDER = 20
MAX_ACKNOWLEDGEMENTS_PER_REQUEST = 200
_STOP = OrderAction.STOP
_TRANSDERMAL = Route.TRANSDERMAL

# Reasons (google.rpc.ErrorInfo.reason on gRPC) for a request that cannot be checked.
INVALID_REGIMEN = "INVALID_REGIMEN"
TOO_MANY_MEDICATIONS = "TOO_MANY_MEDICATIONS"
TOO_MANY_ITEMS = "TOO_MANY_ITEMS"


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


@dataclass(frozen=True, slots=True)
class FieldViolation:
    path: Path  # ("medications", 2, "dose_mg"); ("(request)",) for the request as a whole
    description: str

    def proto_path(self) -> str:
        """``medications[2].dose_mg``: the path as google.rpc.BadRequest names a field."""
        parts: list[str] = []
        for step in self.path:
            if isinstance(step, int):
                parts[-1] += f"[{step}]"
            else:
                parts.append(step)
        return ".".join(parts)

    def fhir_path(self) -> str:
        """``medications[2].doseMg``: FHIRPath style (camelCase elements, ``[n]`` indices)."""
        parts: list[str] = []
        for step in self.path:
            if isinstance(step, int):
                parts[-1] += f"[{step}]"
            else:
                parts.append(_camel(step))
        return ".".join(parts)

    @property
    def field(self) -> str:
        """The proto path (what the gRPC API has always called the field)."""
        return self.proto_path()


class RequestInvalid(ValueError):
    """The request cannot be checked at all; carries every violation found.

    ``request_id`` and ``medications`` say what was received, as far as it could be read, so
    that the logs and metrics count a refused request like any other; ``drugs`` and
    ``patient`` are protected health information, for the access log under ``--log-phi`` only.
    """

    def __init__(
        self,
        violations: Sequence[FieldViolation],
        reason: str = INVALID_REGIMEN,
        *,
        request_id: str = "",
        medications: int = 0,
        drugs: tuple[str, ...] = (),
        patient: Patient | None = None,
    ):
        self.violations = tuple(violations)
        self.reason = reason
        self.request_id = request_id
        self.medications = medications
        self.drugs = drugs
        self.patient = patient
        fields = ", ".join(v.proto_path() for v in self.violations[:5])
        more = f" and {len(self.violations) - 5} more" if len(self.violations) > 5 else ""
        super().__init__(f"{len(self.violations)} invalid field(s): {fields}{more}")

    def received(self, request: RegimenRequest) -> RequestInvalid:
        """This error, saying what was received (``request``'s id, orders and patient)."""
        self.request_id = request.request_id
        self.medications = len(request.medications)
        self.drugs = order_names(request.medications)
        self.patient = request.patient
        return self


def order_names(orders: Sequence[MedicationOrder]) -> tuple[str, ...]:
    """How each order names its drug (``my combination (a + b)``): for a PHI log only."""
    names = []
    for order in orders:
        parts = " + ".join(part.name for part in order.ingredients)
        names.append(f"{order.drug} ({parts})" if parts else order.drug)
    return tuple(names)


class _Collector:
    """Violations, with paths relative to ``prefix``."""

    __slots__ = ("items", "prefix")

    def __init__(self, items: list[FieldViolation], prefix: Path = ()) -> None:
        self.items = items
        self.prefix = prefix

    def scoped(self, *steps: str | int) -> _Collector:
        return _Collector(self.items, self.prefix + steps)

    def add(self, description: str, *steps: str | int) -> None:
        self.items.append(FieldViolation(self.prefix + steps, description))

    def text(self, value: str, limit: int, *steps: str | int) -> None:
        if len(value) > limit:
            self.add(f"must be at most {limit} characters (got {len(value)})", *steps)
        elif CONTROL_CHARACTERS.search(value):
            self.add("must not contain control characters", *steps)

    def number(
        self,
        value: float,
        *steps: str | int,
        positive: bool = False,
        maximum: float = MAX_DOSE_MG,
    ) -> bool:
        """True when ``value`` is a usable amount."""
        if not math.isfinite(value):
            self.add("must be a finite number", *steps)
        elif value < 0 or (positive and value == 0):
            self.add("must be greater than 0" if positive else "must not be negative", *steps)
        elif value > maximum:
            self.add(f"must be at most {maximum:g} (got {value:g})", *steps)
        else:
            return True
        return False

    def count(self, count: int, limit: int, what: str, *steps: str | int) -> None:
        if count > limit:
            self.add(f"at most {limit} {what} (got {count})", *steps)


def count_violations(
    medications: int,
    ingredients_per_order: Sequence[int],
    acknowledgements: int,
    drugs_per_acknowledgement: Sequence[int],
    settings: Settings,
) -> RequestInvalid | None:
    """Oversized repeated fields, refused before any of their items is looked at.

    Takes the sizes only, so that an adapter can ask before it decodes the items.
    """
    limit = settings.max_medications_per_request
    if (  # no repeated field over its limit: the common case, decided at once
        medications <= limit
        and acknowledgements <= MAX_ACKNOWLEDGEMENTS_PER_REQUEST
        and (not ingredients_per_order or max(ingredients_per_order) <= MAX_INGREDIENTS_PER_ORDER)
        and (not drugs_per_acknowledgement or max(drugs_per_acknowledgement) <= limit)
    ):
        return None
    bad = _Collector([])
    if medications > settings.max_medications_per_request:
        bad.add(
            f"at most {settings.max_medications_per_request} medications per request "
            f"(got {medications})",
            "medications",
        )
        return RequestInvalid(bad.items, TOO_MANY_MEDICATIONS)
    bad.count(
        acknowledgements,
        MAX_ACKNOWLEDGEMENTS_PER_REQUEST,
        "acknowledgements per request",
        "acknowledgements",
    )
    for i, count in enumerate(ingredients_per_order):
        bad.count(
            count,
            MAX_INGREDIENTS_PER_ORDER,
            "ingredients per order",
            "medications",
            i,
            "ingredients",
        )
    for i, count in enumerate(drugs_per_acknowledgement[:MAX_ACKNOWLEDGEMENTS_PER_REQUEST]):
        bad.count(
            count,
            settings.max_medications_per_request,
            "drugs per acknowledgement",
            "acknowledgements",
            i,
            "drugs",
        )
    return RequestInvalid(bad.items, TOO_MANY_ITEMS) if bad.items else None


def request_error(
    request: RegimenRequest,
    settings: Settings,
    knowledge: Knowledge | None = None,
    *,
    decoded: Sequence[FieldViolation] = (),
    orders: Sequence[OrderViolations] = (),
) -> RequestInvalid | None:
    """Why ``request`` cannot be checked (None when it can), with its reason.

    ``decoded`` are the adapter's own violations (a malformed date, an unknown enum value),
    reported with these. ``knowledge`` adds the checks that need it: a combination product
    given a plain ``dose_mg``, an acknowledgement of an unknown rule id. ``orders``: each
    order's own violations, already found (``order_violations`` with these settings and
    knowledge; the order records hold them), one per medication.
    """
    if orders and not decoded and _checkable(request, settings, knowledge, orders):
        return None  # the common case, decided without a collector
    items = list(decoded)
    counted = count_violations(
        len(request.medications),
        [len(order.ingredients) for order in request.medications],
        len(request.acknowledgements),
        [len(ack.drugs) for ack in request.acknowledgements],
        settings,
    )
    if counted is not None:
        return RequestInvalid([*items, *counted.violations], counted.reason).received(request)
    bad = _Collector(items)
    limit = settings.max_text_length
    bad.text(request.request_id, limit, "request_id")
    _patient(request.patient, bad)
    if orders:
        items = bad.items
        for i, found in enumerate(orders):
            if found:
                items.extend(
                    FieldViolation(("medications", i, *path), text) for path, text in found
                )
    else:
        for i, order in enumerate(request.medications):
            _order(order, bad.scoped("medications", i), limit, knowledge)
    rule_ids = knowledge.rule_ids if knowledge is not None else None
    for i, ack in enumerate(request.acknowledgements):
        _acknowledgement(ack, bad.scoped("acknowledgements", i), limit, rule_ids)
    return RequestInvalid(bad.items).received(request) if bad.items else None


def _checkable(
    request: RegimenRequest,
    settings: Settings,
    knowledge: Knowledge | None,
    orders: Sequence[OrderViolations],
) -> bool:
    """True when ``request_error`` would find nothing wrong with ``request`` (its orders'
    own violations given as ``orders``, one per medication): the same tests, each a plain
    comparison that stops at the first doubt. False: look closely (the general path, which
    says what is wrong)."""
    medications = request.medications
    per_request = settings.max_medications_per_request
    if len(medications) > per_request or len(orders) != len(medications):
        return False
    for order, found in zip(medications, orders, strict=True):
        if found or len(order.ingredients) > MAX_INGREDIENTS_PER_ORDER:
            return False
    limit = settings.max_text_length
    request_id = request.request_id
    if len(request_id) > limit or not (
        request_id.isprintable() or CONTROL_CHARACTERS.search(request_id) is None
    ):
        return False
    patient = request.patient
    if not (
        0 <= patient.age_years <= MAX_AGE_YEARS
        and 0 <= patient.pain_duration_weeks <= MAX_PAIN_DURATION_WEEKS
    ):
        return False
    acknowledgements = request.acknowledgements
    if len(acknowledgements) > MAX_ACKNOWLEDGEMENTS_PER_REQUEST:
        return False
    rule_ids = knowledge.rule_ids if knowledge is not None else None
    for ack in acknowledgements:
        reason = ack.reason
        if (
            (rule_ids is not None and ack.rule_id not in rule_ids)
            or len(reason) > MAX_REASON_LENGTH
            or not (reason.isprintable() or CONTROL_CHARACTERS.search(reason) is None)
            or not reason.strip()
            or len(ack.drugs) > per_request
        ):
            return False
        for name in ack.drugs:
            if len(name) > limit or not (
                name.isprintable() or CONTROL_CHARACTERS.search(name) is None
            ):
                return False
    return True


def validate(
    request: RegimenRequest, settings: Settings, knowledge: Knowledge | None = None
) -> list[FieldViolation]:
    """Every field of ``request`` that cannot be checked (empty when it can)."""
    error = request_error(request, settings, knowledge)
    return [] if error is None else list(error.violations)


def _patient(patient: Patient, bad: _Collector) -> None:
    """The patient's violations, under ``patient`` (no scoped collector made for a patient
    with none, the common case)."""
    if not 0 <= patient.age_years <= MAX_AGE_YEARS:
        bad.add(f"must be between 0 (unknown) and {MAX_AGE_YEARS}", "patient", "age_years")
    if patient.pain_duration_weeks < 0:
        bad.add("must not be negative (0 = unknown)", "patient", "pain_duration_weeks")
    elif patient.pain_duration_weeks > MAX_PAIN_DURATION_WEEKS:
        bad.add(f"must be at most {MAX_PAIN_DURATION_WEEKS}", "patient", "pain_duration_weeks")


def order_violations(
    order: MedicationOrder,
    limit: int,
    knowledge: Knowledge | None,
    match: NameMatch | object | None = LOOK_UP,
) -> OrderViolations:
    """What cannot be checked in one order: (path within the order, description) each.

    ``match``: what the order's drug name (stripped) resolves to, when the caller has looked it
    up (the order's record resolves it once for validation and resolution alike); ``LOOK_UP``:
    look it up here, if needed."""
    if knowledge is not None and match is not LOOK_UP and _plainly_checkable(order, limit, match):
        return ()  # the common case, decided without a collector
    items: list[FieldViolation] = []
    _order(order, _Collector(items), limit, knowledge, match)
    if not items:
        return ()  # the common case
    return tuple((violation.path, violation.description) for violation in items)


def _plainly_checkable(order: MedicationOrder, limit: int, match: object) -> bool:
    """True when ``_order`` would find nothing wrong with an order without ingredients, whose
    drug name (stripped) the knowledge base resolves to ``match`` (None: unknown): the same
    tests, each a plain comparison that stops at the first doubt. False: look closely (an
    order with ingredients always is)."""
    drug = order.drug
    if (
        order.ingredients
        or len(drug) > limit
        or not (drug.isprintable() or CONTROL_CHARACTERS.search(drug) is None)
        or not drug.strip()
    ):
        return False
    doses_per_day = order.doses_per_day
    # the amounts are floats: compared with float bounds (0.0, the MAX_ floats), a comparison
    # Python does without converting an int (the same answer for an int or NaN)
    if not (
        0.0 <= order.dose_mg <= MAX_DOSE_MG
        and 0.0 <= order.rate_mcg_per_hour <= MAX_RATE_MCG_PER_HOUR
        and 0.0 <= doses_per_day <= MAX_DOSES_PER_DAY
        and 0.0 <= order.units_per_dose <= MAX_UNITS_PER_DOSE
        and 0.0 <= order.previous_dose_mg <= MAX_DOSE_MG
        and 0 <= order.planned_days <= MAX_PLANNED_DAYS
    ):
        return False
    indication = order.indication
    if len(indication) > limit or not (
        indication.isprintable() or CONTROL_CHARACTERS.search(indication) is None
    ):
        return False
    if order.action is _STOP:
        return True
    if order.stopped_on is not None:
        return False
    # _amounts: a patch's rate is its dose; otherwise doses per day, and a dose unless a
    # product's unit holds it (a combination product refuses a plain dose_mg)
    if order.route is _TRANSDERMAL and order.rate_mcg_per_hour > 0:
        return True
    if doses_per_day == 0:
        return False
    if match is None:
        return True  # an unknown name is an UNKNOWN_DRUG finding, not a missing dose
    found = cast("NameMatch", match)
    if found.product or found.candidates:
        return not (order.dose_mg and len(found.ingredients) > 1)
    return order.dose_mg != 0


def _order(
    order: MedicationOrder,
    bad: _Collector,
    limit: int,
    knowledge: Knowledge | None,
    match: NameMatch | object | None = LOOK_UP,
) -> None:
    drug = order.drug
    # a text is looked at closely (_Collector.text) only when it is too long or has a control
    # character
    if len(drug) > limit or not (drug.isprintable() or CONTROL_CHARACTERS.search(drug) is None):
        bad.text(drug, limit, "drug")
    ingredients = order.ingredients
    if ingredients:
        for j, part in enumerate(ingredients):
            bad.text(part.name, limit, "ingredients", j, "name")
            if not part.name.strip():
                bad.add("is required", "ingredients", j, "name")
            bad.number(part.dose_mg, "ingredients", j, "dose_mg", positive=True)
    elif not drug.strip():
        bad.add("is required (a generic or brand name, rxcui:NNNN, or ingredients)", "drug")
    # each amount is looked at closely only when it is out of its range (or NaN)
    if not 0 <= order.dose_mg <= MAX_DOSE_MG:
        bad.number(order.dose_mg, "dose_mg")
    if not 0 <= order.rate_mcg_per_hour <= MAX_RATE_MCG_PER_HOUR:
        bad.number(order.rate_mcg_per_hour, "rate_mcg_per_hour", maximum=MAX_RATE_MCG_PER_HOUR)
    if not 0 <= order.doses_per_day <= MAX_DOSES_PER_DAY:
        bad.number(order.doses_per_day, "doses_per_day", maximum=MAX_DOSES_PER_DAY)
    if not 0 <= order.units_per_dose <= MAX_UNITS_PER_DOSE:
        bad.number(order.units_per_dose, "units_per_dose", maximum=MAX_UNITS_PER_DOSE)
    if not 0 <= order.previous_dose_mg <= MAX_DOSE_MG:
        bad.number(order.previous_dose_mg, "previous_dose_mg")
    if order.planned_days < 0:
        bad.add("must not be negative (0 = open-ended)", "planned_days")
    elif order.planned_days > MAX_PLANNED_DAYS:
        bad.add(f"must be at most {MAX_PLANNED_DAYS} days", "planned_days")
    if order.action is not _STOP:  # MedicationOrder.is_active
        _amounts(order, bad, knowledge, match)
        if order.stopped_on is not None:
            bad.add("only a STOP order has a stop date", "stopped_on")
    indication = order.indication
    if len(indication) > limit or not (
        indication.isprintable() or CONTROL_CHARACTERS.search(indication) is None
    ):
        bad.text(indication, limit, "indication")


def _amounts(
    order: MedicationOrder,
    bad: _Collector,
    knowledge: Knowledge | None,
    known: NameMatch | object | None = LOOK_UP,
) -> None:
    """A dose is needed wherever the order is part of the resulting regimen."""
    transdermal = order.route is _TRANSDERMAL
    if transdermal and order.rate_mcg_per_hour > 0:
        return  # a patch: its rate is its dose
    if not order.doses_per_day > 0 and math.isfinite(order.doses_per_day):
        bad.add(
            "must be greater than 0 (for as-needed orders, the most the sig allows)",
            "doses_per_day",
        )
    if order.ingredients:
        return
    drug = order.drug.strip()
    match: NameMatch | None
    if not drug or knowledge is None:
        match = None
    elif known is LOOK_UP:
        match = knowledge.resolver.resolve(drug)
    else:
        match = cast("NameMatch | None", known)  # the record looked it up
    if match is None:
        if knowledge is not None and drug:
            return  # an unknown name is an UNKNOWN_DRUG finding, not a missing dose
    # NameMatch's properties read inline: is_combination (more than one ingredient),
    # is_ambiguous (candidates), is_product (a product without candidates)
    elif match.product or match.candidates:
        if order.dose_mg and len(match.ingredients) > 1:
            bad.add(
                f"{drug!r} is a combination product: give units_per_dose or ingredients, not dose_mg",
                "dose_mg",
            )
        return  # a product's unit holds its dose (units_per_dose, 1 by default)
    if order.dose_mg == 0:
        if transdermal:
            bad.add("a transdermal order needs its rate (or dose_mg)", "rate_mcg_per_hour")
        else:
            bad.add("must be greater than 0", "dose_mg")


def _acknowledgement(
    ack: Acknowledgement, bad: _Collector, limit: int, rule_ids: frozenset[str] | None
) -> None:
    if rule_ids is not None and ack.rule_id not in rule_ids:
        bad.add(f"unknown rule id {ack.rule_id[:60]!r} (see ListRules)", "rule_id")
    bad.text(ack.reason, MAX_REASON_LENGTH, "reason")
    if not ack.reason.strip():
        bad.add("is required: say why the finding is accepted", "reason")
    for j, name in enumerate(ack.drugs):
        bad.text(name, limit, "drugs", j)


def _normalized_acknowledgement(ack: Acknowledgement) -> Acknowledgement:
    """``ack`` with its texts stripped (itself when there is nothing to strip)."""
    reason, drugs = ack.reason, ack.drugs
    if len(reason.strip()) == len(reason) and (
        not drugs or all(_stripped(name) is name for name in drugs)
    ):
        return ack
    return Acknowledgement(ack.rule_id, reason.strip(), tuple(name.strip() for name in drugs))


def _stripped(text: str) -> str:
    """``text.strip()``; the very same object when there is nothing to strip (CPython)."""
    stripped = text.strip()
    return text if len(stripped) == len(text) else stripped


def normalized(
    request: RegimenRequest, checked: Sequence[MedicationOrder] | None = None
) -> RegimenRequest:
    """``request`` with the surrounding white space of its texts removed (itself when none).

    Called after validation, which sees the texts as received (a control character at either
    end must be refused, not stripped away). ``checked``: the orders already normalized (from
    their records), one per medication.
    """
    received = request.medications
    orders = tuple(checked if checked is not None else map(normalized_order, received))
    same = len(orders) == len(received) and all(map(operator.is_, orders, received))
    acks = received_acks = request.acknowledgements
    if acks:
        acks = tuple(map(_normalized_acknowledgement, acks))
        same = same and all(map(operator.is_, acks, received_acks))
    request_id = request.request_id
    if len(request_id.strip()) != len(request_id):
        request_id = request_id.strip()
    elif same:
        return request  # the common case: nothing to strip
    return replace(request, request_id=request_id, medications=orders, acknowledgements=acks)


def normalized_order(order: MedicationOrder) -> MedicationOrder:
    """``order`` with the surrounding white space of its texts removed (itself when none)."""
    drug, indication = order.drug, order.indication
    if (
        not order.ingredients
        and len(drug.strip()) == len(drug)
        and len(indication.strip()) == len(indication)
    ):
        return order  # the common case: nothing to strip
    drug, indication = _stripped(drug), _stripped(indication)
    parts = tuple(
        part
        if _stripped(part.name) is part.name
        else IngredientDose(part.name.strip(), part.dose_mg)
        for part in order.ingredients
    )
    if (
        drug is order.drug
        and indication is order.indication
        and all(new is old for new, old in zip(parts, order.ingredients, strict=True))
    ):
        return order
    return replace(order, drug=drug, indication=indication, ingredients=parts)
