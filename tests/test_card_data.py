"""The presentation data is complete and checked at start-up: a headline and a card source for
every rule, suggestion rows naming real rules, short headlines even with many drugs."""

from __future__ import annotations

from dataclasses import replace

import pytest

from regimenguard.interactions.datafile import DataError
from regimenguard.regimen.headlines import (
    HEADLINES,
    MAX_HEADLINE,
    HeadlineWriter,
    check_headlines,
    headline,
    load_headlines,
    totals,
)
from regimenguard.regimen.knowledge import load_knowledge
from regimenguard.regimen.model import Finding, RegimenSummary, Severity
from regimenguard.server.http.presentation import load_presentation

SUMMARY = RegimenSummary(
    acetaminophen_mg_per_day=12_345.0,
    acetaminophen_limit_mg_per_day=2_000.0,
    morphine_mg_equivalents_per_day=187.5,
    serotonergic_agents=3,
    orders=(),
)


@pytest.fixture(scope="module")
def rule_ids() -> list[str]:
    return [spec.rule_id for spec in load_knowledge().rules]


def test_every_rule_has_a_headline_and_a_card_source(rule_ids):
    check_headlines(rule_ids)
    presentation = load_presentation(rule_ids)
    assert set(presentation.sources) >= set(rule_ids)  # rows for rules to come are kept
    assert all(source.url.startswith("https://") for source in presentation.sources.values())
    assert presentation.override_reasons


def test_a_rule_without_a_headline_stops_start_up(rule_ids):
    with pytest.raises(DataError, match="NEW_RULE"):
        check_headlines([*rule_ids, "NEW_RULE"])
    with pytest.raises(DataError, match="NEW_RULE"):
        load_presentation([*rule_ids, "NEW_RULE"])


def test_headlines_stay_under_140_characters_and_carry_the_numbers(rule_ids):
    many = tuple(f"drug-with-a-long-name-{i}" for i in range(12))
    for rule_id in rule_ids:
        finding = Finding(rule_id, Severity.WARNING, many, "m", "r", "s", "XX")
        assert len(headline(finding, SUMMARY)) <= MAX_HEADLINE
    apap = Finding(
        "ACETAMINOPHEN_DAILY_MAX", Severity.CRITICAL, ("acetaminophen",), "m", "r", "s", "HD"
    )
    assert headline(apap, SUMMARY) == "Acetaminophen 12,345 mg/day is over the 2,000 mg/day limit"
    mme = apap._replace(rule_id="OPIOID_DAILY_MME", drugs=("oxycodone",))
    assert headline(mme, SUMMARY) == "Opioids total 188 MME/day"


def test_unknown_placeholder_is_a_data_error(tmp_path):
    bad = tmp_path / "headlines.csv"
    bad.write_text("rule_id,headline,source\nX,Total {total_dose} mg,test\n")
    with pytest.raises(DataError, match="unknown placeholder"):
        load_headlines(bad)
    assert "{drugs}" in HEADLINES["DUPLICATE_THERAPY"]


def _reference_headline(template: str, finding: Finding, summary: RegimenSummary) -> str:
    """The headline as its template says, filled from a fresh mapping per finding."""
    names = finding.drugs
    drugs = " and ".join(names) if len(names) <= 2 else f"{', '.join(names[:-1])} and {names[-1]}"
    text = template.format_map(
        {"drugs": drugs, "Drugs": drugs[:1].upper() + drugs[1:], **totals(summary)}
    )
    return text if len(text) <= MAX_HEADLINE else text[: MAX_HEADLINE - 1].rstrip() + "…"


@pytest.mark.parametrize("drugs", [(), ("naproxen",), ("duloxetine", "tramadol"), ("a", "b", "c")])
def test_headlines_read_as_their_templates(drugs: tuple[str, ...]) -> None:
    summaries = (SUMMARY, replace(SUMMARY, morphine_mg_equivalents_per_day=0.0))
    for summary in summaries:
        writer = HeadlineWriter(summary)
        for rule_id, template in HEADLINES.items():
            finding = Finding(rule_id, Severity.WARNING, drugs, "m", "r", "s", "")
            assert writer.headline(finding) == _reference_headline(template, finding, summary)
    braces = {"R": "{{literal}} {Drugs}: {mme_per_day} MME"}
    finding = Finding("R", Severity.WARNING, ("x",), "m", "r", "s", "")
    assert HeadlineWriter(SUMMARY, braces).headline(finding) == "{literal} X: 188 MME"
    percent = {"R": "100% {drugs} at %s, {mme_per_day} MME", "Q": "50% plain"}
    writer = HeadlineWriter(SUMMARY, percent)
    assert writer.headline(finding) == "100% x at %s, 188 MME"
    assert writer.headline(finding._replace(rule_id="Q")) == "50% plain"


def test_a_placeholder_with_a_format_is_a_data_error(tmp_path):
    bad = tmp_path / "headlines.csv"
    bad.write_text("rule_id,headline,source\nX,Total {mme_per_day:.1f} MME,test\n")
    with pytest.raises(DataError, match="with a format"):
        load_headlines(bad)
