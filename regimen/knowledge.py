"""Everything the checker knows, loaded, validated and indexed once at start-up."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType

import networkx as nx

from regimenguard.dosing.index import DosingIndex, index_dosing
from regimenguard.dosing.tables import DATA_DIR as DOSING_DATA_DIR
from regimenguard.dosing.tables import CourseLimit, KnownNames, load_dosing_data
from regimenguard.interactions.crosswalk import load_ndc_crosswalk
from regimenguard.interactions.datafile import DataError
from regimenguard.interactions.index import InteractionIndex, build_index
from regimenguard.interactions.knowledge_base import DATA_DIR as INTERACTION_DATA_DIR
from regimenguard.interactions.knowledge_base import (
    InteractionData,
    RuleSpec,
    load_interaction_data,
)
from regimenguard.interactions.resolver import NameResolver
from regimenguard.regimen.compiled import CompiledKnowledge, compile_knowledge
from regimenguard.regimen.context_tables import ContextTables, load_context_tables
from regimenguard.regimen.settings import Settings, SettingsError
from regimenguard.regimen.thresholds import RuleThresholds, load_rule_thresholds
from regimenguard.regimen.vocabulary import MUSCLE_RELAXANT, check_vocabulary

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
    context: ContextTables
    thresholds: RuleThresholds
    # the graph and its index as integer masks (regimenguard.regimen.compiled)
    compiled: CompiledKnowledge
    # the catalogue's rule ids (what an acknowledgement may name)
    rule_ids: frozenset[str]


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
    check_vocabulary(graph)
    known = KnownNames(
        ingredients=frozenset(i.name for i in data.ingredients),
        classes=frozenset(c.class_id for c in data.classes),
        rules=frozenset(r.rule_id for r in data.rules),
        salts={s.salt: (s.ingredient, s.factor, s.counted_as) for s in data.salts},
    )
    dosing = index_dosing(load_dosing_data(known, dosing_dir))
    context = load_context_tables(known, interaction_dir=interaction_dir, dosing_dir=dosing_dir)
    thresholds = load_rule_thresholds(known.rules, interaction_dir)
    crosswalk: dict[str, str] = {}
    if settings.ndc_crosswalk is not None:
        try:
            crosswalk, crosswalk_hash = load_ndc_crosswalk(settings.ndc_crosswalk)
        except DataError as error:
            raise SettingsError(f"formulary.ndc_crosswalk: {error}") from None
        settings = replace(settings, identity=f"{settings.identity}.ndc{crosswalk_hash}")
    try:
        resolver = NameResolver(data, ndc_crosswalk=crosswalk)
    except DataError as error:
        if not crosswalk:
            raise
        raise SettingsError(f"formulary.ndc_crosswalk: {error}") from None
    settings = _settings_against_knowledge(settings, resolver, index, dosing)
    return Knowledge(
        data=data,
        graph=graph,
        index=index,
        dosing=dosing,
        resolver=resolver,
        rules=data.rules,
        settings=settings,
        version=knowledge_base_version(data, dosing, settings, context, thresholds),
        context=context,
        thresholds=thresholds,
        compiled=compile_knowledge(graph, index, (rule.rule_id for rule in data.rules)),
        rule_ids=known.rules,
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


def knowledge_base_version(
    data: InteractionData,
    dosing: DosingIndex,
    settings: Settings,
    context: ContextTables,
    thresholds: RuleThresholds,
) -> str:
    """``2026.11.0+kb.<hash>.site.<name>.<hash>``: data version, data content, configuration."""
    data_hash = (
        f"{data.content_hash[:8]}{dosing.content_hash[:8]}{context.content_hash[:8]}"
        f"{thresholds.content_hash[:8]}"
    )
    version = data.version if data.version == dosing.version else f"{data.version}/{dosing.version}"
    return f"{version}+kb.{data_hash}.site.{settings.name}.{settings.identity}"
