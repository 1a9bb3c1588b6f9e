"""Population review on Spark (local[2]): the same tables as the local engine.

Needs Java (17+) and pyspark; without them every test here is skipped with the reason shown.
One SparkSession for the module: Spark's start-up is the slow part.
"""

from __future__ import annotations

import os
import shutil
import sys

import pytest

from regimenguard.review.job import Job
from tests import review_helpers as rh
from tests.test_review import bad_rows_input, check_bad_rows_output


def _skip_reason() -> str | None:
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        return "no Java runtime: the Spark engine tests need Java 17+ (apt-get install openjdk-17-jre-headless)"
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "pyspark is not installed (pip install 'regimen-guard[spark]')"
    return None


REASON = _skip_reason()
pytestmark = pytest.mark.skipif(REASON is not None, reason=REASON or "")


@pytest.fixture(scope="module")
def spark():  # type: ignore[no-untyped-def]
    from pyspark.sql import SparkSession

    os.environ["PYSPARK_PYTHON"] = sys.executable  # executors run this interpreter
    session = (
        SparkSession.builder.master("local[2]")
        .appName("regimen-guard review tests")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def test_spark_engine_writes_the_local_engines_findings_and_verdicts(spark, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from regimenguard.review.spark import run_spark

    source, _ = rh.generated()
    local_out, local_totals = rh.local_review()
    out = tmp_path / "spark-out"
    totals = run_spark(Job(source, out, rh.AS_OF), spark)
    assert totals == local_totals
    assert totals["patients"] == rh.PATIENTS
    for table in ("verdicts", "findings", "errors"):
        spark_rows = rh.sorted_rows(out, table)
        assert spark_rows == rh.sorted_rows(local_out, table), table
    assert len(rh.sorted_rows(out, "findings")) > rh.PATIENTS  # not vacuous


def test_spark_engine_puts_bad_rows_in_errors_like_the_local_engine(spark, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from regimenguard.review.spark import run_spark

    out = tmp_path / "out"
    totals = run_spark(Job(bad_rows_input(tmp_path), out, rh.AS_OF), spark)
    assert (totals["patients"], totals["error_patients"], totals["rows_without_patient"]) == (
        7,
        3,
        1,
    )
    check_bad_rows_output(out)


def test_spark_engine_reviews_a_bulk_export_like_the_local_engine(spark, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from regimenguard.review.spark import run_spark
    from tests.test_review_fhir import bulk_export, check_bulk_output

    out = tmp_path / "out"
    totals = run_spark(Job(bulk_export(tmp_path / "export"), out, rh.AS_OF), spark)
    assert (totals["patients"], totals["verdicts"], totals["error_patients"]) == (5, 3, 2)
    check_bulk_output(out)
