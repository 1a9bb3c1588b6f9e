"""A generated population for the population review (tests and `make bench`).

Patient ``i`` takes one of bench.bulkgen's realistic regimen templates (its orders and patient
conditions) with its own age, pain duration and per-order dose variant, all drawn from a seeded
generator, so the population is the same for the same seed. The tables are written as the
review reads them: ``medications`` (one row per order, enum values by proto name, rows
shuffled so a patient's orders are spread through the file) and ``patients``.
"""

from __future__ import annotations

import random
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from google.protobuf.descriptor import FieldDescriptor

from bench.bulkgen import ATOMS, TEMPLATES, VARIANTS
from regimenguard.review.schema import ORDER_FIELDS, PATIENT_FIELDS, PATIENT_ID
from regimenguard.v1 import regimen_checker_pb2 as pb

# atoms a table can express (a table row has no repeated ``ingredients``)
TABLE_ATOMS = {name for name, build in ATOMS.items() if not build(0).ingredients}
_ARROW_TYPES = {
    FieldDescriptor.TYPE_STRING: pa.string(),
    FieldDescriptor.TYPE_ENUM: pa.string(),
    FieldDescriptor.TYPE_DOUBLE: pa.float64(),
    FieldDescriptor.TYPE_INT32: pa.int64(),
    FieldDescriptor.TYPE_BOOL: pa.bool_(),
}


def _schema(fields: dict[str, FieldDescriptor]) -> pa.Schema:
    return pa.schema(
        [(PATIENT_ID, pa.string())]
        + [(name, _ARROW_TYPES[field.type]) for name, field in fields.items()]
    )


MEDICATIONS_SCHEMA = _schema(ORDER_FIELDS)
PATIENTS_SCHEMA = _schema(PATIENT_FIELDS)


def message_row(patient_id: str, message, fields: dict[str, FieldDescriptor]) -> dict:  # type: ignore[no-untyped-def]
    """A table row for a proto message: set fields only (enums by name), the rest empty."""
    row: dict[str, object] = {PATIENT_ID: patient_id}
    for name, field in fields.items():
        value = getattr(message, name)
        if field.type == FieldDescriptor.TYPE_ENUM:
            row[name] = field.enum_type.values_by_number[value].name if value else None
        else:
            row[name] = value if value else None
    return row


def patient_id(i: int) -> str:
    return f"P{i:08d}"


def regimen(i: int, rng: random.Random) -> pb.CheckRegimenRequest:
    """Patient ``i``'s regimen (``rng`` is the population's generator, drawn in order)."""
    flags, atoms = TEMPLATES[rng.randrange(len(TEMPLATES))]
    patient = pb.Patient(
        age_years=rng.randrange(20, 96), pain_duration_weeks=rng.randrange(0, 52), **flags
    )
    orders = [ATOMS[atom](rng.randrange(VARIANTS)) for atom in atoms if atom in TABLE_ATOMS]
    return pb.CheckRegimenRequest(request_id=patient_id(i), patient=patient, medications=orders)


def population(count: int, seed: int = 18) -> list[pb.CheckRegimenRequest]:
    rng = random.Random(seed)
    return [regimen(i, rng) for i in range(count)]


def tables(requests: list[pb.CheckRegimenRequest], seed: int = 18) -> tuple[pa.Table, pa.Table]:
    """(medications, patients) for the requests; medications rows in shuffled order."""
    medications = [
        message_row(request.request_id, order, ORDER_FIELDS)
        for request in requests
        for order in request.medications
    ]
    random.Random(seed).shuffle(medications)
    patients = [message_row(r.request_id, r.patient, PATIENT_FIELDS) for r in requests]
    return (
        pa.Table.from_pylist(medications, schema=MEDICATIONS_SCHEMA),
        pa.Table.from_pylist(patients, schema=PATIENTS_SCHEMA),
    )


def write(folder: Path, medications: pa.Table, patients: pa.Table, fmt: str = "parquet") -> Path:
    """``folder/medications.<fmt>`` and ``folder/patients.<fmt>`` (row groups of 20,000)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, table in (("medications", medications), ("patients", patients)):
        if fmt == "csv":
            pacsv.write_csv(table, folder / f"{name}.csv")
        else:
            pq.write_table(table, folder / f"{name}.parquet", row_group_size=20_000)
    return folder
