"""Reading the input tables as one stream of text rows, and writing the output tables.

An input table is ``INPUT/medications`` and ``INPUT/patients``: each a ``.parquet`` or
``.csv`` file, or a directory of them. Columns are matched by name; missing optional columns
are empty, other columns are ignored.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from regimenguard.review.schema import (
    MEDICATION_COLUMNS,
    MEDICATIONS,
    PATIENT_COLUMNS,
    PATIENT_ID,
    PATIENTS,
    SOURCE,
    TABLES,
    UNIFIED_SCHEMA,
)

COLUMNS = {MEDICATIONS: MEDICATION_COLUMNS, PATIENTS: PATIENT_COLUMNS}
BATCH_ROWS = 65_536


class InputError(ValueError):
    """The input cannot be read as the review's tables."""


@dataclass(frozen=True, slots=True)
class InputTable:
    name: str  # medications or patients
    path: Path
    format: str  # parquet or csv

    @property
    def files(self) -> list[Path]:
        if self.path.is_file():
            return [self.path]
        return sorted(
            p for p in self.path.rglob(f"*.{self.format}") if not p.name.startswith((".", "_"))
        )


def find_table(root: Path, name: str) -> InputTable:
    for fmt in ("parquet", "csv"):
        candidate = root / f"{name}.{fmt}"
        if candidate.is_file():
            return InputTable(name, candidate, fmt)
    folder = root / name
    if folder.is_dir():
        for fmt in ("parquet", "csv"):
            table = InputTable(name, folder, fmt)
            if table.files:
                return table
    raise InputError(
        f"no {name} table in {root} (expected {name}.parquet, {name}.csv or a {name}/ folder)"
    )


def input_tables(root: Path) -> tuple[InputTable, InputTable]:
    if not root.is_dir():
        raise InputError(f"{root} is not a directory")
    return find_table(root, MEDICATIONS), find_table(root, PATIENTS)


def _dataset(table: InputTable) -> ds.Dataset:
    files = [str(p) for p in table.files]
    if table.format == "parquet":
        return ds.dataset(files, format="parquet")
    # every cell as text: read the header, then ask for strings in every column
    with open(files[0], "rb") as first:
        header = pacsv.open_csv(first).schema.names
    options = pacsv.ConvertOptions(
        column_types={name: pa.string() for name in header}, strings_can_be_null=False
    )
    return ds.dataset(files, format=ds.CsvFileFormat(convert_options=options))


def _text_column(column: pa.ChunkedArray | pa.Array) -> pa.Array:
    if pa.types.is_string(column.type):
        return column
    if pa.types.is_large_string(column.type) or pa.types.is_dictionary(column.type):
        return column.cast(pa.string())
    return pc.cast(column, pa.string())


def unified_batches(table: InputTable, batch_rows: int = BATCH_ROWS) -> Iterator[pa.RecordBatch]:
    """The table's rows in UNIFIED_SCHEMA: known columns as text, the rest null."""
    dataset = _dataset(table)
    present = set(dataset.schema.names)
    if PATIENT_ID not in present:
        raise InputError(f"the {table.name} table has no {PATIENT_ID} column")
    wanted = [name for name in (PATIENT_ID, *COLUMNS[table.name]) if name in present]
    for batch in dataset.to_batches(columns=wanted, batch_size=batch_rows):
        if batch.num_rows == 0:
            continue
        yield to_unified(batch, table.name)


def to_unified(batch: pa.RecordBatch, source: str) -> pa.RecordBatch:
    rows = batch.num_rows
    arrays = []
    for field in UNIFIED_SCHEMA:
        if field.name == SOURCE:
            arrays.append(pa.array([source] * rows, pa.string()))
        elif field.name == PATIENT_ID:  # " P1" and "P1" are one patient in every engine
            arrays.append(pc.utf8_trim_whitespace(_text_column(batch.column(field.name))))
        elif field.name in batch.schema.names:
            arrays.append(_text_column(batch.column(field.name)))
        else:
            arrays.append(pa.nulls(rows, pa.string()))
    return pa.RecordBatch.from_arrays(arrays, schema=UNIFIED_SCHEMA)


def count_rows(table: InputTable) -> int:
    return _dataset(table).count_rows()


def output_table(name: str, rows: list[dict]) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=TABLES[name])


def write_atomically(table: pa.Table, path: Path) -> None:
    """Write to a hidden temporary name beside ``path``, then rename: all or nothing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    pq.write_table(table, temporary)
    with open(temporary, "rb") as written:
        os.fsync(written.fileno())
    os.replace(temporary, path)


def read_output(out: Path, name: str) -> pa.Table:
    """An output table (every Parquet file of ``out/name``, hidden and temporary ones aside)."""
    folder = out / name
    files = sorted(str(p) for p in folder.rglob("*.parquet") if not p.name.startswith((".", "_")))
    if not files:
        return TABLES[name].empty_table()
    return ds.dataset(files, format="parquet", schema=TABLES[name]).to_table()


def input_sources(root: Path) -> tuple:  # type: ignore[type-arg]
    """The job's inputs: a FHIR Bulk Data export, or the medications and patients tables."""
    from regimenguard.review.bulk import BulkExport, is_bulk_export

    if is_bulk_export(root):
        return (BulkExport(root),)
    return input_tables(root)


def source_batches(source) -> Iterator[pa.RecordBatch]:  # type: ignore[no-untyped-def]
    from regimenguard.review.bulk import BulkExport, bulk_batches

    if isinstance(source, BulkExport):
        return bulk_batches(source)
    return unified_batches(source)


def source_rows(source) -> int:  # type: ignore[no-untyped-def]
    from regimenguard.review.bulk import BulkExport, count_lines

    return count_lines(source) if isinstance(source, BulkExport) else count_rows(source)
