"""Builders of FHIR R4 resources and CDS Hooks requests shaped like real EHR traffic.

``fhir_from_scenario`` turns a CheckRegimenRequest (protobuf JSON, as in tests/scenarios.py)
into the CDS Hooks request an EHR would send for the same regimen, so the two doors can be
compared: START orders are draft orders, CONTINUE orders the prefetched active list, STOP
orders drafts with status ``stopped``, CHANGE_DOSE a draft whose ``priorPrescription`` is the
active order at the previous dose; patient flags are Conditions coded from the terminology
table, the age a birth date, the pain duration a low-back-pain Condition's onset.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from regimenguard.fhir.medication import THERAPY_RESPONSE_URL
from regimenguard.fhir.patient import REFRACTORY_URL
from regimenguard.fhir.terminology import ICD10CM, RXNORM, SNOMED, load_terminology

UCUM = "http://unitsofmeasure.org"
_TERMINOLOGY = load_terminology()


def coding(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    found = {"system": system, "code": code}
    if display:
        found["display"] = display
    return found


def quantity(value: float, code: str) -> dict[str, Any]:
    return {"value": value, "unit": code, "system": UCUM, "code": code}


def med_request(
    rid: str,
    *,
    text: str | None = None,
    rxnorm: str | None = None,
    display: str | None = None,
    dose: tuple[float, str] | None = None,
    dose_range: tuple[float, float, str] | None = None,
    rate: tuple[float, str] | None = None,
    frequency: float | None = None,
    period: float | None = None,
    period_unit: str = "d",
    frequency_max: float | None = None,
    period_max: float | None = None,
    time_of_day: list[str] | None = None,
    when: list[str] | None = None,
    timing_code: str | None = None,
    as_needed: bool | None = None,
    as_needed_for: str | None = None,
    max_per_period: tuple[float, str, float, str] | None = None,
    route: str | None = None,
    supply_days: float | None = None,
    authored: str | None = None,
    validity_start: str | None = None,
    validity_end: str | None = None,
    reason: str | None = None,
    status: str = "draft",
    prior: str | None = None,
    response: str | None = None,
    medication: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A MedicationRequest; every argument is one element (None: the element is absent)."""
    resource: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "id": rid,
        "status": status,
        "intent": "order",
        "subject": {"reference": "Patient/p1"},
        # what real EHRs add and a parser must ignore
        "extension": [{"url": "http://example.org/fhir/unknown", "valueString": "ignored"}],
    }
    if medication is not None:
        resource["contained"] = [medication]
        resource["medicationReference"] = {"reference": f"#{medication['id']}"}
    else:
        concept: dict[str, Any] = {}
        if rxnorm or display:
            concept["coding"] = [coding(RXNORM, rxnorm or "", display)]
        if text:
            concept["text"] = text
        resource["medicationCodeableConcept"] = concept
    dosage: dict[str, Any] = {}
    repeat: dict[str, Any] = {}
    for key, value in (
        ("frequency", frequency),
        ("frequencyMax", frequency_max),
        ("period", period),
        ("periodMax", period_max),
        ("timeOfDay", time_of_day),
        ("when", when),
    ):
        if value is not None:
            repeat[key] = value
    if period is not None:
        repeat["periodUnit"] = period_unit
    timing: dict[str, Any] = {}
    if repeat:
        timing["repeat"] = repeat
    if timing_code:
        timing["code"] = {
            "coding": [coding("http://hl7.org/fhir/ValueSet/timing-abbreviation", timing_code)]
        }
    if timing:
        dosage["timing"] = timing
    if as_needed is not None:
        dosage["asNeededBoolean"] = as_needed
    if as_needed_for:
        dosage["asNeededCodeableConcept"] = {"text": as_needed_for}
    dose_and_rate: dict[str, Any] = {}
    if dose is not None:
        dose_and_rate["doseQuantity"] = quantity(*dose)
    if dose_range is not None:
        low, high, unit = dose_range
        dose_and_rate["doseRange"] = {"low": quantity(low, unit), "high": quantity(high, unit)}
    if rate is not None:
        dose_and_rate["rateQuantity"] = quantity(*rate)
    if dose_and_rate:
        dosage["doseAndRate"] = [dose_and_rate]
    if max_per_period is not None:
        top, top_unit, bottom, bottom_unit = max_per_period
        dosage["maxDosePerPeriod"] = {
            "numerator": quantity(top, top_unit),
            "denominator": quantity(bottom, bottom_unit),
        }
    if route is not None:
        dosage["route"] = {"coding": [coding(SNOMED, route)]}
    if dosage:
        resource["dosageInstruction"] = [dosage]
    dispense: dict[str, Any] = {}
    if supply_days is not None:
        dispense["expectedSupplyDuration"] = quantity(supply_days, "d")
    validity = {"start": validity_start, "end": validity_end}
    if any(validity.values()):
        dispense["validityPeriod"] = {k: v for k, v in validity.items() if v is not None}
    if dispense:
        resource["dispenseRequest"] = dispense
    if authored is not None:
        resource["authoredOn"] = authored
    if reason is not None:
        resource["reasonCode"] = [{"text": reason}]
    if prior is not None:
        resource["priorPrescription"] = {"reference": prior}
    if response is not None:
        resource["extension"].append({"url": THERAPY_RESPONSE_URL, "valueCode": response})
    if extra:
        resource.update(extra)
    return resource


