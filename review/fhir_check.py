"""One patient's FHIR resources to that patient's output rows (Bulk Data input).

The regimen is mapped by the CDS Hooks door's mapping (``regimenguard.fhir.regimen.RegimenMapper``): the
patient's ``active``/``on-hold`` MedicationRequests are the continuing regimen, its Patient and
Conditions the patient. What cannot be read or mapped is an error row naming the resource and
its FHIRPath, and that patient is not checked (a regimen checked without one of its orders
could look safer than it is).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

from regimenguard.fhir.reader import FhirInvalid
from regimenguard.fhir.regimen import Located, RegimenMapper
from regimenguard.regimen.service import RegimenService
from regimenguard.regimen.validation import RequestInvalid
from regimenguard.review.rows import Row, RowError
from regimenguard.review.schema import RESOURCE, SOURCE


def _located(row: Row) -> Located:
    resource = json.loads(row[RESOURCE] or "{}")
    return Located(resource, f"{row[SOURCE]}/{resource.get('id', '')}")


def _key(item: Located) -> tuple[str, str]:
    return (str(item.resource.get("id", "")), json.dumps(item.resource, sort_keys=True))


class FhirReviewer:
    """Built once per worker, beside the table reviewer."""

    def __init__(
        self, service: RegimenService, as_of: dt.date, medications: Mapping[str, dict[str, Any]]
    ) -> None:
        self.service = service
        self.as_of = as_of
        self.mapper = RegimenMapper(service.knowledge.resolver)
        self.medications = medications

    def regimen(self, patient_id: str, rows: list[Row]):  # type: ignore[no-untyped-def]
        """(CheckResult, []) or (None, [RowError, ...])."""
        located = {"Patient": [], "MedicationRequest": [], "Condition": []}  # type: ignore[var-annotated]
        errors: list[RowError] = []
        for row in rows:
            try:
                located[row[SOURCE]].append(_located(row))
            except ValueError:
                errors.append(RowError(row[SOURCE] or "", "", "is not JSON"))
        patients = located["Patient"]
        if not patients:
            return None, [
                RowError(
                    "MedicationRequest",
                    "subject",
                    f"no Patient resource for this patient ({len(rows)} resources not checked)",
                )
            ]
        if len(patients) > 1:
            errors.append(RowError("Patient", "id", f"{len(patients)} Patient resources"))
        if errors:
            return None, errors
        actives = sorted(located["MedicationRequest"], key=_key)
        try:
            mapped = self.mapper.map(
                request_id=patient_id,
                as_of=self.as_of,
                patient=patients[0],
                conditions=sorted(located["Condition"], key=_key),
                actives=actives,
                medications=self.medications,
            )
        except FhirInvalid as invalid:
            return None, [
                RowError(_kind(issue.where), issue.expression, issue.diagnostics)
                for issue in invalid.issues
            ]
        if mapped.unmapped:
            return None, [
                RowError("MedicationRequest", "medication[x]", order.reason, order.name)
                for order in mapped.unmapped
            ]
        try:
            return self.service.check(mapped.request), []
        except RequestInvalid as invalid:
            errors = []
            for violation in invalid.violations:
                path = violation.path
                if len(path) >= 2 and path[0] == "medications" and isinstance(path[1], int):
                    source = mapped.sources[path[1]]
                    errors.append(
                        RowError(
                            "MedicationRequest",
                            f"{source.reference}: {violation.fhir_path()}",
                            violation.description,
                            mapped.request.medications[path[1]].drug,
                        )
                    )
                else:
                    errors.append(RowError("Patient", violation.fhir_path(), violation.description))
            return None, errors


def _kind(where: str) -> str:
    return where.split("/", 1)[0] if where else "MedicationRequest"
