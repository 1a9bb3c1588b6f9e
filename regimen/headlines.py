"""Short headlines for findings (under 140 characters), from regimen/data/headlines.csv.

One row per rule id, a template with placeholders: ``{drugs}`` (the finding's drugs joined),
``{Drugs}`` (the same, capitalized), and the regimen's totals ``{acetaminophen_mg_per_day}``,
``{acetaminophen_limit_mg_per_day}``, ``{mme_per_day}``, ``{serotonergic_agents}``. The table is
checked at start-up (``check_headlines``): every rule of the catalogue has a headline and every
placeholder is one of these.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Iterable, Mapping
from operator import itemgetter
from pathlib import Path
from types import MappingProxyType

from regimenguard.interactions.datafile import DataError, Row, load_table
from regimenguard.regimen.model import Finding, RegimenSummary

DATA_FILE = Path(__file__).parent / "data" / "headlines.csv"
MAX_HEADLINE = 139
MAX_TEMPLATE = 120  # placeholder names are longer than the numbers they become
PLACEHOLDERS = frozenset(
    {
        "drugs",
        "Drugs",
        "acetaminophen_mg_per_day",
        "acetaminophen_limit_mg_per_day",
        "mme_per_day",
        "serotonergic_agents",
    }
)


def load_headlines(path: Path = DATA_FILE) -> Mapping[str, str]:
    def parse(row: Row) -> tuple[str, str]:
        template = row.text("headline")
        row.text("source")
        if len(template) > MAX_TEMPLATE:
            raise row.error(f"headline longer than {MAX_TEMPLATE} characters")
        for _, name, spec, conversion in string.Formatter().parse(template):
            if name is not None and name not in PLACEHOLDERS:
                raise row.error(f"unknown placeholder {{{name}}} (known: {sorted(PLACEHOLDERS)})")
            if spec or conversion:  # the values come formatted (``totals``)
                raise row.error(f"placeholder {{{name}}} with a format: write {{{name}}} alone")
        return row.text("rule_id"), template

    return MappingProxyType(
        dict(record for _, record in load_table(path, ("rule_id", "headline", "source"), parse))
    )


HEADLINES: Mapping[str, str] = load_headlines()

# What a compiled template reads: nothing (its text is the headline), the finding's drugs
# joined, the same capitalized, or values from the answer's mapping (``HeadlineWriter``).
STATIC, DRUGS, CAPITALIZED_DRUGS, VALUES = range(4)
# A template compiled: its text as a printf-style format, what it reads, and for ``VALUES`` what
# reads them (in order) from the answer's mapping.
Compiled = tuple[str, int, Callable[[Mapping[str, object]], object] | None]


def compile_template(template: str) -> Compiled:
    """``template`` as a ``%`` format and what fills it: ``format % values`` reads as
    ``template.format_map(values)`` for values that are strings or integers (the totals come
    formatted), and costs a fraction of it. A template whose one placeholder is ``{drugs}`` or
    ``{Drugs}`` (most) is filled with that text alone, without the mapping."""
    parts: list[str] = []
    names: list[str] = []
    for literal, name, _, _ in string.Formatter().parse(template):
        parts.append(literal.replace("%", "%%"))
        if name is not None:
            parts.append("%s")
            names.append(name)
    if not names:
        return template, STATIC, None
    text = "".join(parts)
    if names == ["drugs"]:
        return text, DRUGS, None
    if names == ["Drugs"]:
        return text, CAPITALIZED_DRUGS, None
    # one name: itemgetter gives the value itself, which ``%`` takes as the only argument
    return text, VALUES, itemgetter(*names)


def compile_headlines(headlines: Mapping[str, str]) -> Mapping[str, Compiled]:
    # a plain dict, typed read-only: the writer looks a template up per finding, and a mapping
    # proxy's ``get`` costs a method lookup more; nothing writes to it once compiled
    return {rule: compile_template(text) for rule, text in headlines.items()}


COMPILED: Mapping[str, Compiled] = compile_headlines(HEADLINES)


def check_headlines(rule_ids: Iterable[str], headlines: Mapping[str, str] = HEADLINES) -> None:
    """Raises DataError naming the rules of the catalogue that have no headline."""
    missing = sorted(set(rule_ids) - set(headlines))
    if missing:
        raise DataError(f"{DATA_FILE.name}: no headline for rule(s) {', '.join(missing)}")


def headline(
    finding: Finding, summary: RegimenSummary, headlines: Mapping[str, str] = HEADLINES
) -> str:
    return HeadlineWriter(summary, headlines).headline(finding)


def totals(summary: RegimenSummary) -> dict[str, object]:
    """The regimen's totals as the headlines print them: formatted once per answer."""
    return {
        "acetaminophen_mg_per_day": f"{summary.acetaminophen_mg_per_day:,.0f}",
        "acetaminophen_limit_mg_per_day": f"{summary.acetaminophen_limit_mg_per_day:,.0f}",
        "mme_per_day": f"{summary.morphine_mg_equivalents_per_day:,.0f}",
        "serotonergic_agents": summary.serotonergic_agents,
    }


class HeadlineWriter:
    """The headlines of one answer's findings: the regimen's totals are formatted once, into
    the one mapping the templates that print them are filled from (each such finding sets its
    own drugs in it)."""

    __slots__ = ("_templates", "_values")

    def __init__(self, summary: RegimenSummary, headlines: Mapping[str, str] = HEADLINES) -> None:
        self._templates = COMPILED if headlines is HEADLINES else compile_headlines(headlines)
        self._values: dict[str, object] = totals(summary)

    def headline(self, finding: Finding) -> str:
        """``finding``'s headline, at most ``MAX_HEADLINE`` characters."""
        return self.headlines((finding,))[0]

    def headlines(self, findings: Iterable[Finding]) -> list[str]:
        """The headlines of ``findings``, in order (one call for an answer's findings)."""
        templates = self._templates
        said: list[str] = []
        add = said.append
        for finding in findings:
            compiled = templates.get(finding.rule_id)
            if compiled is None:  # check_headlines at start-up keeps this from happening
                add(finding.rule_id)
                continue
            text, reads, values_of = compiled
            if reads:
                names = finding.drugs
                drugs = " and ".join(names) if len(names) <= 2 else _join(names)
                if reads == DRUGS:
                    text = text % drugs
                elif reads == CAPITALIZED_DRUGS:
                    text = text % (drugs[:1].upper() + drugs[1:])
                else:
                    values = self._values
                    values["drugs"] = drugs
                    values["Drugs"] = drugs[:1].upper() + drugs[1:]
                    text = text % values_of(values)  # type: ignore[misc]
            add(text if len(text) <= MAX_HEADLINE else text[: MAX_HEADLINE - 1].rstrip() + "…")
        return said


def _join(names: tuple[str, ...]) -> str:
    """Three names or more: ``a, b and c``."""
    return f"{', '.join(names[:-1])} and {names[-1]}"