def medication(
    mid: str, *, text: str = "", form: str | None = None, ingredients=()
) -> dict[str, Any]:
    """A Medication (to contain or bundle): ``ingredients`` are (name, mg per unit) pairs."""
    resource: dict[str, Any] = {"resourceType": "Medication", "id": mid, "code": {"text": text}}
    if form:
        resource["form"] = {"text": form}
    if ingredients:
        resource["ingredient"] = [
            {
                "itemCodeableConcept": {"text": name},
                "strength": {
                    "numerator": quantity(mg, "mg"),
                    "denominator": quantity(1, "{tablet}"),
                },
            }
            for name, mg in ingredients
        ]
    return resource


def patient(birth: str | None = "1980-05-01", *, refractory: bool | None = None) -> dict[str, Any]:
    resource: dict[str, Any] = {"resourceType": "Patient", "id": "p1", "gender": "female"}
    if birth:
        resource["birthDate"] = birth
    if refractory is not None:
        resource["extension"] = [{"url": REFRACTORY_URL, "valueBoolean": refractory}]
    return resource


def condition(
    system: str, code: str, *, status: str | None = "active", onset: str | None = None
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Condition",
        "id": f"c-{code}",
        "subject": {"reference": "Patient/p1"},
        "code": {"coding": [coding(system, code)]},
    }
    if status:
        resource["clinicalStatus"] = {
            "coding": [coding("http://terminology.hl7.org/CodeSystem/condition-clinical", status)]
        }
    if onset:
        resource["onsetDateTime"] = onset
    return resource


def bundle(*resources: dict[str, Any], kind: str = "searchset") -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": kind,
        "entry": [{"resource": resource} for resource in resources],
    }


def cds_request(
    hook: str,
    drafts: list[dict[str, Any]],
    prefetch: dict[str, Any] | None = None,
    *,
    selections: list[str] | None = None,
    fhir_server: str | None = None,
    token: str | None = None,
) -> dict[str, Any]:
    context: dict[str, Any] = {
        "userId": "Practitioner/example",
        "patientId": "Patient/p1",
        "draftOrders": bundle(*drafts, kind="collection"),
    }
    if selections is not None:
        context["selections"] = selections
    body: dict[str, Any] = {"hookInstance": str(uuid.uuid4()), "hook": hook, "context": context}
    if prefetch is not None:
        body["prefetch"] = prefetch
    if fhir_server:
        body["fhirServer"] = fhir_server
        body["fhirAuthorization"] = {
            "access_token": token or "fhir-token",
            "token_type": "Bearer",
            "expires_in": 300,
            "scope": "patient/Patient.read patient/Condition.read patient/MedicationRequest.read",
            "subject": "regimen-guard",
        }
    return body


# --- a CheckRegimenRequest (protobuf JSON) as the same regimen in FHIR ----------------------

_ROUTE_CODES = {
    "ROUTE_ORAL": "26643006",
    "ROUTE_TOPICAL": "6064005",
    "ROUTE_TRANSDERMAL": "45890007",
    "ROUTE_INJECTION": "47625008",
    "ROUTE_INTRANASAL": "46713006",
    "ROUTE_SUBLINGUAL": "37839007",
    "ROUTE_RECTAL": "37161004",
    "ROUTE_BUCCAL": "54471007",
}
_RESPONSES = {
    "THERAPY_RESPONSE_BENEFIT": "benefit",
    "THERAPY_RESPONSE_NO_BENEFIT": "no-benefit",
    "THERAPY_RESPONSE_NOT_TOLERATED": "not-tolerated",
}


def _flag_code(field: str) -> tuple[str, str]:
    row = next(r for r in _TERMINOLOGY.conditions if r.patient_field == field and not r.prefix)
    return row.system, row.code


