"""Population review, local engine: same answers as CheckRegimenBatch, bad rows, resume."""

from __future__ import annotations

import io
import logging
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import grpc
import pytest

from regimenguard.review.job import Job
from regimenguard.review.local import LocalOptions, done_partitions, run_local
from regimenguard.review.tables import read_output
from regimenguard.v1 import regimen_checker_pb2 as pb
from regimenguard.v1 import regimen_checker_pb2_grpc as pb_grpc
from tests import review_helpers as rh
from tests.grpc_helpers import start_server

BATCH = 1000


def _batch_answers(checker, requests) -> list[pb.CheckRegimenResponse]:  # type: ignore[no-untyped-def]
    running = start_server(checker)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            stub = pb_grpc.RegimenCheckerServiceStub(channel)
            answers: list[pb.CheckRegimenResponse] = []
            for start in range(0, len(requests), BATCH):
                chunk = []
                for request in requests[start : start + BATCH]:
                    chunk.append(rh.as_reviewed(request))
                reply = stub.CheckRegimenBatch(
                    pb.CheckRegimenBatchRequest(requests=chunk), timeout=120
                )
                answers.extend(reply.responses)
            return answers
    finally:
        running.stop(0)


def test_local_engine_gives_check_regimen_batch_answers(checker) -> None:  # type: ignore[no-untyped-def]
    out, totals = rh.local_review()
    _, requests = rh.generated()
    assert totals["patients"] == totals["verdicts"] == rh.PATIENTS
    assert totals["error_rows"] == 0
    answers = _batch_answers(checker, requests)
    assert len(answers) == len(requests)
    expected_verdicts = {}
    expected_findings = []
    for request, answer in zip(requests, answers, strict=True):
        assert not answer.HasField("error"), answer.error
        assert answer.request_id == request.request_id
        expected_verdicts[answer.request_id] = (
            pb.Verdict.Name(answer.verdict),
            round(answer.summary.acetaminophen_mg_per_day, 6),
            round(answer.summary.morphine_mg_equivalents_per_day, 6),
            answer.summary.serotonergic_agents,
            len(answer.findings),
        )
        expected_findings += [
            (
                answer.request_id,
                f.rule_id,
                pb.Severity.Name(f.severity),
                tuple(f.drugs),
                f.message,
                f.recommendation,
                f.ncpdp_reason_code,
            )
            for f in answer.findings
        ]
    verdicts = {
        row["patient_id"]: (
            row["verdict"],
            round(row["acetaminophen_mg_per_day"], 6),
            round(row["morphine_mg_equivalents_per_day"], 6),
            row["serotonergic_agents"],
            row["findings"],
        )
        for row in read_output(out, "verdicts").to_pylist()
    }
    assert verdicts == expected_verdicts
    findings = [rh.finding_key(row) for row in read_output(out, "findings").to_pylist()]
    assert sorted(findings) == sorted(expected_findings)
    # the population is not trivial: every verdict, and critical findings, occur
    assert {v[0] for v in verdicts.values()} == {
        "VERDICT_ACCEPT",
        "VERDICT_REVIEW",
        "VERDICT_REJECT",
    }
    assert Counter(f[2] for f in findings)["SEVERITY_CRITICAL"] > 1000


AS_OF_TEXT = rh.AS_OF.isoformat()
BAD_MEDICATIONS = [
    # P1: a guideline-endorsed NSAID alone: ACCEPT, nothing above INFO
    {
        "patient_id": "P1",
        "drug": "naproxen",
        "dose_mg": "500",
        "doses_per_day": "2",
        "route": "ROUTE_ORAL",
        "action": "ORDER_ACTION_CONTINUE",
        "started_on": "2026-10-01",
    },
    # P2: an enum value that does not exist
    {
        "patient_id": "P2",
        "drug": "ibuprofen",
        "dose_mg": "400",
        "doses_per_day": "3",
        "route": "ROUTE_NASAL_SPRAY",
    },
    {"patient_id": "P2", "drug": "acetaminophen", "dose_mg": "500", "doses_per_day": "2"},
    # P3: a negative dose
    {"patient_id": "P3", "drug": "naproxen", "dose_mg": "-500", "doses_per_day": "2"},
    # P4: 1,000 mg acetaminophen six times a day = 6,000 mg/day
    {"patient_id": "P4", "drug": "acetaminophen", "dose_mg": "1000", "doses_per_day": "6"},
    # P4 again, with spaces around the id: the same patient
    {"patient_id": " P4 ", "drug": "naproxen", "dose_mg": "500", "doses_per_day": "2"},
    # P6: naproxen stopped before the review date, ibuprofen now: no duplicate NSAIDs
    {
        "patient_id": "P6",
        "drug": "naproxen",
        "dose_mg": "500",
        "doses_per_day": "2",
        "started_on": "2026-06-01",
        "stopped_on": "2026-10-01",
    },
    {
        "patient_id": "P6",
        "drug": "ibuprofen",
        "dose_mg": "400",
        "doses_per_day": "3",
        "started_on": "2026-10-02",
    },
    # P9: no row in patients
    {"patient_id": "P9", "drug": "naproxen", "dose_mg": "500", "doses_per_day": "2"},
    # a row with no patient at all
    {"patient_id": "", "drug": "naproxen", "dose_mg": "500", "doses_per_day": "2"},
]
BAD_PATIENTS = [
    {"patient_id": "P1", "age_years": "52", "pain_duration_weeks": "16"},
    {"patient_id": "P2", "age_years": "40"},
    {"patient_id": "P3", "age_years": "61"},
    {"patient_id": "P4", "age_years": "45", "hepatic_impairment": "false"},
    {"patient_id": "P5", "age_years": "30"},  # no medications: an empty regimen
    {"patient_id": "P6", "age_years": "50", "pain_duration_weeks": "20"},
]


