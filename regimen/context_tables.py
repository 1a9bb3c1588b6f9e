"""Clinical context data: washouts, indications, opioid forms, thresholds and advice.

The tables that make findings fit the patient in front of the prescriber, each a versioned
CSV file with a source on every row:

- ``interactions/data/washouts.csv``: how long a stopped drug still counts for an interaction
  (an MAOI for 14 days before a serotonergic drug; fluoxetine for 5 weeks before an MAOI);
- ``interactions/data/indications.csv``: how an indication is written (``OUD``, ``MAT``) and
  what it means (``opioid_use_disorder``);
- ``interactions/data/indication_treatments.csv``: which ingredients treat such an indication
  and which of their classes do not apply then (methadone for OUD is not a restricted opioid);
- ``interactions/data/context_severity.csv``: patient contexts that lower a rule to advice
  (cancer treatment, palliative care: the CDC guideline does not cover them);
- ``interactions/data/older_adult_advice.csv``: older-adult advice by class;
- ``dosing/data/opioid_forms.csv``: long-acting and opioid-tolerant-only forms, and opioids
  MME does not apply to;
- ``dosing/data/starting_daily_doses.csv``: the daily amount a new agent starts at;
- ``dosing/data/dose_exemptions.csv``: a class an ingredient does not have at low daily doses;
- ``dosing/data/taper_on_stop.csv``: drugs to taper rather than stop abruptly;
- ``dosing/data/opioid_thresholds.csv``: opioid tolerance and the naloxone threshold.

Loaded and validated once at start-up (a bad row stops it, naming the file and row); every
node, ingredient and rule id must exist in the interaction knowledge base.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType

from regimenguard.dosing.tables import DATA_DIR as DOSING_DATA_DIR
from regimenguard.dosing.tables import ROUTES, KnownNames
from regimenguard.interactions.datafile import DataError, Row, content_hash, load_table
from regimenguard.interactions.knowledge_base import CONDITIONS
from regimenguard.interactions.knowledge_base import DATA_DIR as INTERACTION_DATA_DIR
from regimenguard.interactions.severity import Severity
from regimenguard.regimen.model import Route

OPIOID_THRESHOLDS = (
    "opioid_tolerance_mme_per_day",
    "opioid_tolerance_days",
    "naloxone_mme_per_day",
)
OPIOID_USE_DISORDER = "opioid_use_disorder"
_SPACES = re.compile(r"\s+")


def normalize_indication(text: str) -> str:
    """``  Opioid  Use Disorder. `` -> ``opioid use disorder``: case, spacing, end punctuation."""
    return _SPACES.sub(" ", text.casefold()).strip().rstrip(".;,").strip()


@dataclass(frozen=True, slots=True)
class Washout:
    """A drug with node ``stopped`` still counts against drugs with node ``other`` for ``days``."""

    stopped: str
    other: str
    rule_id: str
    days: float
    needs_confirmation: bool
    source: str

    @property
    def specific(self) -> bool:
        """A drug row is more specific than a class row (and wins over it)."""
        return self.stopped.startswith("drug:")


@dataclass(frozen=True, slots=True)
class IndicationTreatment:
    meaning: str
    ingredient: str
    without_classes: tuple[str, ...]
    source: str


@dataclass(frozen=True, slots=True)
class SeverityCap:
    condition: str
    rule_id: str
    severity: Severity
    source: str


@dataclass(frozen=True, slots=True)
class OpioidForm:
    ingredient: str
    route: str
    extended_release: str
    long_acting: bool
    tolerant_only: bool
    mme_not_applicable: bool
    # with tolerant_only: only doses above these are for opioid-tolerant patients (None = any)
    tolerant_above_mg_per_dose: float | None
    tolerant_above_mg_per_day: float | None
    source: str

    def applies_to(self, route: str, extended_release: bool) -> bool:
        if self.route not in ("any", route):
            return False
        return (
            self.extended_release == "any" or (self.extended_release == "yes") == extended_release
        )

    @property
    def dose_dependent(self) -> bool:
        """Only some amounts of this form are restricted to opioid-tolerant patients."""
        return (
            self.tolerant_above_mg_per_dose is not None
            or self.tolerant_above_mg_per_day is not None
        )


@dataclass(frozen=True, slots=True)
class FormProfile:
    """What the opioid-form rows say about one ingredient in one order's route and form."""

    long_acting: bool = False
    tolerant_only: bool = False  # the whole form, whatever the dose
    mme_not_applicable: bool = False
    tolerant_sources: tuple[str, ...] = ()  # the label rows that restrict it to tolerant patients
    # (above mg per dose, above mg per day): doses beyond either are for tolerant patients only
    tolerant_above: tuple[tuple[float | None, float | None], ...] = ()

    def needs_tolerance(self, mg_per_dose: float | None, mg_per_day: float | None) -> bool:
        """Whether this form at this amount is labelled for opioid-tolerant patients only."""
        if self.tolerant_only:
            return True
        return any(
            (per_dose is not None and mg_per_dose is not None and mg_per_dose > per_dose)
            or (per_day is not None and mg_per_day is not None and mg_per_day > per_day)
            for per_dose, per_day in self.tolerant_above
        )


