"""Conversion between regimenguard.v1 messages and the domain model, validating on the way in.

Every field that cannot be checked is collected as a FieldViolation with its path, so a caller
learns about all of them at once; nothing here raises anything but RequestInvalid for input.
"""

from __future__ import annotations

import datetime as dt
import math
import re

from regimen.cache import BoundedCache
from regimen.engine import RegimenChecker
from regimen.headlines import headline
from regimen.model import (
    Acknowledgement,
    CheckResult,
    Finding,
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
)
from regimen.validation import FieldViolation, RequestInvalid
from regimenguard.v1 import regimen_checker_pb2 as pb

# Unicode category Cc (C0 and C1 controls, DEL) except tab.
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f]")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
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

ROUTES = {
    pb.ROUTE_UNSPECIFIED: Route.ORAL,
    pb.ROUTE_ORAL: Route.ORAL,
    pb.ROUTE_TOPICAL: Route.TOPICAL,
    pb.ROUTE_TRANSDERMAL: Route.TRANSDERMAL,
    pb.ROUTE_INJECTION: Route.INJECTION,
    pb.ROUTE_INTRANASAL: Route.INTRANASAL,
    pb.ROUTE_SUBLINGUAL: Route.SUBLINGUAL,
    pb.ROUTE_RECTAL: Route.RECTAL,
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
VERDICT_TO_PROTO = {
    Verdict.ACCEPT: pb.VERDICT_ACCEPT,
    Verdict.REVIEW: pb.VERDICT_REVIEW,
    Verdict.REJECT: pb.VERDICT_REJECT,
}


_FINDINGS: BoundedCache[pb.Finding] = BoundedCache()


def today_utc() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


class _Violations:
    """Collects violations; field paths are relative to ``prefix`` and built only when needed."""

    def __init__(self, items: list[FieldViolation] | None = None, prefix: str = "") -> None:
        self.items: list[FieldViolation] = [] if items is None else items
        self.prefix = prefix

    def scoped(self, prefix: str) -> _Violations:
        """The same list, for the fields of one item (``medications[2]``)."""
        return _Violations(self.items, f"{self.prefix}.{prefix}" if self.prefix else prefix)

    def add(self, field: str, description: str) -> None:
        path = f"{self.prefix}.{field}" if self.prefix else field
        self.items.append(FieldViolation(path, description))

    def text(self, field: str, value: str, limit: int) -> str:
        if len(value) > limit:
            self.add(field, f"must be at most {limit} characters (got {len(value)})")
        elif _CONTROL.search(value):
            self.add(field, "must not contain control characters")
        return value.strip()

    def date(self, field: str, value: str) -> dt.date | None:
        if not value:
            return None
        if _DATE.match(value):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                pass
        self.add(field, f"must be a date YYYY-MM-DD (got {value[:40]!r})")
        return None

    def number(
        self, field: str, value: float, *, positive: bool = False, maximum: float = MAX_DOSE_MG
    ) -> float:
        if not math.isfinite(value):
            self.add(field, "must be a finite number")
            return 0.0
        if value < 0 or (positive and value == 0):
            self.add(field, "must be greater than 0" if positive else "must not be negative")
            return 0.0
        if value > maximum:
            self.add(field, f"must be at most {maximum:g} (got {value:g})")
            return 0.0
        return value

    def count(self, field: str, count: int, limit: int, what: str) -> None:
        if count > limit:
            self.add(field, f"at most {limit} {what} (got {count})")

    def enum(self, field: str, value: int, table: dict) -> object:  # type: ignore[type-arg]
        if value not in table:
            self.add(field, f"unknown enum value {value}")
            return next(iter(table.values()))
        return table[value]


def request_from_proto(
    message: pb.CheckRegimenRequest, checker: RegimenChecker, *, today: dt.date | None = None
) -> RegimenRequest:
    """The domain request, or RequestInvalid naming every field that cannot be checked."""
    settings = checker.knowledge.settings
    bad = _Violations()
    request_id = bad.text("request_id", message.request_id, settings.max_text_length)
    as_of = bad.date("as_of", message.as_of) or today or today_utc()
    patient = _patient(message.patient, bad)
    count = len(message.medications)
    if count > settings.max_medications_per_request:
        bad.add(
            "medications",
            f"at most {settings.max_medications_per_request} medications per request (got {count})",
        )
        raise RequestInvalid(bad.items, reason="TOO_MANY_MEDICATIONS")
    # Oversized repeated fields are refused before any of their items is looked at.
    before = len(bad.items)
    bad.count(
        "acknowledgements",
        len(message.acknowledgements),
        MAX_ACKNOWLEDGEMENTS_PER_REQUEST,
        "acknowledgements per request",
    )
    for i, order in enumerate(message.medications):
        bad.count(
            f"medications[{i}].ingredients",
            len(order.ingredients),
            MAX_INGREDIENTS_PER_ORDER,
            "ingredients per order",
        )
    for i, ack in enumerate(message.acknowledgements[:MAX_ACKNOWLEDGEMENTS_PER_REQUEST]):
        bad.count(
            f"acknowledgements[{i}].drugs",
            len(ack.drugs),
            settings.max_medications_per_request,
            "drugs per acknowledgement",
        )
    if len(bad.items) > before:
        raise RequestInvalid(bad.items, reason="TOO_MANY_ITEMS")
    medications = tuple(
        _order(order, f"medications[{i}]", bad, checker)
        for i, order in enumerate(message.medications)
    )
    acknowledgements = tuple(
        _acknowledgement(ack, f"acknowledgements[{i}]", bad, checker)
        for i, ack in enumerate(message.acknowledgements)
    )
    if bad.items:
        raise RequestInvalid(bad.items)
    return RegimenRequest(request_id, as_of, patient, medications, acknowledgements)


def _patient(message: pb.Patient, bad: _Violations) -> Patient:
    if not 0 <= message.age_years <= MAX_AGE_YEARS:
        bad.add("patient.age_years", f"must be between 0 (unknown) and {MAX_AGE_YEARS}")
    if message.pain_duration_weeks < 0:
        bad.add("patient.pain_duration_weeks", "must not be negative (0 = unknown)")
    elif message.pain_duration_weeks > MAX_PAIN_DURATION_WEEKS:
        bad.add("patient.pain_duration_weeks", f"must be at most {MAX_PAIN_DURATION_WEEKS}")
    return Patient(
        age_years=max(message.age_years, 0),
        hepatic_impairment=message.hepatic_impairment,
        renal_impairment=message.renal_impairment,
        alcohol_use_disorder=message.alcohol_use_disorder,
        substance_use_disorder=message.substance_use_disorder,
        seizure_disorder=message.seizure_disorder,
        gi_bleed_history=message.gi_bleed_history,
        cardiovascular_disease=message.cardiovascular_disease,
        refractory_symptoms=message.refractory_symptoms,
        pain_duration_weeks=max(message.pain_duration_weeks, 0),
    )


def _order(
    message: pb.MedicationOrder, path: str, bad: _Violations, checker: RegimenChecker
) -> MedicationOrder:
    bad = bad.scoped(path)
    limit = checker.knowledge.settings.max_text_length
    drug = bad.text("drug", message.drug, limit)
    route = bad.enum("route", message.route, ROUTES)
    action = bad.enum("action", message.action, ACTIONS)
    response = bad.enum("response", message.response, RESPONSES)
    ingredients = tuple(
        IngredientDose(
            name=bad.text(f"ingredients[{j}].name", part.name, limit)
            or _missing(bad, f"ingredients[{j}].name"),
            dose_mg=bad.number(f"ingredients[{j}].dose_mg", part.dose_mg, positive=True),
        )
        for j, part in enumerate(message.ingredients)
    )
    if not drug and not ingredients:
        bad.add("drug", "is required (a generic or brand name, rxcui:NNNN, or ingredients)")
    dose_mg = bad.number("dose_mg", message.dose_mg)
    rate = bad.number("rate_mcg_per_hour", message.rate_mcg_per_hour, maximum=MAX_RATE_MCG_PER_HOUR)
    doses_per_day = bad.number("doses_per_day", message.doses_per_day, maximum=MAX_DOSES_PER_DAY)
    units = bad.number("units_per_dose", message.units_per_dose, maximum=MAX_UNITS_PER_DOSE)
    previous = bad.number("previous_dose_mg", message.previous_dose_mg)
    if message.planned_days < 0:
        bad.add("planned_days", "must not be negative (0 = open-ended)")
    elif message.planned_days > MAX_PLANNED_DAYS:
        bad.add("planned_days", f"must be at most {MAX_PLANNED_DAYS} days")
    if action is not OrderAction.STOP:
        _check_amounts(message, bad, checker, drug=drug, ingredients=ingredients, route=route)
    return MedicationOrder(
        drug=drug,
        dose_mg=dose_mg,
        ingredients=ingredients,
        rate_mcg_per_hour=rate,
        doses_per_day=doses_per_day,
        as_needed=message.as_needed,
        route=route,  # type: ignore[arg-type]
        extended_release=message.extended_release,
        action=action,  # type: ignore[arg-type]
        started_on=bad.date("started_on", message.started_on),
        previous_dose_mg=previous,
        planned_days=max(message.planned_days, 0),
        response=response,  # type: ignore[arg-type]
        indication=bad.text("indication", message.indication, limit),
        units_per_dose=units,
    )


def _check_amounts(
    message: pb.MedicationOrder,
    bad: _Violations,
    checker: RegimenChecker,
    *,
    drug: str,
    ingredients: tuple[IngredientDose, ...],
    route: object,
) -> None:
    """A dose is needed wherever the order is part of the resulting regimen (``bad`` is scoped)."""
    if route is Route.TRANSDERMAL and message.rate_mcg_per_hour > 0:
        return  # a patch: its rate is its dose
    if not message.doses_per_day > 0 and math.isfinite(message.doses_per_day):
        bad.add(
            "doses_per_day",
            "must be greater than 0 (for as-needed orders, the most the sig allows)",
        )
    if ingredients:
        return
    match = checker.knowledge.resolver.resolve(drug) if drug else None
    if match is not None and (match.is_combination or match.is_ambiguous):
        if message.dose_mg:
            bad.add(
                "dose_mg",
                f"{drug!r} is a combination product: give units_per_dose or ingredients, not dose_mg",
            )
        return
    if message.dose_mg == 0:
        if route is Route.TRANSDERMAL:
            bad.add("rate_mcg_per_hour", "a transdermal order needs its rate (or dose_mg)")
        else:
            bad.add("dose_mg", "must be greater than 0")


def _missing(bad: _Violations, field: str) -> str:
    bad.add(field, "is required")
    return ""


def _acknowledgement(
    message: pb.Acknowledgement, path: str, bad: _Violations, checker: RegimenChecker
) -> Acknowledgement:
    bad = bad.scoped(path)
    if message.rule_id not in checker.rule_ids:
        bad.add("rule_id", f"unknown rule id {message.rule_id[:60]!r} (see ListRules)")
    reason = bad.text("reason", message.reason, MAX_REASON_LENGTH)
    if not reason:
        bad.add("reason", "is required: say why the finding is accepted")
    drugs = tuple(
        bad.text(f"drugs[{j}]", name, checker.knowledge.settings.max_text_length)
        for j, name in enumerate(message.drugs)
    )
    return Acknowledgement(message.rule_id, reason, drugs)


def response_from_result(result: CheckResult) -> pb.CheckRegimenResponse:
    summary = result.summary
    return pb.CheckRegimenResponse(
        request_id=result.request_id,
        verdict=VERDICT_TO_PROTO[result.verdict],
        findings=[_finding(finding, headline(finding, summary)) for finding in result.findings],
        summary=pb.RegimenSummary(
            acetaminophen_mg_per_day=summary.acetaminophen_mg_per_day,
            acetaminophen_limit_mg_per_day=summary.acetaminophen_limit_mg_per_day,
            morphine_mg_equivalents_per_day=summary.morphine_mg_equivalents_per_day,
            serotonergic_agents=summary.serotonergic_agents,
            orders=[_resolved_order(order) for order in summary.orders],
            interactions=[
                pb.FiredInteraction(
                    node_a=fired.node_a,
                    node_b=fired.node_b,
                    rule_id=fired.rule_id,
                    severity=SEVERITY_TO_PROTO[fired.severity],
                    drugs=fired.drugs,
                )
                for fired in summary.interactions
            ],
        ),
        knowledge_base_version=result.knowledge_base_version,
    )


def _finding(finding: Finding, title: str) -> pb.Finding:
    """The message for a finding; findings recur (same drugs, same numbers), so it is memoized."""
    return _FINDINGS.get_or_compute((finding, title), lambda: _new_finding(finding, title))


def _new_finding(finding: Finding, title: str) -> pb.Finding:
    return pb.Finding(
        rule_id=finding.rule_id,
        severity=SEVERITY_TO_PROTO[finding.severity],
        drugs=finding.drugs,
        message=finding.message,
        recommendation=finding.recommendation,
        guideline_section=finding.guideline_section,
        acknowledged=finding.acknowledged,
        ncpdp_reason_code=finding.ncpdp_reason_code,
        headline=title,
    )


def _resolved_order(order: ResolvedOrder) -> pb.ResolvedOrder:
    return pb.ResolvedOrder(
        medication_index=order.index,
        drug=order.order.drug,
        product=order.product,
        ingredients=[
            pb.ResolvedIngredient(
                name=ingredient.name,
                rxcui=ingredient.rxcui,
                mg_per_dose=ingredient.mg_per_dose or 0.0,
                mg_per_day=ingredient.mg_per_day or 0.0,
                classes=ingredient.classes,
            )
            for ingredient in order.ingredients
        ],
        resolved=order.resolved,
        action=ACTION_TO_PROTO[order.order.action],
    )
