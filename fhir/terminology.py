"""The FHIR mapping's terminology tables (fhir/data), loaded and validated once at start-up.

- ``condition_codes.csv``: SNOMED CT and ICD-10-CM codes of the conditions that set a patient
  field (``hepatic_impairment``, ...), or ``low_back_pain`` whose onset gives the pain duration.
  ICD-10-CM rows match exactly or by prefix (``F11.2`` covers ``F11.20``-``F11.29``);
  ``counts_when_resolved`` = yes keeps a history condition (GI bleeding, a substance use
  disorder) counting after it resolved.
- ``routes.csv``: SNOMED CT route codes to the domain's routes.
- ``dose_forms.csv``: RxNorm dose forms, with their route and whether they are extended-release.
- ``rxnorm_salts.csv``: salt words of RxNorm ingredient names (``oxycodone hydrochloride``).
- ``timing_codes.csv``: FHIR timing abbreviations (``BID``, ``Q6H``) as doses per day.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from regimenguard.interactions.datafile import DataError, Row, load_table
from regimenguard.regimen.model import Route

DATA_DIR = Path(__file__).parent / "data"

SNOMED = "http://snomed.info/sct"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
SYSTEMS = {"snomed": SNOMED, "icd10cm": ICD10CM}
# Not a Patient flag: the onset of this condition gives Patient.pain_duration_weeks.
LOW_BACK_PAIN = "low_back_pain"


@dataclass(frozen=True, slots=True)
class ConditionCode:
    system: str
    code: str
    prefix: bool
    patient_field: str
    counts_when_resolved: bool
    display: str


@dataclass(frozen=True, slots=True)
class DoseForm:
    name: str
    route: Route
    extended_release: bool


@dataclass(frozen=True, slots=True)
class Terminology:
    conditions: tuple[ConditionCode, ...]
    # exact (system, normalized code) -> rows; prefix rows are searched in ``conditions``
    exact: Mapping[tuple[str, str], tuple[ConditionCode, ...]]
    routes: Mapping[str, Route]
    dose_forms: Mapping[str, DoseForm]  # keyed by casefolded name
    salts: frozenset[str]
    timing_codes: Mapping[str, float]  # FHIR timing abbreviation (BID, Q6H) -> doses per day

    def condition_fields(self, system: str, code: str) -> tuple[ConditionCode, ...]:
        """The table rows a coded condition matches (ICD-10-CM compared without its dot)."""
        key = normalize_code(system, code)
        found = list(self.exact.get((system, key), ()))
        found.extend(
            row
            for row in self.conditions
            if row.prefix and row.system == system and key.startswith(row.code)
        )
        return tuple(found)


def normalize_code(system: str, code: str) -> str:
    code = code.strip()
    return code.replace(".", "").upper() if system == ICD10CM else code


def load_terminology(
    data_dir: Path = DATA_DIR, patient_fields: frozenset[str] | None = None
) -> Terminology:
    """Raises DataError (file and row named) on a bad row; ``patient_fields`` are the Patient
    boolean fields a row may name (rows naming a field the model lacks are kept out)."""

    def condition(row: Row) -> ConditionCode:
        system = SYSTEMS.get(row.text("system"))
        if system is None:
            raise row.error(f"system must be one of {sorted(SYSTEMS)}")
        match = row.text("match")
        if match not in ("exact", "prefix"):
            raise row.error("match must be 'exact' or 'prefix'")
        row.text("source")
        row.flag("needs_confirmation")
        return ConditionCode(
            system=system,
            code=normalize_code(system, row.text("code")),
            prefix=match == "prefix",
            patient_field=row.text("patient_field"),
            counts_when_resolved=row.flag("counts_when_resolved"),
            display=row.text("display"),
        )

    def route(row: Row) -> tuple[str, Route]:
        row.text("source")
        return row.text("snomed_code"), _route(row)

    def dose_form(row: Row) -> DoseForm:
        row.text("source")
        return DoseForm(row.text("dose_form"), _route(row), row.flag("extended_release"))

    def salt(row: Row) -> str:
        row.text("source")
        return row.text("salt").casefold()

    conditions = tuple(
        record
        for _, record in load_table(
            data_dir / "condition_codes.csv",
            (
                "system",
                "code",
                "match",
                "patient_field",
                "counts_when_resolved",
                "display",
                "needs_confirmation",
                "source",
            ),
            condition,
        )
    )
    if patient_fields is not None:
        known = patient_fields | {LOW_BACK_PAIN}
        # A row for a Patient field the model does not have yet stays in the table, unused.
        conditions = tuple(row for row in conditions if row.patient_field in known)
    exact: dict[tuple[str, str], list[ConditionCode]] = {}
    for row in conditions:
        if not row.prefix:
            exact.setdefault((row.system, row.code), []).append(row)
    routes = dict(
        record
        for _, record in load_table(
            data_dir / "routes.csv", ("snomed_code", "display", "route", "source"), route
        )
    )
    forms = {
        form.name.casefold(): form
        for _, form in load_table(
            data_dir / "dose_forms.csv",
            ("dose_form", "route", "extended_release", "source"),
            dose_form,
        )
    }
    salts = frozenset(
        record for _, record in load_table(data_dir / "rxnorm_salts.csv", ("salt", "source"), salt)
    )
    timing_codes = dict(
        record
        for _, record in load_table(
            data_dir / "timing_codes.csv",
            ("code", "doses_per_day", "source"),
            lambda row: (
                row.text("code").upper(),
                (row.text("source"), row.number("doses_per_day", required=True))[1],
            ),
        )
    )
    if not conditions or not routes or not forms:
        raise DataError("fhir/data: the condition, route and dose-form tables must not be empty")
    return Terminology(
        conditions=conditions,
        exact=MappingProxyType({key: tuple(rows) for key, rows in exact.items()}),
        routes=MappingProxyType(routes),
        dose_forms=MappingProxyType(forms),
        salts=salts,
        timing_codes=MappingProxyType(timing_codes),
    )


def _route(row: Row) -> Route:
    try:
        return Route(row.text("route"))
    except ValueError:
        raise row.error(f"route must be one of {[r.value for r in Route]}") from None