NO_PROFILE = FormProfile()


@dataclass(frozen=True, slots=True)
class DailyStart:
    ingredient: str
    start_mg_per_day: float
    section: str
    source: str


@dataclass(frozen=True, slots=True)
class DoseExemption:
    ingredient: str
    class_id: str
    at_or_below_mg_per_day: float
    source: str


@dataclass(frozen=True, slots=True)
class NodeNote:
    """A sentence attached to a node (older-adult advice, why to taper)."""

    node: str
    text: str
    source: str


@dataclass(frozen=True, slots=True)
class ContextTables:
    content_hash: str
    washouts: tuple[Washout, ...]
    indications: Mapping[str, str]  # normalized written form -> meaning
    treatments: Mapping[tuple[str, str], IndicationTreatment]  # (meaning, ingredient) -> row
    severity_caps: Mapping[str, tuple[SeverityCap, ...]]  # rule id -> caps
    older_adult_advice: tuple[NodeNote, ...]
    opioid_forms: Mapping[str, tuple[OpioidForm, ...]]  # ingredient -> rows
    daily_starts: Mapping[str, DailyStart]
    dose_exemptions: Mapping[str, tuple[DoseExemption, ...]]
    tapers: tuple[NodeNote, ...]
    thresholds: Mapping[str, float]
    # (ingredient, route, extended-release) -> ``form``'s profile, for every ingredient of
    # ``opioid_forms`` on every route, built once with the tables (``compile_forms``)
    form_profiles: Mapping[tuple[str, str, bool], FormProfile] = field(
        default_factory=lambda: MappingProxyType({})
    )
    # the class nodes some ingredient does not have at low daily doses (``dose_exemptions``),
    # built with the profiles (None: not built)
    exempted_class_nodes: frozenset[str] | None = None

    def meaning(self, indication: str) -> str:
        """What an order's indication means (``opioid_use_disorder``), or ``""``."""
        if not indication:
            return ""
        return self.indications.get(normalize_indication(indication), "")

    def form(self, ingredient: str, route: str, extended_release: bool) -> FormProfile:
        """What the data rows of an opioid's form say (``NO_PROFILE``: none applies)."""
        profile = self.form_profiles.get((ingredient, route, extended_release))
        if profile is not None:
            return profile
        if ingredient not in self.opioid_forms:
            return NO_PROFILE
        return self.form_of_rows(ingredient, route, extended_release)

    def form_of_rows(self, ingredient: str, route: str, extended_release: bool) -> FormProfile:
        rows = [
            r
            for r in self.opioid_forms.get(ingredient, ())
            if r.applies_to(route, extended_release)
        ]
        if not rows:
            return NO_PROFILE
        return FormProfile(
            long_acting=any(r.long_acting for r in rows),
            tolerant_only=any(r.tolerant_only and not r.dose_dependent for r in rows),
            mme_not_applicable=any(r.mme_not_applicable for r in rows),
            tolerant_sources=tuple(dict.fromkeys(r.source for r in rows if r.tolerant_only)),
            tolerant_above=tuple(
                (r.tolerant_above_mg_per_dose, r.tolerant_above_mg_per_day)
                for r in rows
                if r.tolerant_only and r.dose_dependent
            ),
        )

    def taper_reason(self, nodes: frozenset[str]) -> str:
        """Why a drug with these nodes is tapered rather than stopped; ``""`` if it need not be."""
        return next((note.text for note in self.tapers if note.node in nodes), "")


def _washout(row: Row) -> Washout:
    days = row.number("days", required=True)
    assert days is not None
    return Washout(
        stopped=row.text("stopped"),
        other=row.text("other"),
        rule_id=row.text("rule_id"),
        days=days,
        needs_confirmation=row.flag("needs_confirmation"),
        source=row.text("source"),
    )


