"""The review's tables: input columns (taken from the proto messages) and output schemas.

Input columns are the fields of ``regimenguard.v1.MedicationOrder`` and ``Patient`` (so a field
added to the proto is a column with no change here), plus ``patient_id`` and the table-only
``stopped_on``. Every input column is read as text and parsed per row (``regimenguard.review.rows``), so a
bad cell is an error row, never a failed job.
"""

from __future__ import annotations

import pyarrow as pa

from regimenguard.v1 import regimen_checker_pb2 as pb

PATIENT_ID = "patient_id"
SOURCE = "_source"  # which input table (or FHIR resource type) a unified row came from
RESOURCE = "_resource"  # a FHIR Bulk Data row: the resource's JSON text
MEDICATIONS, PATIENTS = "medications", "patients"
# a MedicationOrder column only a table has: an order stopped on or before the review date is
# a STOP order (out of the regimen, still informing the titration rules)
STOPPED_ON = "stopped_on"


def _scalar_fields(message) -> dict:  # type: ignore[no-untyped-def]
    return {
        field.name: field
        for field in message.DESCRIPTOR.fields
        if not field.is_repeated and field.message_type is None
    }


ORDER_FIELDS = _scalar_fields(pb.MedicationOrder)
PATIENT_FIELDS = _scalar_fields(pb.Patient)
MEDICATION_COLUMNS: tuple[str, ...] = (
    *ORDER_FIELDS,
    *((STOPPED_ON,) if STOPPED_ON not in ORDER_FIELDS else ()),
)
PATIENT_COLUMNS: tuple[str, ...] = tuple(PATIENT_FIELDS)
# The unified row stream both engines group: one row per input row, every value as text.
UNIFIED_COLUMNS: tuple[str, ...] = (
    PATIENT_ID,
    SOURCE,
    RESOURCE,
    *MEDICATION_COLUMNS,
    *PATIENT_COLUMNS,
)
UNIFIED_SCHEMA = pa.schema([(name, pa.string()) for name in UNIFIED_COLUMNS])

_TEXT_LIST = pa.list_(pa.string())
FINDINGS_SCHEMA = pa.schema(
    [
        (PATIENT_ID, pa.string()),
        ("rule_id", pa.string()),
        ("severity", pa.string()),
        ("drugs", _TEXT_LIST),
        ("message", pa.string()),
        ("recommendation", pa.string()),
        ("ncpdp_reason_code", pa.string()),
        ("guideline_section", pa.string()),
    ]
)
VERDICTS_SCHEMA = pa.schema(
    [
        (PATIENT_ID, pa.string()),
        ("verdict", pa.string()),
        ("medications", pa.int64()),
        ("findings", pa.int64()),
        ("critical_findings", pa.int64()),
        ("warning_findings", pa.int64()),
        ("info_findings", pa.int64()),
        ("acetaminophen_mg_per_day", pa.float64()),
        ("acetaminophen_limit_mg_per_day", pa.float64()),
        ("morphine_mg_equivalents_per_day", pa.float64()),
        ("serotonergic_agents", pa.int64()),
        # "drug_a + drug_b" for every interaction edge that fired, sorted within the pair
        ("interacting_pairs", _TEXT_LIST),
        ("knowledge_base_version", pa.string()),
    ]
)
ERRORS_SCHEMA = pa.schema(
    [
        (PATIENT_ID, pa.string()),  # null for a row without one
        ("source", pa.string()),  # the input table: medications or patients
        ("drug", pa.string()),  # the order's drug, for a medications row
        ("field", pa.string()),  # the column, or patient_id / medications for the patient
        ("reason", pa.string()),
    ]
)
TABLES: dict[str, pa.Schema] = {
    "findings": FINDINGS_SCHEMA,
    "verdicts": VERDICTS_SCHEMA,
    "errors": ERRORS_SCHEMA,
}
RECORD = "_table"  # in the combined record stream: which output table a row belongs to


def _combined() -> pa.Schema:
    fields: dict[str, pa.Field] = {RECORD: pa.field(RECORD, pa.string())}
    for schema in TABLES.values():
        for field in schema:
            fields.setdefault(field.name, field)
    return pa.schema(list(fields.values()))


# One schema for all three outputs (a PySpark UDF returns one schema): RECORD says which.
COMBINED_SCHEMA = _combined()
