"""The local engine: partition by patient, check the partitions on every core, resumably.

1. **Spill.** The input is read in batches; each row goes to partition
   ``crc32(patient_id) % P`` of ``OUT/_work/spill`` (one Parquet file per partition), so all of
   a patient's rows meet in one partition whatever their order in the input. Memory is one
   batch. ``_work/spill/_DONE`` marks a complete spill; an incomplete one is redone.
2. **Check.** A process pool (one worker per core, the knowledge base loaded once per worker)
   takes the partitions not yet done. A worker sorts its partition by patient, checks every
   patient, and writes ``findings/part-K``, ``verdicts/part-K`` and ``errors/part-K`` (each to
   a hidden temporary name, then renamed), then the partition's manifest
   ``_manifest/part-K.json``. A partition is done exactly when its manifest exists: a rerun
   after a crash redoes only the others, and since a partition's files always have the same
   names, a redone partition replaces whatever a killed worker left, so every patient is
   counted exactly once.
"""

from __future__ import annotations

import json
import logging
import math
import multiprocessing
import os
import shutil
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from regimenguard.review.bulk import medication_resources
from regimenguard.review.check import Outcome, Reviewer, load_service
from regimenguard.review.job import JOB_FILE, Job, claim_output, write_json
from regimenguard.review.progress import Progress
from regimenguard.review.schema import PATIENT_ID, TABLES, UNIFIED_SCHEMA
from regimenguard.review.tables import (
    input_sources,
    output_table,
    source_batches,
    source_rows,
    write_atomically,
)

log = logging.getLogger(__name__)
DEFAULT_PARTITION_ROWS = 100_000  # input rows per partition: bounds a worker's memory
SLICE_ROWS = 8192  # rows turned into Python objects at a time


@dataclass(frozen=True, slots=True)
class LocalOptions:
    workers: int = 0  # 0 = one per core
    partition_rows: int = DEFAULT_PARTITION_ROWS


def _work(out: Path) -> Path:
    return out / "_work" / "spill"


def _manifest(out: Path, part: int) -> Path:
    return out / "_manifest" / f"part-{part:05d}.json"


def partition_of(patient_ids: pa.Array, parts: int) -> np.ndarray:
    """Each row's partition: crc32 of its patient_id modulo ``parts`` (no id: partition 0)."""
    encoded = pc.dictionary_encode(patient_ids)
    dictionary = encoded.dictionary.to_pylist()
    by_value = np.array(
        [zlib.crc32(value.strip().encode()) % parts for value in dictionary] or [0],
        dtype=np.int64,
    )
    indices = encoded.indices.to_numpy(zero_copy_only=False)
    valid = encoded.indices.is_valid().to_numpy(zero_copy_only=False)
    return np.where(valid, by_value[np.where(valid, indices, 0).astype(np.int64)], 0)


def spill(job: Job, parts: int) -> None:
    """Every input row into its partition's file (see the module docstring)."""
    folder = _work(job.out)
    if (folder / "_DONE").exists():
        return
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    writers: dict[int, pq.ParquetWriter] = {}
    try:
        for source in input_sources(job.input):
            for batch in source_batches(source):
                where = partition_of(batch.column(PATIENT_ID), parts)
                order = np.argsort(where, kind="stable")
                grouped = batch.take(pa.array(order))
                counts = np.bincount(where, minlength=parts)
                start = 0
                for part, count in enumerate(counts):
                    if count:
                        if part not in writers:
                            writers[part] = pq.ParquetWriter(
                                folder / f"part-{part:05d}.parquet", UNIFIED_SCHEMA
                            )
                        writers[part].write_batch(grouped.slice(start, int(count)))
                        start += int(count)
    finally:
        for writer in writers.values():
            writer.close()
    (folder / "_DONE").write_text(str(parts), encoding="utf-8")


# --- the worker processes -----------------------------------------------------------------

_REVIEWER: Reviewer | None = None