def _indication(row: Row) -> tuple[str, str]:
    return normalize_indication(row.text("written")), row.text("meaning")


def _treatment(row: Row) -> IndicationTreatment:
    return IndicationTreatment(
        meaning=row.text("meaning"),
        ingredient=row.text("ingredient"),
        without_classes=row.items("without_classes"),
        source=row.text("source"),
    )


def _severity_cap(row: Row) -> SeverityCap:
    condition = row.text("condition")
    if condition not in CONDITIONS:
        raise ValueError(
            f"unknown condition {condition!r} (one of {', '.join(sorted(CONDITIONS))})"
        )
    return SeverityCap(
        condition, row.text("rule_id"), Severity.parse(row.text("severity")), row.text("source")
    )


def _advice(row: Row) -> NodeNote:
    return NodeNote(row.text("node"), row.text("recommendation"), row.text("source"))


def _taper(row: Row) -> NodeNote:
    return NodeNote(row.text("node"), row.text("reason"), row.text("source"))


def _choice(row: Row, column: str, choices: tuple[str, ...]) -> str:
    value = row.text(column)
    if value not in choices:
        raise ValueError(f"column {column!r} must be one of {', '.join(choices)}, not {value!r}")
    return value


def _opioid_form(row: Row) -> OpioidForm:
    form = OpioidForm(
        ingredient=row.text("ingredient"),
        route=_choice(row, "route", ("any", *ROUTES, "buccal")),
        extended_release=_choice(row, "extended_release", ("any", "yes", "no")),
        long_acting=row.flag("long_acting"),
        tolerant_only=row.flag("tolerant_only"),
        mme_not_applicable=row.flag("mme_not_applicable"),
        tolerant_above_mg_per_dose=row.number("tolerant_above_mg_per_dose"),
        tolerant_above_mg_per_day=row.number("tolerant_above_mg_per_day"),
        source=row.text("source"),
    )
    if form.dose_dependent and not form.tolerant_only:
        raise ValueError("tolerant_above_* amounts need tolerant_only = yes")
    return form


def _daily_start(row: Row) -> DailyStart:
    start = row.number("start_mg_per_day", required=True)
    assert start is not None
    return DailyStart(row.text("ingredient"), start, row.text("section"), row.text("source"))


def _dose_exemption(row: Row) -> DoseExemption:
    limit = row.number("at_or_below_mg_per_day", required=True)
    assert limit is not None
    return DoseExemption(row.text("ingredient"), row.text("class"), limit, row.text("source"))


def _threshold(row: Row) -> tuple[str, float]:
    name = row.text("name")
    if name not in OPIOID_THRESHOLDS:
        raise ValueError(f"unknown threshold {name!r} (one of {', '.join(OPIOID_THRESHOLDS)})")
    value = row.number("value", required=True)
    assert value is not None
    return name, value


_INTERACTION_FILES = {
    "washouts": (
        "washouts.csv",
        ("stopped", "other", "rule_id", "days", "needs_confirmation", "source"),
        _washout,
    ),
    "indications": ("indications.csv", ("written", "meaning", "source"), _indication),
    "treatments": (
        "indication_treatments.csv",
        ("meaning", "ingredient", "without_classes", "source"),
        _treatment,
    ),
    "severity_caps": (
        "context_severity.csv",
        ("condition", "rule_id", "severity", "source"),
        _severity_cap,
    ),
    "older_adult_advice": ("older_adult_advice.csv", ("node", "recommendation", "source"), _advice),
}
_DOSING_FILES = {
    "opioid_forms": (
        "opioid_forms.csv",
        (
            "ingredient",
            "route",
            "extended_release",
            "long_acting",
            "tolerant_only",
            "mme_not_applicable",
            "tolerant_above_mg_per_dose",
            "tolerant_above_mg_per_day",
            "source",
        ),
        _opioid_form,
    ),
    "daily_starts": (
        "starting_daily_doses.csv",
        ("ingredient", "start_mg_per_day", "section", "source"),
        _daily_start,
    ),
    "dose_exemptions": (
        "dose_exemptions.csv",
        ("ingredient", "class", "at_or_below_mg_per_day", "source"),
        _dose_exemption,
    ),
    "tapers": ("taper_on_stop.csv", ("node", "reason", "source"), _taper),
    "thresholds": ("opioid_thresholds.csv", ("name", "value", "source"), _threshold),
}


