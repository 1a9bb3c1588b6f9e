"""Everything the checker knows, loaded, validated and indexed once at start-up."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import networkx as nx

from dosing.index import DosingIndex, index_dosing
from dosing.tables import DATA_DIR as DOSING_DATA_DIR
from dosing.tables import CourseLimit, KnownNames, load_dosing_data
from interactions.index import InteractionIndex, build_index
from interactions.knowledge_base import DATA_DIR as INTERACTION_DATA_DIR
from interactions.knowledge_base import InteractionData, RuleSpec, load_interaction_data
from interactions.resolver import NameResolver
from regimen.cache import BoundedCache
from regimen.settings import Settings, SettingsError

MUSCLE_RELAXANT = "class:skeletal_muscle_relaxant"
MUSCLE_RELAXANT_RULE = "MUSCLE_RELAXANT_DURATION"


@dataclass(frozen=True, slots=True)
class Knowledge:
    data: InteractionData
    graph: nx.MultiDiGraph
    index: InteractionIndex
    dosing: DosingIndex
    resolver: NameResolver
    rules: tuple[RuleSpec, ...]
    settings: Settings
    version: str
    # memo of values derived only from immutable inputs (see regimen/cache.py)
    order_cache: BoundedCache[Any] = field(default_factory=BoundedCache, compare=False)
    finding_cache: BoundedCache[Any] = field(default_factory=BoundedCache, compare=False)


def load_knowledge(
    settings: Settings | None = None,
    *,
    interaction_dir: Path = INTERACTION_DATA_DIR,
    dosing_dir: Path = DOSING_DATA_DIR,
) -> Knowledge:
    """Load both knowledge bases; raises DataError (file and row named) on any bad row."""
    settings = settings or Settings()
    data = load_interaction_data(interaction_dir)
    graph, index = build_index(data)
    known = KnownNames(
        ingredients=frozenset(i.name for i in data.ingredients),
        classes=frozenset(c.class_id for c in data.classes),
        rules=frozenset(r.rule_id for r in data.rules),
    )
    dosing = index_dosing(load_dosing_data(known, dosing_dir))
    resolver = NameResolver(data)
    settings = _settings_against_knowledge(settings, resolver, index, dosing)
    return Knowledge(
        data=data,
        graph=graph,
        index=index,
        dosing=dosing,
        resolver=resolver,
        rules=data.rules,
        settings=settings,
        version=knowledge_base_version(data, dosing, settings),
    )


def _settings_against_knowledge(
    settings: Settings, resolver: NameResolver, index: InteractionIndex, dosing: DosingIndex
) -> Settings:
    """Site settings that name drugs must name drugs the knowledge base knows, canonically,
    and a site may shorten a course limit of the catalogue (course_limits.csv), never lengthen it.
    """
    where = f"{settings.path}: " if settings.path else ""
    class_row = dosing.course_limits.get(MUSCLE_RELAXANT)
    if settings.muscle_relaxant_max_days is not None and class_row is not None:
        _refuse_longer_course(
            where, "muscle_relaxants.max_days", settings.muscle_relaxant_max_days, class_row
        )
    by_drug: dict[str, float] = {}
    for name, days in settings.muscle_relaxant_max_days_by_drug.items():
        match = resolver.resolve(name)
        ingredient = match.ingredients[0][0] if match and not match.is_combination else None
        if ingredient is None or MUSCLE_RELAXANT not in index.systemic_nodes[ingredient]:
            raise SettingsError(
                f"{where}muscle_relaxants.max_days_by_drug.{name}: not a skeletal muscle relaxant "
                "of the knowledge base (see regimen-guard drugs muscle_relaxant)"
            )
        rows = [
            row
            for row in (dosing.course_limits.get(f"drug:{ingredient}"), class_row)
            if row is not None and row.rule_id == MUSCLE_RELAXANT_RULE
        ]
        if rows:
            strictest = min(rows, key=lambda row: row.max_days)
            _refuse_longer_course(
                where, f"muscle_relaxants.max_days_by_drug.{name}", days, strictest
            )
        by_drug[ingredient] = days
    return replace(settings, muscle_relaxant_max_days_by_drug=MappingProxyType(by_drug))


def _refuse_longer_course(where: str, key: str, days: float, row: CourseLimit) -> None:
    if days > row.max_days:
        raise SettingsError(
            f"{where}{key} = {days:g} is above {row.max_days:g} days, the most a site may set "
            f"({row.source}); a site may only shorten it"
        )


def knowledge_base_version(data: InteractionData, dosing: DosingIndex, settings: Settings) -> str:
    """``2026.11.0+kb.<hash>.site.<name>.<hash>``: data version, data content, configuration."""
    data_hash = f"{data.content_hash[:8]}{dosing.content_hash[:8]}"
    version = data.version if data.version == dosing.version else f"{data.version}/{dosing.version}"
    return f"{version}+kb.{data_hash}.site.{settings.name}.{settings.identity}"
