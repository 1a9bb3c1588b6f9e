"""One patient's rows in, that patient's output rows out: the check both engines run.

The check is the one ``CheckRegimenBatch`` makes (the same validation, the same checker), so a
population review and a batch of the same regimens give the same answers.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from regimen.engine import RegimenChecker
from regimen.model import CheckResult, Severity
from regimen.validation import RequestInvalid
from regimenguard.v1 import regimen_checker_pb2 as pb
from review.rows import PatientRegimen, Row, RowError, regimen_request
from review.schema import MEDICATIONS, PATIENT_ID, PATIENTS, SOURCE
from server.convert import SEVERITY_TO_PROTO, VERDICT_TO_PROTO, request_from_proto

log = logging.getLogger(__name__)
_ORDER_PATH = re.compile(r"^medications\[(\d+)\]\.?(.*)$")


def load_checker(config_path: Path | None = None) -> RegimenChecker:
    """The server's checker (knowledge base + site configuration), built once per process."""
    from server.main import load_checker as server_checker

    return server_checker(config_path)


def check_request(checker: RegimenChecker, message: pb.CheckRegimenRequest) -> CheckResult:
    """Validate and check one request as a CheckRegimenBatch item (raises RequestInvalid)."""
    return checker.check(request_from_proto(message, checker))


@dataclass(slots=True)
class Outcome:
    """What one review pass produced: rows for the three output tables."""

    findings: list[dict] = field(default_factory=list)
    verdicts: list[dict] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)

    def extend(self, other: Outcome) -> None:
        self.findings += other.findings
        self.verdicts += other.verdicts
        self.errors += other.errors


class Reviewer:
    """Checks one patient at a time; built once per worker process."""

    def __init__(self, checker: RegimenChecker, as_of: dt.date) -> None:
        self.checker = checker
        self.as_of = as_of

    def review_patient(
        self, patient_id: str, patient_rows: list[Row], medication_rows: list[Row], out: Outcome
    ) -> None:
        regimen = regimen_request(patient_id, patient_rows, medication_rows, self.as_of)
        errors = list(regimen.errors)
        result = None
        try:
            result = check_request(self.checker, regimen.request)
        except RequestInvalid as invalid:
            errors += _violation_errors(regimen, invalid)
        except Exception:  # a bug: this patient is an error row, the job goes on
            log.exception("internal error checking one regimen of the review")
            errors.append(RowError(MEDICATIONS, "", "internal error checking this regimen"))
        if errors:
            out.errors += [_error_row(patient_id, error) for error in errors]
            return
        assert result is not None
        out.findings += findings_rows(patient_id, result)
        out.verdicts.append(verdict_row(patient_id, result, len(medication_rows)))

    def review_rows(self, rows: Iterable[Row]) -> Iterator[Outcome]:
        """Rows where each patient's rows are contiguous (sorted or grouped by patient_id).

        Yields one Outcome per patient (and one per row without a patient_id).
        """
        current: str | None = None
        patients: list[Row] = []
        medications: list[Row] = []
        for row in rows:
            patient_id = (row.get(PATIENT_ID) or "").strip()
            if not patient_id:
                out = Outcome()
                out.errors.append(
                    _error_row(None, RowError(row.get(SOURCE) or "", PATIENT_ID, "is required"))
                )
                yield out
                continue
            if patient_id != current:
                if current is not None:
                    yield self._one(current, patients, medications)
                current, patients, medications = patient_id, [], []
            (patients if row.get(SOURCE) == PATIENTS else medications).append(row)
        if current is not None:
            yield self._one(current, patients, medications)

    def _one(self, patient_id: str, patients: list[Row], medications: list[Row]) -> Outcome:
        out = Outcome()
        self.review_patient(patient_id, patients, medications, out)
        return out


def _violation_errors(regimen: PatientRegimen, invalid: RequestInvalid) -> list[RowError]:
    orders = regimen.request.medications
    errors = []
    for violation in invalid.violations:
        match = _ORDER_PATH.match(violation.field)
        if match and int(match.group(1)) < len(orders):
            drug = orders[int(match.group(1))].drug
            errors.append(RowError(MEDICATIONS, match.group(2), violation.description, drug))
        elif violation.field.startswith("patient."):
            errors.append(
                RowError(PATIENTS, violation.field.removeprefix("patient."), violation.description)
            )
        else:
            errors.append(RowError(MEDICATIONS, violation.field, violation.description))
    return errors


def _error_row(patient_id: str | None, error: RowError) -> dict:
    return {
        PATIENT_ID: patient_id,
        "source": error.source,
        "drug": error.drug,
        "field": error.field,
        "reason": error.reason,
    }


def severity_name(severity: Severity) -> str:
    return pb.Severity.Name(SEVERITY_TO_PROTO[severity])


def findings_rows(patient_id: str, result: CheckResult) -> list[dict]:
    return [
        {
            PATIENT_ID: patient_id,
            "rule_id": finding.rule_id,
            "severity": severity_name(finding.severity),
            "drugs": list(finding.drugs),
            "message": finding.message,
            "recommendation": finding.recommendation,
            "ncpdp_reason_code": finding.ncpdp_reason_code,
            "guideline_section": finding.guideline_section,
        }
        for finding in result.findings
    ]


def verdict_row(patient_id: str, result: CheckResult, medications: int) -> dict:
    counts = {severity: 0 for severity in Severity}
    for finding in result.findings:
        counts[finding.severity] += 1
    summary = result.summary
    return {
        PATIENT_ID: patient_id,
        "verdict": pb.Verdict.Name(VERDICT_TO_PROTO[result.verdict]),
        "medications": medications,
        "findings": len(result.findings),
        "critical_findings": counts[Severity.CRITICAL],
        "warning_findings": counts[Severity.WARNING],
        "info_findings": counts[Severity.INFO],
        "acetaminophen_mg_per_day": summary.acetaminophen_mg_per_day,
        "acetaminophen_limit_mg_per_day": summary.acetaminophen_limit_mg_per_day,
        "morphine_mg_equivalents_per_day": summary.morphine_mg_equivalents_per_day,
        "serotonergic_agents": summary.serotonergic_agents,
        "interacting_pairs": sorted(
            {
                " + ".join(sorted(set(fired.drugs)))
                for fired in summary.interactions
                if len(set(fired.drugs)) >= 2
            }
        ),
        "knowledge_base_version": result.knowledge_base_version,
    }
