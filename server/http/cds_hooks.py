"""CDS Hooks 2.0: discovery, the order-select and order-sign services, and card feedback.

A service call's regimen: ``context.draftOrders`` (a Bundle of MedicationRequest) are the orders
being started; the active MedicationRequests of the prefetch are the continuing regimen;
``context.selections`` (order-select) says which drafts were just selected, and only cards
about them are returned. Prefetch values may be a resource, a searchset Bundle or null, and
resources are found by ``resourceType`` (prefetch keys carry no meaning). What the prefetch
lacks is fetched from ``fhirServer`` with ``fhirAuthorization`` when both are given.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from regimenguard.fhir.reader import FhirInvalid, Issue
from regimenguard.fhir.regimen import Located, MappedRegimen, RegimenMapper
from regimenguard.regimen.service import RegimenService
from regimenguard.regimen.validation import RequestInvalid
from regimenguard.server.http.auth import AuthError, TokenVerifier
from regimenguard.server.http.cards import CardMaker, card_rule_ids
from regimenguard.server.http.errors import operation_outcome, outcome
from regimenguard.server.http.fhir_fetch import FhirFetchError, fetch_missing
from regimenguard.server.http.metrics import HttpMetrics

log = logging.getLogger("regimenguard.cds")
PATIENT_ID = "{{context.patientId}}"
PREFETCH = {
    "patient": f"Patient/{PATIENT_ID}",
    # resolved Conditions too: a history of GI bleeding or substance use disorder still counts
    "conditions": f"Condition?patient={PATIENT_ID}&clinical-status=active,recurrence,relapse,resolved",
    "medications": f"MedicationRequest?patient={PATIENT_ID}&status=active",
}
SERVICES = {
    "regimenguard-order-select": {
        "hook": "order-select",
        "title": "RegimenGuard: low back pain regimen check (order select)",
        "description": (
            "Checks the selected medication orders against the rest of the regimen for subacute "
            "and chronic low back pain: doses, acetaminophen totals, MME, interactions, "
            "guideline fit. Cards only for the selected orders."
        ),
    },
    "regimenguard-order-sign": {
        "hook": "order-sign",
        "title": "RegimenGuard: low back pain regimen check (order sign)",
        "description": (
            "Checks every draft medication order with the active medication list before "
            "signing, for subacute and chronic low back pain, with suggestions that make the "
            "change (replace, lower, remove, add naloxone)."
        ),
    },
}
FEEDBACK_OUTCOMES = frozenset({"accepted", "overridden"})
MAX_REMEMBERED_CARDS = 50_000


@dataclass
class CdsContext:
    """What the CDS routes share (built once by create_http_app)."""

    service: RegimenService
    mapper: RegimenMapper
    cards: CardMaker
    verifier: TokenVerifier
    metrics: HttpMetrics
    today: Callable[[], dt.date]
    base_url: str = ""  # the audience of tokens; empty: taken from the request's own URL
    override_codes: frozenset[str] = frozenset()
    issued: OrderedDict[str, str] = field(default_factory=OrderedDict)  # card uuid -> rule id

    def remember(self, cards: dict[str, str]) -> None:
        self.issued.update(cards)
        while len(self.issued) > MAX_REMEMBERED_CARDS:
            self.issued.popitem(last=False)


def routes(ctx: CdsContext) -> list[Route]:
    async def discovery(request: Request) -> Response:
        return JSONResponse(
            {
                "services": [
                    {"id": sid, **info, "prefetch": PREFETCH, "usageRequirements": _USAGE}
                    for sid, info in SERVICES.items()
                ]
            }
        )

    async def admit(request: Request) -> tuple[str, Any] | Response:
        """The service id and JSON body of a call to a known service by an authorised caller,
        or the response that refuses it (404, 401, 400)."""
        service_id = request.path_params["service_id"]
        if service_id not in SERVICES:
            return outcome(f"no CDS service {service_id!r}", code="not-found", status=404)
        denied = await _authorize(ctx, request, service_id)
        if denied is not None:
            return denied
        body = await _json_body(request)
        if isinstance(body, Response):
            return body
        return service_id, body

    async def call(request: Request) -> Response:
        admitted = await admit(request)
        if isinstance(admitted, Response):
            return admitted
        service_id, body = admitted
        parsed = _parse_call(body, SERVICES[service_id]["hook"])
        if isinstance(parsed, Response):
            return parsed
        fetch_note = None
        if parsed.missing and body.get("fhirServer"):
            try:
                fetched = await fetch_missing(body, parsed.patient_id, parsed.missing)
                parsed.add_fetched(fetched)
            except FhirFetchError as error:
                fetch_note = str(error)
                log.warning("CDS call: FHIR server fetch failed: %s", error)
            except ValueError as error:
                return outcome(str(error), expression="fhirServer")
        try:
            mapped = ctx.mapper.map(
                request_id=str(body.get("hookInstance", ""))[:200],
                as_of=ctx.today(),
                patient=parsed.patient,
                conditions=parsed.conditions,
                drafts=parsed.drafts,
                actives=parsed.actives,
                medications=parsed.medications,
                selections=parsed.selections,
            )
        except FhirInvalid as invalid:
            return operation_outcome(invalid.issues)
        call_record = request.state.call
        try:
            result = await run_in_threadpool(ctx.service.check, mapped.request, call=call_record)
        except RequestInvalid as invalid:
            return operation_outcome(_fhir_issues(invalid, mapped))
        cards = ctx.cards.cards(result, mapped)
        if fetch_note:
            cards.append(
                {
                    "uuid": ctx.cards.new_id(),
                    "summary": "Part of the record could not be fetched",
                    "indicator": "info",
                    "detail": f"RegimenGuard checked without it: {fetch_note}.",
                    "source": {"label": "RegimenGuard"},
                }
            )
        ctx.remember(card_rule_ids(cards))
        return JSONResponse({"cards": cards})

    async def feedback(request: Request) -> Response:
        admitted = await admit(request)
        if isinstance(admitted, Response):
            return admitted
        service_id, body = admitted
        items = body.get("feedback")
        if not isinstance(items, list):
            return outcome("must be an array of card outcomes", expression="feedback")
        issues, records = [], []
        for i, item in enumerate(items):
            path = f"feedback[{i}]"
            if not isinstance(item, dict) or not isinstance(item.get("card"), str):
                issues.append(Issue(f"{path}.card", "is required (the card's uuid)"))
                continue
            result = item.get("outcome")
            if result not in FEEDBACK_OUTCOMES:
                issues.append(Issue(f"{path}.outcome", "must be accepted or overridden"))
                continue
            reason = "none"
            override = item.get("overrideReason")
            if result == "overridden" and isinstance(override, dict):
                coding = override.get("reason")
                code = coding.get("code") if isinstance(coding, dict) else None
                reason = code if isinstance(code, str) and code in ctx.override_codes else "other"
            records.append((ctx.issued.get(item["card"], "unknown"), result, reason))
        if issues:
            return operation_outcome(issues)
        for rule_id, result, reason in records:
            ctx.metrics.feedback.labels(rule_id, result).inc()
            if result == "overridden":
                ctx.metrics.override_reasons.labels(rule_id, reason).inc()
            # rule ids and reason codes only: a user comment may name the patient
            log.info(
                json.dumps(
                    {
                        "event": "cds_feedback",
                        "service": service_id,
                        "rule_id": rule_id,
                        "outcome": result,
                        "override_reason": reason,
                    },
                    separators=(",", ":"),
                )
            )
        return JSONResponse({})

    return [
        Route("/cds-services", discovery, methods=["GET"]),
        Route("/cds-services/{service_id}", call, methods=["POST"]),
        Route("/cds-services/{service_id}/feedback", feedback, methods=["POST"]),
    ]


_USAGE = (
    "Send draft MedicationRequests coded with RxNorm (or with a name and dose); prefetch the "
    "Patient, Conditions and active MedicationRequests, or give fhirServer and "
    "fhirAuthorization. Bearer JWT as CDS Hooks 2.0 specifies."
)


async def _authorize(ctx: CdsContext, request: Request, service_id: str) -> Response | None:
    if not ctx.verifier.enabled:
        return None
    base = ctx.base_url or str(request.base_url).rstrip("/")
    audience = f"{base}/cds-services/{service_id}"
    try:
        # in a thread: the first token of an issuer configured by jwks_url fetches its keys
        await run_in_threadpool(ctx.verifier.verify, request.headers.get("authorization"), audience)
    except AuthError as error:
        response = outcome(str(error), code="login", status=401)
        response.headers["WWW-Authenticate"] = 'Bearer realm="cds-services"'
        return response
    return None


async def _json_body(request: Request) -> dict[str, Any] | Response:
    raw = await request.body()
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return outcome("the request body is not JSON")
    if not isinstance(body, dict):
        return outcome("the request body must be a JSON object")
    return body


@dataclass
class ParsedCall:
    patient_id: str
    drafts: list[Located]
    selections: frozenset[str]
    patient: Located | None = None
    conditions: list[Located] = field(default_factory=list)
    actives: list[Located] = field(default_factory=list)
    medications: dict[str, dict[str, Any]] = field(default_factory=dict)
    missing: set[str] = field(default_factory=set)  # "Patient", "Condition", "MedicationRequest"

    def add(self, resource: dict[str, Any], where: str) -> None:
        kind = resource.get("resourceType")
        if kind == "Patient" and self.patient is None:
            self.patient = Located(resource, where)
        elif kind == "Condition":
            self.conditions.append(Located(resource, where))
        elif kind == "MedicationRequest":
            self.actives.append(Located(resource, where))
        elif kind == "Medication" and isinstance(resource.get("id"), str):
            self.medications[f"Medication/{resource['id']}"] = resource

    def add_fetched(self, fetched: list[tuple[dict[str, Any], str]]) -> None:
        for resource, where in fetched:
            self.add(resource, where)


def _parse_call(body: dict[str, Any], hook: str) -> ParsedCall | Response:
    if body.get("hook") != hook:
        return outcome(f"this service answers the {hook} hook", expression="hook")
    context = body.get("context")
    if not isinstance(context, dict):
        return outcome("is required (a JSON object)", expression="context")
    patient_id = context.get("patientId")
    if not isinstance(patient_id, str) or not patient_id.strip():
        return outcome("is required", expression="context.patientId")
    patient_id = patient_id.strip().removeprefix("Patient/")
    selections = context.get("selections", [])
    if not isinstance(selections, list) or not all(isinstance(s, str) for s in selections):
        return outcome("must be an array of references", expression="context.selections")
    drafts_value = context.get("draftOrders")
    if not isinstance(drafts_value, dict):
        return outcome(
            "is required (a Bundle of MedicationRequest)", expression="context.draftOrders"
        )
    parsed = ParsedCall(
        patient_id=patient_id,
        drafts=[],
        selections=frozenset(s if "/" in s else f"MedicationRequest/{s}" for s in selections),
    )
    drafts_found = _resources(drafts_value, "context.draftOrders")
    if isinstance(drafts_found, Response):
        return drafts_found
    for resource, where in drafts_found:
        if resource.get("resourceType") == "MedicationRequest":
            parsed.drafts.append(Located(resource, where))
        elif resource.get("resourceType") == "Medication":
            parsed.add(resource, where)
    prefetch = body.get("prefetch")
    prefetch = {} if prefetch is None else prefetch
    if not isinstance(prefetch, dict):
        return outcome("must be a JSON object", expression="prefetch")
    for key, value in prefetch.items():
        if value is None:
            continue  # the EHR had nothing (or did not look): null is allowed
        if not isinstance(value, dict):
            return outcome(
                "must be a FHIR resource, a Bundle or null", expression=f"prefetch.{key}"
            )
        found = _resources(value, f"prefetch.{key}")
        if isinstance(found, Response):
            return found
        for resource, where in found:
            parsed.add(resource, where)
    present = {
        resource.resource.get("resourceType") for resource in [*parsed.conditions, *parsed.actives]
    }
    searched = {
        kind
        for key, kind in (("conditions", "Condition"), ("medications", "MedicationRequest"))
        if isinstance(prefetch.get(key), dict)
    }
    if parsed.patient is None:
        parsed.missing.add("Patient")
    for kind in ("Condition", "MedicationRequest"):
        if kind not in present and kind not in searched:
            parsed.missing.add(kind)
    return parsed


def _resources(value: dict[str, Any], where: str) -> list[tuple[dict[str, Any], str]] | Response:
    """A resource, or the resources of a Bundle's entries, with their places in the request."""
    kind = value.get("resourceType")
    if not isinstance(kind, str):
        return outcome("must be a FHIR resource (resourceType is required)", expression=where)
    if kind != "Bundle":
        return [(value, where)]
    entries = value.get("entry") or []
    if not isinstance(entries, list):
        return outcome("must be an array", expression=f"{where}.entry")
    found = []
    for i, entry in enumerate(entries):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
            return outcome("must hold a resource", expression=f"{where}.entry[{i}]")
        found.append((resource, f"{where}.entry[{i}].resource"))
    return found


