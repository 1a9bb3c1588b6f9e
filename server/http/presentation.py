"""How findings are shown as CDS Hooks cards: data in server/http/data, checked at start-up.

- ``card_sources.csv``: per rule id, the card's ``source`` label and URL (``{drug}`` is the
  finding's first drug); every rule of the catalogue must have one.
- ``override_reasons.csv``: the reasons a prescriber can pick when overriding a WARNING card.
- ``card_suggestions.csv``: per rule id, the concrete change a card suggests: ``replace`` a drug
  with another at its starting dose (dosing/data/starting_doses.csv), ``fit_daily_limit`` (lower
  how often a draft order is taken so the ingredient's daily total fits its limit),
  ``delete_draft`` (remove the draft order that brought the problem in), ``add`` a product (a
  new MedicationRequest with the row's RxNorm code, dose, route and as-needed flag).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from regimenguard.interactions.datafile import DataError, Row, load_table

DATA_DIR = Path(__file__).parent / "data"
SUGGESTION_KINDS = frozenset({"replace", "fit_daily_limit", "delete_draft", "add"})


@dataclass(frozen=True, slots=True)
class CardSource:
    label: str
    url: str


@dataclass(frozen=True, slots=True)
class OverrideReason:
    code: str
    display: str


@dataclass(frozen=True, slots=True)
class SuggestionRule:
    rule_id: str
    kind: str
    drug: str
    replacement: str
    rxcui: str
    display: str
    dose_value: float | None
    dose_unit: str
    route: str
    as_needed: bool


@dataclass(frozen=True, slots=True)
class Presentation:
    sources: Mapping[str, CardSource]
    override_reasons: tuple[OverrideReason, ...]
    suggestions: Mapping[str, tuple[SuggestionRule, ...]]


def load_presentation(rule_ids: Iterable[str], data_dir: Path = DATA_DIR) -> Presentation:
    """Raises DataError when a rule of the catalogue has no source, or a row is malformed."""
    rule_ids = frozenset(rule_ids)

    def known(row: Row) -> str:
        # A row for a rule the catalogue does not have (yet) is kept and unused; every rule of
        # the catalogue must have its source, so a misspelt id still stops start-up.
        rule_id = row.text("rule_id")
        if not rule_id.isupper() or not rule_id.replace("_", "").isalnum():
            raise row.error(f"rule id {rule_id!r} must be UPPER_SNAKE_CASE")
        return rule_id

    def source(row: Row) -> tuple[str, CardSource]:
        row.text("source")
        url = row.text("url")
        if not url.startswith("https://"):
            raise row.error("url must be an https:// address")
        return known(row), CardSource(row.text("label"), url)

    def reason(row: Row) -> OverrideReason:
        row.text("source")
        return OverrideReason(row.text("code"), row.text("display"))

    def suggestion(row: Row) -> SuggestionRule:
        row.text("source")
        kind = row.text("kind")
        if kind not in SUGGESTION_KINDS:
            raise row.error(f"kind must be one of {sorted(SUGGESTION_KINDS)}")
        return SuggestionRule(
            rule_id=known(row),
            kind=kind,
            drug=row.text("drug", required=kind in ("replace", "fit_daily_limit", "add")),
            replacement=row.text("replacement", required=kind == "replace"),
            rxcui=row.text("rxcui", required=kind == "add"),
            display=row.text("display", required=kind == "add"),
            dose_value=row.number("dose_value", required=kind == "add"),
            dose_unit=row.text("dose_unit", required=kind == "add"),
            route=row.text("route", required=False),
            as_needed=row.flag("as_needed"),
        )

    sources = dict(
        record
        for _, record in load_table(
            data_dir / "card_sources.csv",
            ("rule_id", "label", "url", "needs_confirmation", "source"),
            source,
        )
    )
    missing = sorted(rule_ids - set(sources))
    if missing:
        raise DataError(f"card_sources.csv: no card source for rule(s) {', '.join(missing)}")
    reasons = tuple(
        record
        for _, record in load_table(
            data_dir / "override_reasons.csv", ("code", "display", "source"), reason
        )
    )
    by_rule: dict[str, list[SuggestionRule]] = {}
    for _, record in load_table(
        data_dir / "card_suggestions.csv",
        (
            "rule_id",
            "kind",
            "drug",
            "replacement",
            "rxcui",
            "display",
            "dose_value",
            "dose_unit",
            "route",
            "as_needed",
            "source",
        ),
        suggestion,
    ):
        by_rule.setdefault(record.rule_id, []).append(record)
    return Presentation(
        sources=MappingProxyType(sources),
        override_reasons=reasons,
        suggestions=MappingProxyType({k: tuple(v) for k, v in by_rule.items()}),
    )
