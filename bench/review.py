"""Population review throughput: the local engine on 2 cores, CheckRegimenBatch, Spark local[2].

* **Local engine**: ``regimen-guard review`` (2 worker processes) on a generated population of
  ``patients`` (default 100,000; bench/population.py, Parquet), timed end to end without the
  report (spill, check, write); the rate projects the time for 1,000,000 patients, since the
  engine's work per patient does not depend on the population's size.
* **CheckRegimenBatch**: bench/bulk.py's batch client against ``regimen-guard serve --workers
  2`` for ``grpc_budget_s`` seconds (the same regimen templates), for the rate beside it.
* **Spark**: the same population through the Spark engine in ``local[2]`` (start-up timed
  apart), when Java and pyspark are there.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

MILLION = 1_000_000
AS_OF = dt.date(2026, 11, 23)


def _population(folder: Path, patients: int) -> dict:
    from bench import population

    started = time.perf_counter()
    requests = population.population(patients)
    medications, table = population.tables(requests)
    population.write(folder, medications, table)
    return {
        "patients": patients,
        "medication_rows": medications.num_rows,
        "generate_s": time.perf_counter() - started,
    }


def _local(source: Path, out: Path, workers: int) -> dict:
    from regimenguard.review.job import Job
    from regimenguard.review.local import LocalOptions, run_local

    started = time.perf_counter()
    totals = run_local(Job(source, out, AS_OF), LocalOptions(workers=workers))
    wall = time.perf_counter() - started
    rate = totals["patients"] / wall
    return {
        "workers": workers,
        "wall_s": wall,
        "patients_per_s": rate,
        "projected_1m_s": MILLION / rate,
        "totals": totals,
    }


def _grpc_batch(budget_s: float) -> dict:
    from bench.bulk import run_bulk
    from bench.proc import free_port
    from bench.servers import ServerProcess

    server = ServerProcess.project(free_port(), workers=2)
    try:
        server.wait_serving()
        result = run_bulk(server, mode="batch", count=MILLION, chunk=1000, budget_s=budget_s)
    finally:
        server.stop()
    return {
        "regimens": result["answers"],
        "wall_s": result["wall_s"],
        "regimens_per_s": result["regimens_per_s"],
        "projected_1m_s": MILLION / result["regimens_per_s"] if result["regimens_per_s"] else None,
        "all_answered": result["all_answered"],
    }


def _spark(source: Path, out: Path) -> dict:
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        return {"skipped": "no Java runtime"}
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        return {"skipped": "pyspark not installed"}
    from regimenguard.review.job import Job
    from regimenguard.review.spark import run_spark

    os.environ["PYSPARK_PYTHON"] = sys.executable
    started = time.perf_counter()
    spark = (
        SparkSession.builder.master("local[2]")
        .appName("regimen-guard review bench")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    startup = time.perf_counter() - started
    try:
        started = time.perf_counter()
        totals = run_spark(Job(source, out, AS_OF), spark)
        wall = time.perf_counter() - started
    finally:
        spark.stop()
    rate = totals["patients"] / wall
    return {
        "startup_s": startup,
        "wall_s": wall,
        "patients_per_s": rate,
        "projected_1m_s": MILLION / rate,
        "totals": totals,
    }


def run(
    *,
    quick: bool = False,
    patients: int = 100_000,
    spark_patients: int | None = None,
    grpc_budget_s: float = 20.0,
) -> dict:
    patients = 5_000 if quick else patients
    spark_patients = patients if quick or spark_patients is None else spark_patients
    scratch = Path(tempfile.mkdtemp(prefix="review-bench-"))
    try:
        source = scratch / "input"
        out: dict = {"population": _population(source, patients)}
        out["local"] = _local(source, scratch / "local-out", workers=2)
        out["grpc_batch"] = _grpc_batch(4.0 if quick else grpc_budget_s)
        spark_source = source
        if spark_patients != patients:
            spark_source = scratch / "spark-input"
            out["spark_population"] = _population(spark_source, spark_patients)
        out["spark"] = _spark(spark_source, scratch / "spark-out")
        if "patients_per_s" in out["spark"] and spark_source == source:
            out["spark_same_answers"] = out["spark"]["totals"] == out["local"]["totals"]
        return out
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def render(section: dict) -> list[str]:
    local, grpc, spark = section["local"], section["grpc_batch"], section["spark"]
    lines = [
        "6. Population review                 patients     wall s   patients/s   1,000,000 in",
        f"   local engine, 2 workers           {local['totals']['patients']:>9,} "
        f"{local['wall_s']:>10.1f} {local['patients_per_s']:>12,.0f} "
        f"{local['projected_1m_s']:>10.0f} s (projected)",
        f"   CheckRegimenBatch, serve -w 2     {grpc['regimens']:>9,} {grpc['wall_s']:>10.1f} "
        f"{grpc['regimens_per_s']:>12,.0f} {grpc['projected_1m_s'] or 0:>10.0f} s (projected)",
    ]
    if "patients_per_s" in spark:
        lines.append(
            f"   Spark engine, local[2]            {spark['totals']['patients']:>9,} "
            f"{spark['wall_s']:>10.1f} {spark['patients_per_s']:>12,.0f} "
            f"{spark['projected_1m_s']:>10.0f} s (projected; start-up {spark['startup_s']:.0f} s "
            f"apart; same totals as local: {section.get('spark_same_answers')})"
        )
    else:
        lines.append(f"   Spark engine: skipped ({spark.get('skipped')})")
    return lines