def bad_rows_input(tmp_path: Path) -> Path:
    return rh.write_csv_tables(tmp_path / "bad-input", BAD_MEDICATIONS, BAD_PATIENTS)


def check_bad_rows_output(out: Path) -> None:
    """What both engines must write for BAD_MEDICATIONS / BAD_PATIENTS."""
    verdicts = {row["patient_id"]: row for row in read_output(out, "verdicts").to_pylist()}
    errors = read_output(out, "errors").to_pylist()
    findings = read_output(out, "findings").to_pylist()
    assert set(verdicts) == {"P1", "P4", "P5", "P6"}
    assert {row["patient_id"] for row in errors} == {"P2", "P3", "P9", None}
    by_patient = {row["patient_id"]: row for row in errors}
    assert by_patient["P2"]["field"] == "route"
    assert "unknown enum value 'ROUTE_NASAL_SPRAY'" in by_patient["P2"]["reason"]
    assert by_patient["P2"]["drug"] == "ibuprofen"
    assert (by_patient["P3"]["field"], by_patient["P3"]["reason"]) == (
        "dose_mg",
        "must not be negative",
    )
    assert by_patient["P9"]["field"] == "patient_id"
    assert "no row in patients" in by_patient["P9"]["reason"]
    assert by_patient[None]["reason"] == "is required"
    assert len(errors) == 4
    # the rest is checked, with the right rules and numbers
    assert verdicts["P1"]["verdict"] == "VERDICT_ACCEPT"
    assert all(f["severity"] == "SEVERITY_INFO" for f in findings if f["patient_id"] == "P1"), (
        findings
    )
    assert verdicts["P4"]["verdict"] == "VERDICT_REJECT"
    assert verdicts["P4"]["acetaminophen_mg_per_day"] == 6000
    p4 = [f for f in findings if f["patient_id"] == "P4"]
    assert any(
        f["rule_id"] == "ACETAMINOPHEN_DAILY_MAX"
        and f["severity"] == "SEVERITY_CRITICAL"
        and "6,000" in f["message"]
        for f in p4
    ), p4
    assert verdicts["P4"]["medications"] == 2
    assert verdicts["P5"]["verdict"] == "VERDICT_ACCEPT"
    assert verdicts["P5"]["medications"] == 0
    assert not any(
        f["patient_id"] == "P6" and f["rule_id"] == "DUPLICATE_THERAPY" for f in findings
    )
    assert verdicts["P6"]["medications"] == 2


def test_bad_rows_land_in_errors_and_the_rest_is_checked(tmp_path, capsys, caplog) -> None:  # type: ignore[no-untyped-def]
    from regimenguard.client.cli import main

    caplog.set_level(logging.DEBUG)
    out = tmp_path / "out"
    status = main(
        [
            "review",
            str(bad_rows_input(tmp_path)),
            "--out",
            str(out),
            "--as-of",
            AS_OF_TEXT,
            "--workers",
            "1",
            "--no-report",
        ]
    )
    printed = capsys.readouterr()
    assert status == 0, printed.err
    check_bad_rows_output(out)
    assert "7 patients, 4 with a verdict, 3 in errors (4 error rows, 1 without a patient_id)" in (
        printed.out
    )
    # no patient ids outside the output tables
    for text in (printed.out, printed.err, caplog.text):
        for patient in ("P1", "P2", "P3", "P4", "P9"):
            assert patient not in text.replace(str(tmp_path), "")


