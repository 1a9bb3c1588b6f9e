"""Frozen lookups over the dosing data, built once at start-up."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from regimenguard.dosing.limits import ApplicableLimit, applicable_limit
from regimenguard.dosing.mme import MmeTable
from regimenguard.dosing.tables import (
    ROUTES,
    CourseLimit,
    DoseLimit,
    DosingData,
    GuidelineRange,
    ScheduleConstraint,
    StartingDose,
)


@dataclass(frozen=True, slots=True)
class DosingIndex:
    version: str
    mme_table: str
    content_hash: str
    dose_limits: Mapping[str, tuple[DoseLimit, ...]]
    guideline_ranges: Mapping[str, GuidelineRange]
    starting_doses: Mapping[str, StartingDose]
    course_limits: Mapping[str, CourseLimit]
    schedule_constraints: Mapping[str, tuple[ScheduleConstraint, ...]]
    mme: MmeTable
    # (ingredient, route, extended_release) -> ((from age, limit), ...), oldest bracket first
    label_limits: Mapping[tuple[str, str, bool], tuple[tuple[int, ApplicableLimit | None], ...]]
    # rule id -> ingredient -> the course limit of its ``drug:`` row (``course_limits`` by rule)
    drug_course_limits: Mapping[str, Mapping[str, CourseLimit]]
    # rule id -> the drug and class nodes with a schedule constraint of that rule
    schedule_nodes: Mapping[str, frozenset[str]]
    # every node with a schedule constraint (of any rule)
    scheduled_nodes: frozenset[str] = frozenset()

    def label_limit(
        self, ingredient: str, route: str, *, extended_release: bool, age_years: int
    ) -> ApplicableLimit | None:
        """The label maxima for an order: one lookup into brackets computed at start-up."""
        return limit_at_age(
            self.label_limits.get((ingredient, route, extended_release), ()), age_years
        )


def limit_at_age(
    brackets: tuple[tuple[int, ApplicableLimit | None], ...], age_years: int
) -> ApplicableLimit | None:
    """The limit of the bracket the age is in (``label_limits``' brackets: the oldest first)."""
    for from_age, limit in brackets:
        if age_years >= from_age:
            return limit
    return None


def index_dosing(data: DosingData) -> DosingIndex:
    limits: dict[str, list[DoseLimit]] = {}
    for row in data.dose_limits:
        limits.setdefault(row.ingredient, []).append(row)
    schedules: dict[str, list[ScheduleConstraint]] = {}
    for constraint in data.schedule_constraints:
        schedules.setdefault(constraint.node, []).append(constraint)
    course_limits = {r.node: r for r in data.course_limits}
    drug_courses: dict[str, dict[str, CourseLimit]] = {}
    for node, course in course_limits.items():
        if node.startswith("drug:"):
            drug_courses.setdefault(course.rule_id, {})[node.removeprefix("drug:")] = course
    schedule_nodes: dict[str, set[str]] = {}
    for constraint in data.schedule_constraints:
        schedule_nodes.setdefault(constraint.rule_id, set()).add(constraint.node)
    return DosingIndex(
        version=data.version,
        mme_table=data.mme_table,
        content_hash=data.content_hash,
        dose_limits=MappingProxyType({k: tuple(v) for k, v in limits.items()}),
        guideline_ranges=MappingProxyType({r.ingredient: r for r in data.guideline_ranges}),
        starting_doses=MappingProxyType({r.ingredient: r for r in data.starting_doses}),
        course_limits=MappingProxyType(course_limits),
        schedule_constraints=MappingProxyType({k: tuple(v) for k, v in schedules.items()}),
        mme=MmeTable(data.mme_factors),
        label_limits=MappingProxyType(_label_limits(limits)),
        drug_course_limits=MappingProxyType(
            {rule: MappingProxyType(rows) for rule, rows in drug_courses.items()}
        ),
        schedule_nodes=MappingProxyType(
            {rule: frozenset(nodes) for rule, nodes in schedule_nodes.items()}
        ),
        scheduled_nodes=frozenset().union(*schedule_nodes.values()),
    )


def _label_limits(
    limits: dict[str, list[DoseLimit]],
) -> dict[tuple[str, str, bool], tuple[tuple[int, ApplicableLimit | None], ...]]:
    """Every (ingredient, route, release form) with its limits per age bracket.

    Age brackets start at each row's ``min_age_years`` (0 = any age, including unknown), so a
    request's age selects its bracket with at most a couple of comparisons.
    """
    table = {}
    for ingredient, rows in limits.items():
        brackets = sorted({0, *(row.min_age_years for row in rows)}, reverse=True)
        for route in ROUTES:
            for extended in (False, True):
                entries = tuple(
                    (
                        age,
                        applicable_limit(
                            rows, route=route, extended_release=extended, age_years=age
                        ),
                    )
                    for age in brackets
                )
                if any(limit is not None for _, limit in entries):
                    table[(ingredient, route, extended)] = entries
    return table
