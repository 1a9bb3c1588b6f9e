"""FHIR R4 Patient and Conditions as the domain Patient.

``Patient.birthDate`` gives the age in whole years at the check date (a partial date counts from
its first day, so the age is never understated). Each Condition whose code is in
``fhir/data/condition_codes.csv`` sets its patient field while it is active (``clinicalStatus``
active, recurrence or relapse, or absent), or at any status for a history condition
(``counts_when_resolved``); refuted and entered-in-error Conditions never count. The onset of a
low-back-pain Condition gives ``pain_duration_weeks``. ``REFRACTORY_URL`` (a Patient extension,
``valueBoolean``) says the symptoms persist despite first-line therapy: FHIR has no element for it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import fields, replace
from typing import Any

from regimenguard.fhir.reader import Reader
from regimenguard.fhir.terminology import LOW_BACK_PAIN, Terminology
from regimenguard.regimen.model import Patient

REFRACTORY_URL = "urn:regimenguard:fhir:StructureDefinition:refractory-symptoms"
ACTIVE_STATUSES = frozenset({"active", "recurrence", "relapse"})
NEVER_COUNTS = frozenset({"refuted", "entered-in-error"})
MAX_AGE_YEARS = 130
PATIENT_FIELDS = frozenset(f.name for f in fields(Patient))


def age_on(birth: dt.date, day: dt.date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def patient_from_fhir(
    patient: dict[str, Any] | None,
    conditions: list[dict[str, Any]],
    terminology: Terminology,
    reader: Reader,
    as_of: dt.date,
) -> Patient:
    result = Patient()
    if patient is not None:
        birth = reader.date(patient.get("birthDate"), "Patient.birthDate")
        if birth is not None:
            age = age_on(birth, as_of)
            if not 0 <= age <= MAX_AGE_YEARS:
                reader.add("Patient.birthDate", f"gives an age of {age} on {as_of.isoformat()}")
            else:
                result = replace(result, age_years=age)
        for epath, extension in reader.objects(patient.get("extension"), "Patient.extension"):
            if extension.get("url") == REFRACTORY_URL:
                value = reader.boolean(extension.get("valueBoolean"), f"{epath}.valueBoolean")
                result = replace(result, refractory_symptoms=bool(value))
    flags: dict[str, bool] = {}
    onset_weeks: list[int] = []
    for i, condition in enumerate(conditions):
        path = f"Condition[{i}]"
        status = _code(condition.get("clinicalStatus"), reader, f"{path}.clinicalStatus")
        verification = _code(
            condition.get("verificationStatus"), reader, f"{path}.verificationStatus"
        )
        if verification in NEVER_COUNTS:
            continue
        active = status is None or status in ACTIVE_STATUSES
        code = reader.obj(condition.get("code"), f"{path}.code") or {}
        for kpath, coding in reader.objects(code.get("coding"), f"{path}.code.coding"):
            system = reader.string(coding.get("system"), f"{kpath}.system")
            value = reader.string(coding.get("code"), f"{kpath}.code")
            if not system or not value:
                continue
            for row in terminology.condition_fields(system, value):
                if not (active or row.counts_when_resolved):
                    continue
                if row.patient_field == LOW_BACK_PAIN:
                    onset = reader.date(condition.get("onsetDateTime"), f"{path}.onsetDateTime")
                    if onset is not None and onset <= as_of:
                        onset_weeks.append((as_of - onset).days // 7)
                elif row.patient_field in PATIENT_FIELDS:
                    flags[row.patient_field] = True
    if onset_weeks:
        result = replace(result, pain_duration_weeks=max(onset_weeks))
    return replace(result, **flags) if flags else result


def _code(concept: Any, reader: Reader, path: str) -> str | None:
    concept = reader.obj(concept, path)
    if concept is None:
        return None
    for kpath, coding in reader.objects(concept.get("coding"), f"{path}.coding"):
        code = reader.string(coding.get("code"), f"{kpath}.code")
        if code:
            return code
    return None