# domain field of an order -> the MedicationRequest element it came from
_ELEMENTS = {
    "dose_mg": "dosageInstruction[0].doseAndRate[0].doseQuantity",
    "units_per_dose": "dosageInstruction[0].doseAndRate[0].doseQuantity",
    "ingredients": "medicationReference",
    "rate_mcg_per_hour": "dosageInstruction[0].doseAndRate[0].rateQuantity",
    "doses_per_day": "dosageInstruction[0].timing.repeat",
    "planned_days": "dispenseRequest.expectedSupplyDuration",
    "started_on": "authoredOn",
    "previous_dose_mg": "priorPrescription",
    "indication": "reasonCode",
    "drug": "medicationCodeableConcept",
}


def _fhir_issues(invalid: RequestInvalid, mapped: MappedRegimen) -> list[Issue]:
    """Domain validation failures named by the FHIR element they came from."""
    issues = []
    for violation in invalid.violations:
        path = violation.path
        if len(path) >= 3 and path[0] == "medications" and isinstance(path[1], int):
            source = mapped.sources[path[1]] if path[1] < len(mapped.sources) else None
            element = _ELEMENTS.get(str(path[2]), str(path[2]))
            where = ""
            if source is not None:
                rid = source.resource.get("id", "")
                where = f"MedicationRequest/{rid}" if rid else "a MedicationRequest"
            issues.append(Issue(f"MedicationRequest.{element}", violation.description, where))
        elif path and path[0] == "patient":
            issues.append(Issue("Patient", violation.description))
        else:
            issues.append(Issue(violation.fhir_path(), violation.description))
    return issues
