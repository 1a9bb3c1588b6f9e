"""The Spark engine: the same per-patient check inside PySpark, for a cluster.

Both input tables are read (Parquet or CSV, every column as text), unioned into one row stream,
hash-partitioned by ``patient_id`` and sorted within partitions, so each patient's rows are
contiguous; ``mapInArrow`` then runs ``regimenguard.review.check.Reviewer.review_rows`` over each partition's
Arrow batches (the knowledge base loaded once per Python worker) and returns the three output
tables as one record stream, which is cached and written as ``findings``, ``verdicts`` and
``errors`` (Parquet), exactly the tables of the local engine.

On a cluster: ``spark-submit --py-files regimen_guard-*.whl review/submit.py INPUT --out DIR``,
or ``regimen-guard review --engine spark`` (see docs/population-review.md).
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa

from regimenguard.review.zipship import unpack_if_zipped

unpack_if_zipped()  # before any module that reads data files (a wheel on --py-files)

from regimenguard.review.bulk import GROUPED, BulkExport, medication_resources  # noqa: E402
from regimenguard.review.check import Outcome, Reviewer, load_service  # noqa: E402
from regimenguard.review.job import Job, claim_output  # noqa: E402
from regimenguard.review.schema import (  # noqa: E402
    COMBINED_SCHEMA,
    PATIENT_ID,
    RECORD,
    RESOURCE,
    SOURCE,
    TABLES,
    UNIFIED_COLUMNS,
)
from regimenguard.review.tables import InputTable, input_sources, source_rows  # noqa: E402

log = logging.getLogger(__name__)
ROWS_PER_PARTITION = 100_000

_REVIEWERS: dict[tuple[str | None, str, str], Reviewer] = {}


def _reviewer(config: str | None, as_of: str, source: str) -> Reviewer:
    """One Reviewer per Python worker process (Spark reuses its Python workers)."""
    key = (config, as_of, source)
    if key not in _REVIEWERS:
        service = load_service(Path(config) if config else None)
        medications = medication_resources(Path(source))
        _REVIEWERS[key] = Reviewer(service, dt.date.fromisoformat(as_of), medications)
    return _REVIEWERS[key]


def records(outcome: Outcome) -> pa.RecordBatch:
    """The three output tables' rows as one batch of COMBINED_SCHEMA."""
    rows = [{RECORD: table, **row} for table in TABLES for row in getattr(outcome, table)]
    return pa.RecordBatch.from_pylist(rows, schema=COMBINED_SCHEMA)


def review_batches(
    batches: Iterator[pa.RecordBatch],
    config: str | None,
    as_of: str,
    source: str,
    flush_rows: int = 20_000,
) -> Iterator[pa.RecordBatch]:
    """mapInArrow's function: unified rows, contiguous by patient, to output records."""
    reviewer = _reviewer(config, as_of, source)

    def rows() -> Iterator[dict]:
        for batch in batches:
            yield from batch.to_pylist()

    pending = Outcome()
    size = 0
    for one in reviewer.review_rows(rows()):
        pending.extend(one)
        size += len(one.findings) + len(one.verdicts) + len(one.errors)
        if size >= flush_rows:
            yield records(pending)
            pending, size = Outcome(), 0
    if size:
        yield records(pending)


def spark_schema():  # type: ignore[no-untyped-def]
    """COMBINED_SCHEMA in Spark's types."""
    from pyspark.sql import types as T

    def spark_type(arrow: pa.DataType):  # type: ignore[no-untyped-def]
        if pa.types.is_string(arrow):
            return T.StringType()
        if pa.types.is_int64(arrow):
            return T.LongType()
        if pa.types.is_float64(arrow):
            return T.DoubleType()
        if pa.types.is_list(arrow):
            return T.ArrayType(spark_type(arrow.value_type))
        raise TypeError(f"no Spark type for {arrow}")

    return T.StructType(
        [T.StructField(field.name, spark_type(field.type), True) for field in COMBINED_SCHEMA]
    )


def _read_bulk(spark, export: BulkExport):  # type: ignore[no-untyped-def]
    """NDJSON lines as unified rows (regimenguard.review.bulk): the patient from the JSON, the line kept."""
    from pyspark.sql import functions as F

    lines = spark.read.text([str(path) for path in export.files])
    kind = F.get_json_object("value", "$.resourceType")
    subject = F.regexp_extract(
        F.get_json_object("value", "$.subject.reference"), "^Patient/(.+)$", 1
    )
    patient = F.when(kind == "Patient", F.get_json_object("value", "$.id")).otherwise(
        F.when(subject != "", subject)
    )
    columns = {PATIENT_ID: patient, SOURCE: kind, RESOURCE: F.col("value")}
    return lines.filter(kind.isin(*GROUPED)).select(
        *[
            (columns[name] if name in columns else F.lit(None)).cast("string").alias(name)
            for name in UNIFIED_COLUMNS
        ]
    )