def load_context_tables(
    known: KnownNames,
    *,
    interaction_dir: Path = INTERACTION_DATA_DIR,
    dosing_dir: Path = DOSING_DATA_DIR,
) -> ContextTables:
    """Read and check every context table; raises DataError naming the file and row."""

    def checked(parse):  # type: ignore[no-untyped-def]
        def parse_and_check(row: Row):  # type: ignore[no-untyped-def]
            record = parse(row)
            _check(record, known)
            return record

        return parse_and_check

    tables: dict[str, tuple[object, ...]] = {}
    paths = []
    for directory, files in ((interaction_dir, _INTERACTION_FILES), (dosing_dir, _DOSING_FILES)):
        for key, (filename, columns, parse) in files.items():
            paths.append(directory / filename)
            tables[key] = tuple(
                record for _, record in load_table(directory / filename, columns, checked(parse))
            )
    thresholds = dict(tables["thresholds"])  # type: ignore[arg-type]
    missing = [name for name in OPIOID_THRESHOLDS if name not in thresholds]
    if missing:
        raise DataError(f"opioid_thresholds.csv: missing {', '.join(missing)}")
    meanings = {meaning for _, meaning in tables["indications"]}  # type: ignore[misc]
    for treatment in tables["treatments"]:
        if treatment.meaning not in meanings:  # type: ignore[attr-defined]
            raise DataError(
                f"indication_treatments.csv: meaning {treatment.meaning!r} is not in indications.csv"  # type: ignore[attr-defined]
            )
    return compile_forms(
        ContextTables(
            content_hash=content_hash(paths),
            washouts=tables["washouts"],  # type: ignore[arg-type]
            indications=MappingProxyType(dict(tables["indications"])),  # type: ignore[arg-type]
            treatments=MappingProxyType(
                {(t.meaning, t.ingredient): t for t in tables["treatments"]}  # type: ignore[attr-defined]
            ),
            severity_caps=_group(tables["severity_caps"], "rule_id"),
            older_adult_advice=tables["older_adult_advice"],  # type: ignore[arg-type]
            opioid_forms=_group(tables["opioid_forms"], "ingredient"),
            daily_starts=MappingProxyType({d.ingredient: d for d in tables["daily_starts"]}),  # type: ignore[attr-defined]
            dose_exemptions=_group(tables["dose_exemptions"], "ingredient"),
            tapers=tables["tapers"],  # type: ignore[arg-type]
            thresholds=MappingProxyType(thresholds),
        )
    )


_ROUTE_NAMES = tuple(route.value for route in Route)  # as orders spell them (ROUTE_NAMES)


def compile_forms(tables: ContextTables) -> ContextTables:
    """``tables`` with the profile of every opioid form worded from its rows once, and the
    classes its dose exemptions name."""
    profiles = {
        (ingredient, route, extended): tables.form_of_rows(ingredient, route, extended)
        for ingredient in tables.opioid_forms
        for route in _ROUTE_NAMES
        for extended in (False, True)
    }
    exempted = frozenset(
        f"class:{row.class_id}" for rows in tables.dose_exemptions.values() for row in rows
    )
    return replace(tables, form_profiles=MappingProxyType(profiles), exempted_class_nodes=exempted)


def _group(records: tuple[object, ...], key: str) -> Mapping[str, tuple]:  # type: ignore[type-arg]
    grouped: dict[str, list[object]] = {}
    for record in records:
        grouped.setdefault(getattr(record, key), []).append(record)
    return MappingProxyType({name: tuple(rows) for name, rows in grouped.items()})


def _check(record: object, known: KnownNames) -> None:
    """Every name a row uses must exist in the interaction knowledge base."""
    if isinstance(record, tuple):
        return  # indications and thresholds name nothing of the knowledge base
    ingredient = getattr(record, "ingredient", None)
    if ingredient is not None and ingredient not in known.ingredients:
        raise ValueError(f"unknown ingredient {ingredient!r}")
    for attribute in ("stopped", "other", "node"):
        node = getattr(record, attribute, None)
        if node is not None:
            known.check_node(node)
    for class_id in (getattr(record, "class_id", None), *getattr(record, "without_classes", ())):
        if class_id is not None and class_id not in known.classes:
            raise ValueError(f"unknown class {class_id!r}")
    rule_id = getattr(record, "rule_id", None)
    if rule_id is not None and rule_id not in known.rules:
        raise ValueError(f"unknown rule id {rule_id!r}")