def _start_worker(job: Job) -> None:
    global _REVIEWER
    _REVIEWER = Reviewer(load_service(job.config), job.as_of, medication_resources(job.input))


def _sorted_rows(path: Path) -> Iterator[dict]:
    if not path.exists():
        return
    table = pq.read_table(path)
    table = table.take(pc.sort_indices(table, sort_keys=[(PATIENT_ID, "ascending")]))
    for batch in table.to_batches(max_chunksize=SLICE_ROWS):
        yield from batch.to_pylist()


def review_partition(out: Path, part: int, reviewer: Reviewer) -> dict:
    """Check one partition and write its output (the manifest last); its counts."""
    outcome = Outcome()
    patients = 0
    for one in reviewer.review_rows(_sorted_rows(_work(out) / f"part-{part:05d}.parquet")):
        outcome.extend(one)
        patients += bool(one.verdicts) or any(row[PATIENT_ID] for row in one.errors[:1])
    name = f"part-{part:05d}.parquet"
    for table in TABLES:
        write_atomically(output_table(table, getattr(outcome, table)), out / table / name)
    counts = {
        "partition": part,
        "patients": patients,
        "verdicts": len(outcome.verdicts),
        "error_patients": len({row[PATIENT_ID] for row in outcome.errors if row[PATIENT_ID]}),
        "error_rows": len(outcome.errors),
        "rows_without_patient": sum(1 for row in outcome.errors if not row[PATIENT_ID]),
        "findings": len(outcome.findings),
    }
    write_json(_manifest(out, part), counts)
    return counts


def _worker_task(args: tuple[Path, int]) -> dict:
    assert _REVIEWER is not None
    return review_partition(args[0], args[1], _REVIEWER)


# --- the job --------------------------------------------------------------------------------


def done_partitions(out: Path) -> dict[int, dict]:
    done = {}
    for path in sorted((out / "_manifest").glob("part-*.json")):
        counts = json.loads(path.read_text(encoding="utf-8"))
        done[counts["partition"]] = counts
    return done


def run_local(job: Job, options: LocalOptions = LocalOptions()) -> dict:
    """Run (or resume) the job; the totals over all partitions."""
    tables = input_sources(job.input)
    identity = job.identity(tables, "local")
    previous = job.out / JOB_FILE
    # a rerun keeps the partitioning it started with (partition_rows may differ)
    parts = None
    if previous.exists():
        parts = json.loads(previous.read_text(encoding="utf-8")).get("partitions")
    if not isinstance(parts, int) or parts < 1:
        rows = sum(source_rows(table) for table in tables)
        parts = max(1, math.ceil(rows / max(options.partition_rows, 1)))
    identity["partitions"] = parts
    claim_output(job.out, identity)
    done = done_partitions(job.out)
    todo = [part for part in range(parts) if part not in done]
    log.info("review: %d partitions, %d already done", parts, len(done))
    if todo:
        spill(job, parts)
        workers = min(options.workers or os.cpu_count() or 1, len(todo))
        progress = Progress(parts, len(done))
        try:
            if workers == 1:
                _start_worker(job)
                results = (_worker_task((job.out, part)) for part in todo)
                for counts in results:
                    done[counts["partition"]] = counts
                    progress.advance(counts["patients"])
            else:
                context = multiprocessing.get_context("spawn")
                with context.Pool(workers, initializer=_start_worker, initargs=(job,)) as pool:
                    for counts in pool.imap_unordered(
                        _worker_task, [(job.out, part) for part in todo]
                    ):
                        done[counts["partition"]] = counts
                        progress.advance(counts["patients"])
        finally:
            progress.close()
    shutil.rmtree(job.out / "_work", ignore_errors=True)
    return totals(done.values())


def totals(partitions) -> dict:  # type: ignore[no-untyped-def]
    keys = ("patients", "verdicts", "error_patients", "error_rows", "rows_without_patient")
    result = {key: 0 for key in (*keys, "findings")}
    for counts in partitions:
        for key in result:
            result[key] += counts[key]
    return result
