"""One patient's rows in, that patient's output rows out: the check both engines run.

The check is the one ``CheckRegimenBatch`` makes (the same validation, the same checker), so a
population review and a batch of the same regimens give the same answers.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from regimenguard.regimen.model import CheckResult, Severity
from regimenguard.regimen.service import RegimenService
from regimenguard.regimen.validation import FieldViolation, RequestInvalid
from regimenguard.review.rows import PatientRegimen, Row, RowError, regimen_request
from regimenguard.review.schema import MEDICATIONS, PATIENT_ID, PATIENTS, RESOURCE, SOURCE
from regimenguard.server.convert import SEVERITY_TO_PROTO, VERDICT_TO_PROTO, decode_request
from regimenguard.v1 import regimen_checker_pb2 as pb

if TYPE_CHECKING:
    from regimenguard.review.fhir_check import FhirReviewer

log = logging.getLogger(__name__)


def load_service(config_path: Path | None = None) -> RegimenService:
    """The service every door uses (knowledge base + site configuration), once per process.

    Raises regimenguard.server.main.StartupError, naming the file, row or key, when either cannot be used.
    """
    from regimenguard.server.main import load_checker

    checker = load_checker(config_path)  # the server's start-up checks, headlines included
    return RegimenService(checker.knowledge, checker=checker)


def check_request(service: RegimenService, message: pb.CheckRegimenRequest) -> CheckResult:
    """Decode, validate and check one request as a CheckRegimenBatch item (RequestInvalid)."""
    return service.check(decode_request(message, service.knowledge, records=service.order_records))


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

    def __init__(
        self,
        service: RegimenService,
        as_of: dt.date,
        fhir_medications: Mapping[str, dict[str, Any]] | None = None,
    ) -> None:
        self.service = service
        self.as_of = as_of
        self._fhir_medications = fhir_medications or {}
        self._fhir: FhirReviewer | None = None

    def review_resources(self, patient_id: str, rows: list[Row], out: Outcome) -> None:
        """A patient of a FHIR Bulk Data export (regimenguard.review.fhir_check)."""
        if self._fhir is None:
            from regimenguard.review.fhir_check import FhirReviewer

            self._fhir = FhirReviewer(self.service, self.as_of, self._fhir_medications)
        try:
            result, errors = self._fhir.regimen(patient_id, rows)
        except Exception:  # a bug: this patient is an error row, the job goes on
            log.exception("internal error checking one regimen of the review")
            result, errors = None, [_INTERNAL]
        _record(patient_id, result, errors, len(result.summary.orders) if result else 0, out)

    def review_patient(
        self, patient_id: str, patient_rows: list[Row], medication_rows: list[Row], out: Outcome
    ) -> None:
        """A patient of the medications and patients tables."""
        regimen = regimen_request(patient_id, patient_rows, medication_rows, self.as_of)
        errors = list(regimen.errors)
        result = None
        try:
            result = check_request(self.service, regimen.request)
        except RequestInvalid as invalid:
            errors += _violation_errors(regimen, invalid)
        except Exception:  # a bug: this patient is an error row, the job goes on
            log.exception("internal error checking one regimen of the review")
            errors.append(_INTERNAL)
        _record(patient_id, result, errors, len(medication_rows), out)

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
        if any(row.get(RESOURCE) for row in (*patients, *medications)):
            self.review_resources(patient_id, [*patients, *medications], out)
        else:
            self.review_patient(patient_id, patients, medications, out)
        return out


_INTERNAL = RowError(MEDICATIONS, "", "internal error checking this regimen")


def _record(
    patient_id: str,
    result: CheckResult | None,
    errors: list[RowError],
    medications: int,
    out: Outcome,
) -> None:
    """The patient's verdict and findings, or (anything wrong at all) only its errors."""
    if errors or result is None:
        out.errors += [_error_row(patient_id, error) for error in errors or [_INTERNAL]]
        return
    out.findings += findings_rows(patient_id, result)
    out.verdicts.append(verdict_row(patient_id, result, medications))


def _violation_errors(regimen: PatientRegimen, invalid: RequestInvalid) -> list[RowError]:
    """Each violation as the input row (and column) it is about."""
    orders = regimen.request.medications
    errors = []
    for violation in invalid.violations:
        path = violation.path
        if len(path) >= 2 and path[0] == "medications" and isinstance(path[1], int):
            drug = orders[path[1]].drug if path[1] < len(orders) else ""
            field = FieldViolation(path[2:], "").proto_path()
            errors.append(RowError(MEDICATIONS, field, violation.description, drug))
        elif path and path[0] == "patient":
            field = FieldViolation(path[1:], "").proto_path()
            errors.append(RowError(PATIENTS, field, violation.description))
        else:
            errors.append(RowError(MEDICATIONS, violation.proto_path(), violation.description))
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
