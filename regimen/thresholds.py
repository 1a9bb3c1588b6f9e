"""The numbers rules compare against, as catalogue data (interactions/data/rule_thresholds.csv).

How many serotonergic agents make the combination CRITICAL, how many CNS-active drugs an
older adult may take before the Beers warning, how many weeks of pain are still subacute, the
age of an older adult and of an adult: each is a row with its source, loaded and checked once
at start-up (every name present exactly once, a positive whole number, a known rule id).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

from regimenguard.interactions.datafile import DataError, Row, content_hash, load_table
from regimenguard.interactions.knowledge_base import DATA_DIR as INTERACTION_DATA_DIR

FILENAME = "rule_thresholds.csv"
COLUMNS = ("name", "value", "rule_id", "source")


@dataclass(frozen=True, slots=True)
class RuleThresholds:
    """One attribute per row of rule_thresholds.csv (the field name is the row's ``name``)."""

    serotonergic_critical_agents: int
    cns_active_drugs_older_adult: int
    subacute_max_weeks: int
    older_adult_age_years: int
    adult_age_years: int
    content_hash: str = ""

    def is_older_adult(self, age_years: int) -> bool:
        return age_years >= self.older_adult_age_years

    def is_minor(self, age_years: int) -> bool:
        """Known to be under the adult age (an age of 0 is unknown, not a newborn)."""
        return 0 < age_years < self.adult_age_years


NAMES = tuple(f.name for f in fields(RuleThresholds) if f.name != "content_hash")


def load_rule_thresholds(
    rule_ids: frozenset[str], directory: Path = INTERACTION_DATA_DIR
) -> RuleThresholds:
    """Read rule_thresholds.csv; raises DataError naming the file and row of a bad value."""

    def parse(row: Row) -> tuple[str, int]:
        name = row.text("name")
        if name not in NAMES:
            raise ValueError(f"unknown threshold {name!r} (one of {', '.join(NAMES)})")
        if row.text("rule_id") not in rule_ids:
            raise ValueError(f"unknown rule id {row.text('rule_id')!r}")
        row.text("source")
        value = row.number("value", required=True)
        assert value is not None
        if value != int(value):
            raise ValueError(f"column 'value' must be a whole number: {value:g}")
        return name, int(value)

    path = directory / FILENAME
    values: dict[str, int] = {}
    for line, (name, value) in load_table(path, COLUMNS, parse):
        if name in values:
            raise DataError(f"{FILENAME} row {line}: {name} is given twice")
        values[name] = value
    missing = [name for name in NAMES if name not in values]
    if missing:
        raise DataError(f"{FILENAME}: missing {', '.join(missing)}")
    return RuleThresholds(**values, content_hash=content_hash([path]))