def _read(spark, table: InputTable):  # type: ignore[no-untyped-def]
    from pyspark.sql import functions as F

    if isinstance(table, BulkExport):
        return _read_bulk(spark, table)
    paths = [str(path) for path in table.files]
    if table.format == "csv":
        frame = spark.read.option("header", True).option("inferSchema", False).csv(paths)
    else:
        frame = spark.read.parquet(*paths)
    present = set(frame.columns)
    if PATIENT_ID not in present:
        raise ValueError(f"the {table.name} table has no {PATIENT_ID} column")

    def column(name: str):  # type: ignore[no-untyped-def]
        if name == SOURCE:
            return F.lit(table.name).alias(SOURCE)
        if name == PATIENT_ID:  # " P1" and "P1" are one patient in every engine
            return F.trim(F.col(name).cast("string")).alias(name)
        if name in present:
            return F.col(name).cast("string").alias(name)
        return F.lit(None).cast("string").alias(name)

    return frame.select(*[column(name) for name in UNIFIED_COLUMNS])


# In local mode the driver and its Python workers talk over loopback only (Spark would
# otherwise bind the host's first interface address).
LOCAL_LOOPBACK = {"spark.driver.host": "127.0.0.1", "spark.driver.bindAddress": "127.0.0.1"}


def session():  # type: ignore[no-untyped-def]
    """The active SparkSession, or a new one (spark-submit's master, else ``local[*]``).

    In local mode the Python workers run this interpreter (the one with the package).
    """
    from pyspark import SparkConf
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    conf = SparkConf()
    if conf.get("spark.master", "local[*]").startswith("local"):
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        conf.setIfMissing("spark.master", "local[*]")
        for key, value in LOCAL_LOOPBACK.items():
            conf.setIfMissing(key, value)
    return SparkSession.builder.config(conf=conf).appName("regimen-guard review").getOrCreate()


def run_spark(job: Job, spark=None, partition_rows: int | None = None) -> dict:  # type: ignore[no-untyped-def]
    """Run the job on ``spark`` (default: the active session, or a new one); its totals.

    The output tables are replaced as a whole (Spark's overwrite), so a rerun redoes the job.
    """
    from pyspark.sql import functions as F

    spark = spark or session()
    tables = input_sources(job.input)
    claim_output(job.out, job.identity(tables, "spark"))
    frames = [_read(spark, table) for table in tables]
    unified = frames[0]
    for frame in frames[1:]:
        unified = unified.unionByName(frame)
    rows = sum(source_rows(table) for table in tables)
    partitions = max(
        spark.sparkContext.defaultParallelism,
        math.ceil(rows / (partition_rows or ROWS_PER_PARTITION)),
    )
    config, as_of = (str(job.config) if job.config else None), job.as_of.isoformat()
    source = str(job.input)
    grouped = unified.repartition(partitions, PATIENT_ID).sortWithinPartitions(PATIENT_ID)
    out = grouped.mapInArrow(
        lambda batches: review_batches(batches, config, as_of, source), spark_schema()
    ).persist()
    try:
        for table, schema in TABLES.items():
            (
                out.filter(F.col(RECORD) == table)
                .select(*schema.names)
                .write.mode("overwrite")
                .parquet(str(job.out / table))
            )
        counts = {row[RECORD]: row["count"] for row in out.groupBy(RECORD).count().collect()}
        error_patients = (
            out.filter((F.col(RECORD) == "errors") & F.col(PATIENT_ID).isNotNull())
            .select(PATIENT_ID)
            .distinct()
            .count()
        )
        without = out.filter((F.col(RECORD) == "errors") & F.col(PATIENT_ID).isNull()).count()
    finally:
        out.unpersist()
    verdicts = counts.get("verdicts", 0)
    return {
        "patients": verdicts + error_patients,
        "verdicts": verdicts,
        "error_patients": error_patients,
        "error_rows": counts.get("errors", 0),
        "rows_without_patient": without,
        "findings": counts.get("findings", 0),
    }