def test_a_different_job_is_refused_in_the_same_folder(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    from regimenguard.client.cli import main

    source, out = bad_rows_input(tmp_path), tmp_path / "out"
    args = ["review", str(source), "--out", str(out), "--workers", "1", "--no-report"]
    assert main([*args, "--as-of", AS_OF_TEXT]) == 0
    assert main([*args, "--as-of", "2026-11-24"]) == 4
    assert "different as_of" in capsys.readouterr().err


CRASH_PATIENTS = 3000


def test_killed_job_resumes_and_counts_every_patient_once(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from bench import population

    requests = population.population(CRASH_PATIENTS, seed=7)
    source = population.write(tmp_path / "in", *population.tables(requests, seed=7))
    out = tmp_path / "out"
    command = [
        sys.executable, "-m", "regimenguard.review.cli", str(source), "--out", str(out),
        "--as-of", AS_OF_TEXT, "--workers", "1", "--partition-rows", "500", "--no-report",
    ]  # fmt: skip
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 120
        while len(done_partitions(out)) < 3 and process.poll() is None:
            assert time.monotonic() < deadline, "no partition finished in 120 s"
            time.sleep(0.02)
        os.killpg(process.pid, signal.SIGKILL)
    finally:
        process.wait()
    assert process.returncode == -signal.SIGKILL, "the job ended before it could be killed"
    finished = done_partitions(out)
    total = len(list((out / "_work" / "spill").glob("part-*.parquet")))
    assert 3 <= len(finished) < total, (len(finished), total)
    stamps = {
        part: (out / "_manifest" / f"part-{part:05d}.json").stat().st_mtime_ns for part in finished
    }

    totals = run_local(Job(source, out, rh.AS_OF), LocalOptions(workers=1, partition_rows=500))

    ids = rh.patient_ids(out, "verdicts") + rh.patient_ids(out, "errors")
    assert len(ids) == len(set(ids)) == CRASH_PATIENTS
    assert set(ids) == {request.request_id for request in requests}
    assert totals["patients"] == CRASH_PATIENTS
    # the partitions done before the crash were not redone
    for part, stamp in stamps.items():
        assert (out / "_manifest" / f"part-{part:05d}.json").stat().st_mtime_ns == stamp
    assert not (out / "_work").exists()
    # findings are not duplicated either: one set per patient with a verdict
    findings = read_output(out, "findings").to_pylist()
    counts = Counter(row["patient_id"] for row in findings)
    per_patient = {
        row["patient_id"]: row["findings"] for row in read_output(out, "verdicts").to_pylist()
    }
    assert all(counts[patient] == n for patient, n in per_patient.items())


def test_unreadable_table_is_an_input_error_that_quotes_no_row(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    from regimenguard.client.cli import main

    source = rh.write_csv_tables(tmp_path / "in", [], [{"patient_id": "P1"}])
    (source / "medications.csv").write_text("patient_id,drug\nP77,naproxen,extra\n")
    assert main(["review", str(source), "--out", str(tmp_path / "o")]) == 4
    err = capsys.readouterr().err
    assert "cannot read the input tables" in err
    assert "P77" not in err and "naproxen" not in err


def test_input_without_tables_is_an_input_error(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    from regimenguard.client.cli import main

    (tmp_path / "empty").mkdir()
    assert main(["review", str(tmp_path / "empty"), "--out", str(tmp_path / "o")]) == 4
    assert "no medications table" in capsys.readouterr().err


@pytest.mark.parametrize("bad", ["2026-13-01", "yesterday"])
def test_bad_as_of_is_a_usage_error(tmp_path, bad: str) -> None:
    from regimenguard.client.cli import main

    assert main(["review", str(tmp_path), "--out", str(tmp_path / "o"), "--as-of", bad]) == 3


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_shows_rate_and_eta_on_a_terminal_only() -> None:
    from regimenguard.review.progress import Progress

    terminal = _Terminal()
    bar = Progress(total_parts=4, done_parts=1, stream=terminal)
    bar.advance(patients=250)
    bar.close()
    last = terminal.getvalue().split("\r")[-1]
    assert "2/4 partitions" in last and "250 patients" in last
    assert "/s" in last and "ETA" in last
    piped = io.StringIO()
    quiet = Progress(total_parts=4, stream=piped)
    quiet.advance(patients=250)
    quiet.close()
    assert piped.getvalue() == ""
