"""``regimen-guard review INPUT --out DIR``: the population review from the command line.

Exit status: 0 when every input patient is in ``verdicts`` or ``errors`` (the answers are in
the tables, not in the status), 3 usage error, 4 input that cannot be read, 6 when the
knowledge base or site configuration cannot be loaded. Only counts and paths are printed: the
output tables are the only place patient ids are written.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from pathlib import Path

EXIT_OK, EXIT_USAGE, EXIT_INPUT, EXIT_STARTUP = 0, 3, 4, 6


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a date YYYY-MM-DD, not {text!r}") from None


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, not {text!r}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "input",
        type=Path,
        help="folder with the medications and patients tables (.parquet or .csv files, or "
        "folders of them), or a FHIR Bulk Data export (.ndjson files)",
    )
    parser.add_argument("--out", type=Path, required=True, help="output folder (resumable)")
    parser.add_argument(
        "--as-of", type=_date, default=None, help="review date YYYY-MM-DD (default today, UTC)"
    )
    parser.add_argument(
        "--engine",
        choices=("local", "spark"),
        default="local",
        help="local: a process pool on this machine (default); spark: PySpark (spark-submit's "
        "master, else local[*])",
    )
    parser.add_argument(
        "--workers", type=_positive, default=None, help="local engine: processes (default: cores)"
    )
    parser.add_argument(
        "--partition-rows",
        type=_positive,
        default=None,
        help="input rows per partition (default 100,000): bounds each worker's memory",
    )
    parser.add_argument(
        "--config",
        type=Path,
        default=os.environ.get("REGIMENGUARD_CONFIG") or None,
        help="site configuration TOML (env REGIMENGUARD_CONFIG); on Spark, a path every "
        "executor can read",
    )
    parser.add_argument("--no-report", action="store_true", help="skip report.html")


def add_review_command(commands) -> argparse.ArgumentParser:  # type: ignore[no-untyped-def]
    """The ``review`` subcommand on a subparsers object."""
    parser = commands.add_parser(
        "review", help="review every regimen of a population (tables in, Parquet + report out)"
    )
    add_arguments(parser)
    return parser


def run_review(args: argparse.Namespace) -> int:
    import pyarrow as pa

    from regimenguard.review.job import Job, JobMismatch
    from regimenguard.review.tables import InputError
    from regimenguard.server.main import StartupError

    as_of = args.as_of or dt.datetime.now(dt.UTC).date()
    job = Job(input=args.input, out=args.out, as_of=as_of, config=args.config)
    try:
        if args.engine == "spark":
            try:
                from regimenguard.review.spark import run_spark
            except ImportError as error:
                print(f"regimen-guard: --engine spark needs pyspark ({error})", file=sys.stderr)
                return EXIT_USAGE
            totals = run_spark(job, partition_rows=args.partition_rows)
        else:
            from regimenguard.review.local import DEFAULT_PARTITION_ROWS, LocalOptions, run_local

            totals = run_local(
                job,
                LocalOptions(
                    workers=args.workers or 0,
                    partition_rows=args.partition_rows or DEFAULT_PARTITION_ROWS,
                ),
            )
        if not args.no_report:
            from regimenguard.review.report import write_report

            write_report(job.out, as_of, args.engine)
    except (InputError, JobMismatch, OSError) as error:
        print(f"regimen-guard: {error}", file=sys.stderr)
        return EXIT_INPUT
    except pa.ArrowException as error:
        # pyarrow's message can quote the offending line (patient data): name only the kind
        print(
            f"regimen-guard: cannot read the input tables ({type(error).__name__}): check "
            "that they are Parquet or CSV with a header row",
            file=sys.stderr,
        )
        return EXIT_INPUT
    except StartupError as error:
        print(f"regimen-guard: cannot start: {error}", file=sys.stderr)
        return EXIT_STARTUP
    from regimenguard.review.job import SUMMARY_FILE, write_json

    write_json(
        job.out / SUMMARY_FILE, {"as_of": as_of.isoformat(), "engine": args.engine, **totals}
    )
    print(
        f"review as of {as_of.isoformat()}: {totals['patients']:,} patients, "
        f"{totals['verdicts']:,} with a verdict, {totals['error_patients']:,} in errors "
        f"({totals['error_rows']:,} error rows, {totals['rows_without_patient']:,} without a "
        f"patient_id); {totals['findings']:,} findings; written to {job.out}"
    )
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    """``python -m regimenguard.review.cli`` (and ``spark-submit ... review/spark.py``)."""
    parser = argparse.ArgumentParser(
        prog="regimen-guard review", description=__doc__.split("\n")[0]
    )
    add_arguments(parser)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit:
        return EXIT_USAGE if exit.code else EXIT_OK
    return run_review(args)


if __name__ == "__main__":
    sys.exit(main())
