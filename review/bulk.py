"""FHIR Bulk Data input: the NDJSON files a ``$export`` writes, mapped as the CDS Hooks door maps.

INPUT is a folder of ``*.ndjson`` files (``Patient.ndjson``, ``MedicationRequest.ndjson``,
``Condition.ndjson``, optionally ``Medication.ndjson``; any file name: each line's
``resourceType`` decides). Every Patient, MedicationRequest and Condition line becomes a row of
the unified stream (its patient from ``Patient.id`` or ``subject.reference``, the resource's
JSON text in ``_resource``), so both engines group them by patient like table rows. A
patient's regimen is its ``active`` and ``on-hold`` MedicationRequests, mapped by
``regimenguard.fhir.regimen.RegimenMapper`` (the CDS Hooks door's mapping) with its Patient and Conditions;
Medication resources are looked up by reference.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from regimenguard.review.schema import PATIENT_ID, RESOURCE, SOURCE, UNIFIED_SCHEMA

GROUPED = ("Patient", "MedicationRequest", "Condition")
BATCH_LINES = 20_000


@dataclass(frozen=True, slots=True)
class BulkExport:
    """A Bulk Data export folder (``name`` and ``format`` as an input table has them)."""

    path: Path
    name: str = "fhir"
    format: str = "ndjson"

    @property
    def files(self) -> list[Path]:
        return sorted(p for p in self.path.rglob("*.ndjson") if not p.name.startswith((".", "_")))


def is_bulk_export(root: Path) -> bool:
    return root.is_dir() and bool(BulkExport(root).files)


def subject_id(resource: dict[str, Any]) -> str | None:
    """The patient a resource belongs to: Patient.id, or the id in ``subject.reference``."""
    if resource.get("resourceType") == "Patient":
        rid = resource.get("id")
        return rid if isinstance(rid, str) and rid else None
    subject = resource.get("subject")
    reference = subject.get("reference") if isinstance(subject, dict) else None
    if isinstance(reference, str) and reference.startswith("Patient/"):
        return reference.removeprefix("Patient/") or None
    return None


def _row(line: str) -> dict | None:
    """The unified row for one NDJSON line (None: a resource type the review does not group)."""
    try:
        resource = json.loads(line)
    except ValueError:
        return {SOURCE: "ndjson", RESOURCE: None, PATIENT_ID: None}
    kind = resource.get("resourceType") if isinstance(resource, dict) else None
    if kind not in GROUPED:
        return None
    return {PATIENT_ID: subject_id(resource), SOURCE: kind, RESOURCE: line}


def bulk_batches(export: BulkExport, batch_lines: int = BATCH_LINES) -> Iterator[pa.RecordBatch]:
    rows: list[dict] = []
    for path in export.files:
        with open(path, encoding="utf-8") as lines:
            for line in lines:
                if not line.strip():
                    continue
                row = _row(line)
                if row is not None:
                    rows.append(row)
                if len(rows) >= batch_lines:
                    yield pa.RecordBatch.from_pylist(rows, schema=UNIFIED_SCHEMA)
                    rows = []
    if rows:
        yield pa.RecordBatch.from_pylist(rows, schema=UNIFIED_SCHEMA)


def count_lines(export: BulkExport) -> int:
    total = 0
    for path in export.files:
        with open(path, "rb") as data:
            total += sum(1 for _ in data)
    return total


def medication_resources(root: Path) -> dict[str, dict[str, Any]]:
    """Every Medication of the export by reference (``Medication/ID``), for medicationReference."""
    found: dict[str, dict[str, Any]] = {}
    if not is_bulk_export(root):
        return found
    for path in BulkExport(root).files:
        with open(path, encoding="utf-8") as lines:
            for line in lines:
                if '"Medication"' not in line:
                    continue
                try:
                    resource = json.loads(line)
                except ValueError:
                    continue
                if resource.get("resourceType") == "Medication" and resource.get("id"):
                    found[f"Medication/{resource['id']}"] = resource
    return found
