"""Frozen lookups over the dosing data, built once at start-up."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from dosing.mme import MmeTable
from dosing.tables import (
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


def index_dosing(data: DosingData) -> DosingIndex:
    limits: dict[str, list[DoseLimit]] = {}
    for row in data.dose_limits:
        limits.setdefault(row.ingredient, []).append(row)
    schedules: dict[str, list[ScheduleConstraint]] = {}
    for constraint in data.schedule_constraints:
        schedules.setdefault(constraint.node, []).append(constraint)
    return DosingIndex(
        version=data.version,
        mme_table=data.mme_table,
        content_hash=data.content_hash,
        dose_limits=MappingProxyType({k: tuple(v) for k, v in limits.items()}),
        guideline_ranges=MappingProxyType({r.ingredient: r for r in data.guideline_ranges}),
        starting_doses=MappingProxyType({r.ingredient: r for r in data.starting_doses}),
        course_limits=MappingProxyType({r.node: r for r in data.course_limits}),
        schedule_constraints=MappingProxyType({k: tuple(v) for k, v in schedules.items()}),
        mme=MmeTable(data.mme_factors),
    )
