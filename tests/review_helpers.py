"""Shared by the population-review tests: one generated population and its local review.

Built once per test process (the Spark tests compare against the same local run) in a
temporary folder removed at exit.
"""

from __future__ import annotations

import atexit
import datetime as dt
import functools
import shutil
import tempfile
from pathlib import Path

import pyarrow as pa

from bench import population
from regimenguard.review.job import Job
from regimenguard.review.local import LocalOptions, run_local
from regimenguard.review.tables import read_output
from regimenguard.v1 import regimen_checker_pb2 as pb

AS_OF = dt.date(2026, 11, 23)
PATIENTS = 10_000


@functools.cache
def scratch() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="review-tests-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


@functools.cache
def generated() -> tuple[Path, tuple]:
    """The population's input folder and its requests (as CheckRegimenBatch would get them)."""
    requests = population.population(PATIENTS)
    medications, patients = population.tables(requests)
    folder = population.write(scratch() / "population", medications, patients)
    return folder, tuple(requests)


@functools.cache
def local_review() -> tuple[Path, dict]:
    """The local engine's output folder for the population, and its totals."""
    folder, _ = generated()
    out = scratch() / "local-out"
    totals = run_local(Job(folder, out, AS_OF), LocalOptions(workers=2, partition_rows=8_000))
    return out, totals


def as_reviewed(request: pb.CheckRegimenRequest) -> pb.CheckRegimenRequest:
    """The request as the review checks it: dated AS_OF, its orders in canonical order.

    The review sorts each patient's orders by content (regimenguard.review.rows), so that answers never
    depend on how the input was split; findings that list orders list them in that order.
    """
    dated = pb.CheckRegimenRequest()
    dated.CopyFrom(request)
    dated.as_of = AS_OF.isoformat()
    orders = sorted(dated.medications, key=lambda o: o.SerializeToString(deterministic=True))
    copies = [pb.MedicationOrder.FromString(o.SerializeToString()) for o in orders]
    del dated.medications[:]
    dated.medications.extend(copies)
    return dated


def finding_key(row: dict) -> tuple:
    return (
        row["patient_id"],
        row["rule_id"],
        row["severity"],
        tuple(row["drugs"]),
        row["message"],
        row["recommendation"],
        row["ncpdp_reason_code"],
    )


def sorted_rows(out: Path, table: str) -> list[dict]:
    """An output table's rows in a canonical order (engines write them in any order)."""
    rows = read_output(out, table).to_pylist()
    for row in rows:
        for key, value in row.items():
            if isinstance(value, list):
                row[key] = tuple(value)
    return sorted(rows, key=lambda row: tuple(str(value) for value in row.values()))


def patient_ids(out: Path, table: str) -> list[str]:
    column = read_output(out, table).column("patient_id")
    return [value for value in column.to_pylist() if value is not None]


def write_csv_tables(folder: Path, medications: list[dict], patients: list[dict]) -> Path:
    """Small hand-written input as CSV (every cell text, as a warehouse export writes it)."""
    import pyarrow.csv as pacsv

    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in (("medications", medications), ("patients", patients)):
        columns = sorted({key for row in rows for key in row})
        table = pa.table({key: [str(row.get(key, "")) for row in rows] for key in columns})
        pacsv.write_csv(table, folder / f"{name}.csv")
    return folder
