"""The dosing knowledge base as read from ``dosing/data``: typed, frozen records."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from regimenguard.interactions.datafile import (
    DataError,
    Row,
    content_hash,
    load_table,
    read_manifest,
)

DATA_DIR = Path(__file__).parent / "data"
ROUTES = ("oral", "intranasal", "injection", "sublingual", "transdermal", "rectal")
RELEASE_FORMS = ("any", "yes", "no")
SCHEDULE_CONSTRAINTS = (
    "not_as_needed",
    "at_most_once_daily",
    "extended_release_not_as_needed",
    "extended_release_not_first",
)


@dataclass(frozen=True, slots=True)
class DoseLimit:
    """A label maximum for one route, release form and age group (rule DOSE_ABOVE_MAX)."""

    ingredient: str
    route: str
    extended_release: str
    min_age_years: int
    max_mg_per_dose: float | None
    max_mg_per_day: float | None
    needs_confirmation: bool
    source: str
    # what the label states the maximum for: "base" or a salt (converted to counted mg on load)
    basis: str = "base"

    def applies_to(self, route: str, extended_release: bool, age_years: int) -> bool:
        if self.route != route:
            return False
        if self.extended_release != "any" and (self.extended_release == "yes") != extended_release:
            return False
        return self.min_age_years == 0 or (age_years >= self.min_age_years)


@dataclass(frozen=True, slots=True)
class GuidelineRange:
    ingredient: str
    max_mg_per_dose: float | None
    max_mg_per_day: float | None
    section: str
    source: str


@dataclass(frozen=True, slots=True)
class StartingDose:
    ingredient: str
    start_mg_per_dose: float
    min_hours_between_doses: float | None
    min_days_before_increase: float | None
    combined_start_mg_per_dose: float | None
    combined_with: tuple[str, ...]
    section: str
    source: str


@dataclass(frozen=True, slots=True)
class CourseLimit:
    node: str
    max_days: float
    rule_id: str
    section: str
    source: str
    # the NCPDP reason code of a finding for this limit ("" = the rule's own)
    ncpdp_reason_code: str = ""


@dataclass(frozen=True, slots=True)
class ScheduleConstraint:
    node: str
    constraint: str
    rule_id: str
    section: str
    source: str


@dataclass(frozen=True, slots=True)
class MmeFactor:
    ingredient: str
    route: str
    factor: float
    unit: str
    table: str
    source: str


@dataclass(frozen=True, slots=True)
class DosingData:
    version: str
    mme_table: str
    content_hash: str
    dose_limits: tuple[DoseLimit, ...]
    guideline_ranges: tuple[GuidelineRange, ...]
    starting_doses: tuple[StartingDose, ...]
    course_limits: tuple[CourseLimit, ...]
    schedule_constraints: tuple[ScheduleConstraint, ...]
    mme_factors: tuple[MmeFactor, ...]


def _choice(row: Row, column: str, choices: tuple[str, ...]) -> str:
    value = row.text(column)
    if value not in choices:
        raise ValueError(f"column {column!r} must be one of {', '.join(choices)}, not {value!r}")
    return value


def _dose_limit(row: Row) -> DoseLimit:
    age = row.text("min_age_years", required=False) or "0"
    if not age.isdigit():
        raise ValueError(f"min_age_years must be a whole number, not {age!r}")
    limit = DoseLimit(
        ingredient=row.text("ingredient"),
        route=_choice(row, "route", ROUTES),
        extended_release=_choice(row, "extended_release", RELEASE_FORMS),
        min_age_years=int(age),
        max_mg_per_dose=row.number("max_mg_per_dose"),
        max_mg_per_day=row.number("max_mg_per_day"),
        needs_confirmation=row.flag("needs_confirmation"),
        source=row.text("source"),
        basis=row.text("basis"),
    )
    if limit.max_mg_per_dose is None and limit.max_mg_per_day is None:
        raise ValueError("a dose limit needs max_mg_per_dose or max_mg_per_day")
    return limit


def _guideline_range(row: Row) -> GuidelineRange:
    return GuidelineRange(
        ingredient=row.text("ingredient"),
        max_mg_per_dose=row.number("max_mg_per_dose"),
        max_mg_per_day=row.number("max_mg_per_day"),
        section=row.text("section"),
        source=row.text("source"),
    )


def _starting_dose(row: Row) -> StartingDose:
    start = row.number("start_mg_per_dose", required=True)
    assert start is not None
    return StartingDose(
        ingredient=row.text("ingredient"),
        start_mg_per_dose=start,
        min_hours_between_doses=row.number("min_hours_between_doses"),
        min_days_before_increase=row.number("min_days_before_increase"),
        combined_start_mg_per_dose=row.number("combined_start_mg_per_dose"),
        combined_with=row.items("combined_with"),
        section=row.text("section"),
        source=row.text("source"),
    )


def _course_limit(row: Row) -> CourseLimit:
    days = row.number("max_days", required=True)
    assert days is not None
    return CourseLimit(
        row.text("node"),
        days,
        row.text("rule_id"),
        row.text("section"),
        row.text("source"),
        row.text("ncpdp_reason_code", required=False),
    )


def _schedule_constraint(row: Row) -> ScheduleConstraint:
    return ScheduleConstraint(
        node=row.text("node"),
        constraint=_choice(row, "constraint", SCHEDULE_CONSTRAINTS),
        rule_id=row.text("rule_id"),
        section=row.text("section"),
        source=row.text("source"),
    )


def _mme_factor(row: Row) -> MmeFactor:
    factor = row.number("factor", required=True)
    assert factor is not None
    return MmeFactor(
        ingredient=row.text("ingredient"),
        route=_choice(row, "route", ("any", "transdermal")),
        factor=factor,
        unit=_choice(row, "unit", ("mg", "mcg_per_hour")),
        table=row.text("table"),
        source=row.text("source"),
    )


_TABLES = {
    "dose_limits": (
        "dose_limits.csv",
        (
            "ingredient",
            "route",
            "extended_release",
            "min_age_years",
            "max_mg_per_dose",
            "max_mg_per_day",
            "basis",
            "needs_confirmation",
            "source",
        ),
        _dose_limit,
    ),
    "guideline_ranges": (
        "guideline_ranges.csv",
        ("ingredient", "max_mg_per_dose", "max_mg_per_day", "section", "source"),
        _guideline_range,
    ),
    "starting_doses": (
        "starting_doses.csv",
        (
            "ingredient",
            "start_mg_per_dose",
            "min_hours_between_doses",
            "min_days_before_increase",
            "combined_start_mg_per_dose",
            "combined_with",
            "section",
            "source",
        ),
        _starting_dose,
    ),
    "course_limits": (
        "course_limits.csv",
        ("node", "max_days", "rule_id", "section", "ncpdp_reason_code", "source"),
        _course_limit,
    ),
    "schedule_constraints": (
        "schedule_constraints.csv",
        ("node", "constraint", "rule_id", "section", "source"),
        _schedule_constraint,
    ),
    "mme_factors": (
        "mme_factors.csv",
        ("ingredient", "route", "factor", "unit", "table", "source"),
        _mme_factor,
    ),
}


@dataclass(frozen=True, slots=True)
class KnownNames:
    """Names defined by the interaction knowledge base that dosing rows may refer to."""

    ingredients: frozenset[str]
    classes: frozenset[str]
    rules: frozenset[str]
    # salt -> (ingredient, counted mg per stated mg, the form amounts are counted in)
    salts: Mapping[str, tuple[str, float, str]] = field(default_factory=dict)

    def counted_form(self, ingredient: str) -> str:
        """``base``, or the salt an ingredient's amounts are counted in (ketorolac tromethamine)."""
        for salt, (owner, _, counted_as) in self.salts.items():
            if owner == ingredient and counted_as == salt:
                return salt
        return "base"

    def in_counted_mg(self, limit: DoseLimit) -> DoseLimit:
        """A limit stated for another form of the ingredient, converted to counted mg."""
        if limit.basis == self.counted_form(limit.ingredient):
            return limit
        salt = self.salts.get(limit.basis)
        if (
            salt is None
            or salt[0] != limit.ingredient
            or self.counted_form(limit.ingredient) != "base"
        ):
            raise ValueError(
                f"basis {limit.basis!r} must be 'base' or a salt of {limit.ingredient} in salts.csv"
            )
        factor = salt[1]
        return replace(
            limit,
            max_mg_per_dose=_converted(limit.max_mg_per_dose, factor),
            max_mg_per_day=_converted(limit.max_mg_per_day, factor),
        )

    def check_node(self, node: str) -> None:
        kind, _, name = node.partition(":")
        known = {"class": self.classes, "drug": self.ingredients}.get(kind)
        if known is None or name not in known:
            raise ValueError(f"unknown node {node!r} (class:ID or drug:NAME)")

    def check_record(self, record: object) -> None:
        if isinstance(record, DoseLimit):
            self.in_counted_mg(record)
        ingredient = getattr(record, "ingredient", None)
        if ingredient is not None and ingredient not in self.ingredients:
            raise ValueError(f"unknown ingredient {ingredient!r}")
        for node in (getattr(record, "node", None), *getattr(record, "combined_with", ())):
            if node is not None:
                self.check_node(node)
        rule_id = getattr(record, "rule_id", None)
        if rule_id is not None and rule_id not in self.rules:
            raise ValueError(f"unknown rule id {rule_id!r}")


def _converted(value: float | None, factor: float) -> float | None:
    return None if value is None else round(value * factor, 6)


def load_dosing_data(known: KnownNames, directory: Path = DATA_DIR) -> DosingData:
    """Read every dosing data file, checking each row's references against ``known``.

    Raises DataError naming the file and row.
    """
    manifest = read_manifest(directory)
    if not isinstance(manifest.get("mme_table"), str):
        raise DataError("manifest.toml: 'mme_table' must be a string")

    def checked(parse):  # type: ignore[no-untyped-def]
        def parse_and_check(row: Row):  # type: ignore[no-untyped-def]
            record = parse(row)
            known.check_record(record)
            return known.in_counted_mg(record) if isinstance(record, DoseLimit) else record

        return parse_and_check

    tables = {
        key: tuple(
            record for _, record in load_table(directory / filename, columns, checked(parse))
        )
        for key, (filename, columns, parse) in _TABLES.items()
    }
    paths = [directory / "manifest.toml", *(directory / name for name, _, _ in _TABLES.values())]
    return DosingData(
        version=str(manifest["version"]),
        mme_table=str(manifest["mme_table"]),
        content_hash=content_hash(paths),
        **tables,  # type: ignore[arg-type]
    )