def fhir_from_scenario(request: dict[str, Any]) -> dict[str, Any]:
    """The order-sign request for a CheckRegimenRequest's regimen (acknowledgements left out)."""
    as_of = dt.date.fromisoformat(request["asOf"])
    info = request.get("patient", {})
    age = info.get("ageYears", 0)
    birth = as_of.replace(year=as_of.year - age).isoformat() if age else None
    conditions = [
        condition(*_flag_code(name))
        for name, camel in (
            ("hepatic_impairment", "hepaticImpairment"),
            ("renal_impairment", "renalImpairment"),
            ("alcohol_use_disorder", "alcoholUseDisorder"),
            ("substance_use_disorder", "substanceUseDisorder"),
            ("seizure_disorder", "seizureDisorder"),
            ("gi_bleed_history", "giBleedHistory"),
            ("cardiovascular_disease", "cardiovascularDisease"),
            ("active_cancer_treatment", "activeCancerTreatment"),
            ("palliative_care", "palliativeCare"),
        )
        if info.get(camel)
    ]
    weeks = info.get("painDurationWeeks", 0)
    if weeks:
        system, code = _flag_code("low_back_pain")
        onset = as_of - dt.timedelta(days=7 * weeks)
        conditions.append(condition(system, code, onset=onset.isoformat()))
    drafts, actives = [], []
    for i, order in enumerate(request.get("medications", [])):
        action = order.get("action", "ORDER_ACTION_CONTINUE")
        rid = f"m{i}"
        if action == "ORDER_ACTION_CHANGE_DOSE":
            before = dict(order, doseMg=order.get("previousDoseMg", order.get("doseMg", 0)))
            actives.append(_order_resource(f"{rid}-before", before, "active"))
            drafts.append(
                _order_resource(rid, order, "draft", prior=f"MedicationRequest/{rid}-before")
            )
        elif action == "ORDER_ACTION_START":
            drafts.append(_order_resource(rid, order, "draft"))
        elif action == "ORDER_ACTION_STOP":
            drafts.append(_order_resource(rid, order, "stopped"))
        else:
            actives.append(_order_resource(rid, order, "active"))
    prefetch = {
        "patient": patient(birth, refractory=info.get("refractorySymptoms")),
        "conditions": bundle(*conditions),
        "medications": bundle(*actives),
    }
    return cds_request("order-sign", drafts, prefetch)


def _order_resource(rid: str, order: dict[str, Any], status: str, prior: str | None = None):  # type: ignore[no-untyped-def]
    drug = order.get("drug", "")
    per_day = order.get("dosesPerDay", 0)
    fields: dict[str, Any] = {"status": status, "prior": prior}
    if per_day:
        if float(per_day).is_integer():
            fields.update(frequency=int(per_day), period=1, period_unit="d")
        else:
            fields.update(frequency=1, period=24 / per_day, period_unit="h")
    if order.get("rateMcgPerHour"):
        fields["rate"] = (order["rateMcgPerHour"], "ug/h")
    elif order.get("ingredients"):
        fields["dose"] = (1, "{tablet}")
    elif order.get("unitsPerDose"):
        fields["dose"] = (order["unitsPerDose"], "{tablet}")
    elif order.get("doseMg"):
        fields["dose"] = (order["doseMg"], "mg")
    elif order.get("action") != "ORDER_ACTION_STOP":
        fields["dose"] = (1, "{tablet}")  # a product named with its strength, one unit a dose
    if order.get("asNeeded"):
        fields["as_needed"] = True
    if order.get("route"):
        fields["route"] = _ROUTE_CODES[order["route"]]
    if order.get("startedOn"):
        fields["authored"] = order["startedOn"]
    if order.get("plannedDays"):
        fields["supply_days"] = order["plannedDays"]
    if order.get("stoppedOn"):
        fields["validity_end"] = order["stoppedOn"]
    if order.get("indication"):
        fields["reason"] = order["indication"]
    if order.get("response"):
        fields["response"] = _RESPONSES[order["response"]]
    if order.get("ingredients") or order.get("extendedRelease"):
        fields["medication"] = medication(
            f"{rid}-med",
            text=drug,
            form="Extended Release Oral Tablet" if order.get("extendedRelease") else None,
            ingredients=[(part["name"], part["doseMg"]) for part in order.get("ingredients", [])],
        )
    else:
        fields["text"] = drug
    return med_request(rid, **fields)


__all__ = [
    "ICD10CM",
    "RXNORM",
    "SNOMED",
    "bundle",
    "cds_request",
    "condition",
    "fhir_from_scenario",
]
