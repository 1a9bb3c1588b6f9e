"""Population review of a FHIR Bulk Data export (NDJSON), mapped as the CDS Hooks door maps.

The same regimens as tables and as FHIR resources give the same findings and verdicts; what
cannot be mapped lands in errors and the rest is checked.
"""

from __future__ import annotations

import json
from pathlib import Path

from regimenguard.review.job import Job
from regimenguard.review.local import LocalOptions, run_local
from regimenguard.review.tables import read_output
from tests import fhir_helpers as fh
from tests import review_helpers as rh


def _for(patient_id: str, resource: dict) -> dict:
    resource = json.loads(json.dumps(resource))
    if resource["resourceType"] == "Patient":
        resource["id"] = patient_id
    else:
        resource["subject"] = {"reference": f"Patient/{patient_id}"}
        resource["id"] = f"{patient_id}-{resource['id']}"
    return resource


def bulk_export(folder: Path) -> Path:
    """Patient.ndjson, MedicationRequest.ndjson and Condition.ndjson as $export writes them."""
    resources = {"Patient": [], "MedicationRequest": [], "Condition": []}  # type: ignore[var-annotated]

    def add(patient_id: str, *items: dict) -> None:
        for item in items:
            resources[item["resourceType"]].append(_for(patient_id, item))

    ibuprofen = fh.med_request(
        "m1", text="ibuprofen", dose=(400, "mg"), frequency=3, period=1, status="active",
        authored="2026-10-01",
    )  # fmt: skip
    acetaminophen = fh.med_request(
        "m2", text="acetaminophen", dose=(1000, "mg"), frequency=6, period=1, status="active"
    )
    add("F1", fh.patient("1980-05-01"), ibuprofen)
    add("F2", fh.patient("1980-05-01"), acetaminophen)
    # only a completed order: no active regimen, nothing to find
    add("F3", fh.patient("1950-01-01"), {**ibuprofen, "status": "completed"})
    # an order whose dosage is not a FHIR Dosage: the patient cannot be checked
    add("F5", fh.patient("1970-01-01"), {**ibuprofen, "dosageInstruction": "400 mg tid"})
    resources["MedicationRequest"].append(_for("F4", acetaminophen))  # no Patient F4
    folder.mkdir(parents=True, exist_ok=True)
    for kind, items in resources.items():
        (folder / f"{kind}.ndjson").write_text(
            "".join(json.dumps(item) + "\n" for item in items), encoding="utf-8"
        )
    return folder


def check_bulk_output(out: Path) -> None:
    verdicts = {row["patient_id"]: row for row in read_output(out, "verdicts").to_pylist()}
    errors = read_output(out, "errors").to_pylist()
    findings = read_output(out, "findings").to_pylist()
    assert set(verdicts) == {"F1", "F2", "F3"}
    assert {row["patient_id"] for row in errors} == {"F4", "F5"}
    f4 = next(row for row in errors if row["patient_id"] == "F4")
    assert "no Patient resource" in f4["reason"]
    f5 = [row for row in errors if row["patient_id"] == "F5"]
    assert any("dosageInstruction" in row["field"] for row in f5), f5
    assert verdicts["F2"]["verdict"] == "VERDICT_REJECT"
    assert verdicts["F2"]["acetaminophen_mg_per_day"] == 6000
    assert any(
        f["patient_id"] == "F2"
        and f["rule_id"] == "ACETAMINOPHEN_DAILY_MAX"
        and f["severity"] == "SEVERITY_CRITICAL"
        for f in findings
    )
    assert verdicts["F3"]["verdict"] == "VERDICT_ACCEPT"
    assert verdicts["F3"]["medications"] == 0


def test_bulk_export_is_reviewed_like_the_same_tables(tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "out"
    totals = run_local(
        Job(bulk_export(tmp_path / "export"), out, rh.AS_OF), LocalOptions(workers=1)
    )
    assert (totals["patients"], totals["verdicts"], totals["error_patients"]) == (5, 3, 2)
    check_bulk_output(out)

    # F1 and F2 as table rows: age 46 on the review date, the same orders
    tables = rh.write_csv_tables(
        tmp_path / "tables",
        [
            {"patient_id": "F1", "drug": "ibuprofen", "dose_mg": "400", "doses_per_day": "3"},
            {"patient_id": "F2", "drug": "acetaminophen", "dose_mg": "1000", "doses_per_day": "6"},
        ],
        [{"patient_id": "F1", "age_years": "46"}, {"patient_id": "F2", "age_years": "46"}],
    )
    table_out = tmp_path / "table-out"
    run_local(Job(tables, table_out, rh.AS_OF), LocalOptions(workers=1))
    fhir_findings = sorted(
        rh.finding_key(row)
        for row in read_output(out, "findings").to_pylist()
        if row["patient_id"] in ("F1", "F2")
    )
    table_findings = sorted(
        rh.finding_key(row) for row in read_output(table_out, "findings").to_pylist()
    )
    assert fhir_findings == table_findings
    assert fhir_findings  # F2's acetaminophen at least

    def verdict_of(folder: Path) -> dict:
        return {
            row["patient_id"]: (row["verdict"], row["acetaminophen_mg_per_day"])
            for row in read_output(folder, "verdicts").to_pylist()
            if row["patient_id"] in ("F1", "F2")
        }

    assert verdict_of(out) == verdict_of(table_out)
