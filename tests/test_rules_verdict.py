"""Verdict, acknowledgements, ordering of findings and determinism."""

from __future__ import annotations

import datetime as dt
import itertools
import re

from regimenguard.regimen.knowledge import Knowledge
from regimenguard.regimen.model import (
    Acknowledgement,
    CheckResult,
    OrderAction,
    Patient,
    Severity,
    Verdict,
)
from tests.conftest import AS_OF
from tests.rule_helpers import only, order

NAPROXEN = order("naproxen", 500, 2)
APAP = order("acetaminophen", 650, 4)
NWA = "NSAID_WITH_ACETAMINOPHEN"


def test_empty_regimen_is_accepted_with_no_findings(check, knowledge: Knowledge) -> None:
    result = check()
    assert result.verdict is Verdict.ACCEPT
    assert result.findings == ()
    assert result.knowledge_base_version == knowledge.version


def test_info_findings_never_change_the_verdict(check) -> None:
    result = check(NAPROXEN, patient=Patient(age_years=70))
    assert [f.severity for f in result.findings] == [Severity.INFO]
    assert result.verdict is Verdict.ACCEPT


def test_unacknowledged_warning_is_review(check) -> None:
    result = check(NAPROXEN, APAP)
    assert only(result, NWA).acknowledged is False
    assert result.verdict is Verdict.REVIEW


def test_acknowledged_warning_is_accept_and_still_reported(check) -> None:
    result = check(
        NAPROXEN, APAP, acknowledgements=(Acknowledgement(NWA, "NSAID partly effective"),)
    )
    finding = only(result, NWA)
    assert finding.acknowledged is True
    assert finding.severity is Severity.WARNING
    assert result.verdict is Verdict.ACCEPT


def test_acknowledgement_naming_every_drug_by_brand_covers_the_finding(check) -> None:
    ack = Acknowledgement(NWA, "reviewed", drugs=("Aleve", "Tylenol"))
    result = check(NAPROXEN, APAP, acknowledgements=(ack,))
    assert only(result, NWA).acknowledged is True
    assert result.verdict is Verdict.ACCEPT


def test_acknowledgement_naming_only_some_drugs_or_another_rule_does_not_cover(check) -> None:
    for ack in (
        Acknowledgement(NWA, "reviewed", drugs=("naproxen",)),
        Acknowledgement("DUPLICATE_THERAPY", "reviewed"),
    ):
        result = check(NAPROXEN, APAP, acknowledgements=(ack,))
        assert only(result, NWA).acknowledged is False, ack
        assert result.verdict is Verdict.REVIEW, ack


def test_acknowledgement_with_drugs_covers_only_the_findings_it_names(check) -> None:
    ack = Acknowledgement(
        "DUPLICATE_THERAPY", "cross-taper", drugs=("cyclobenzaprine", "tizanidine")
    )
    result = check(
        order("cyclobenzaprine", 5, 3),
        order("tizanidine", 2, 3),
        order("oxycodone", 5, 2, indication="cancer pain"),
        order("morphine", 15, 2, indication="cancer pain"),
        acknowledgements=(ack,),
    )
    duplicates = {
        f.drugs: f.acknowledged for f in result.findings if f.rule_id == "DUPLICATE_THERAPY"
    }
    assert duplicates == {
        ("cyclobenzaprine", "tizanidine"): True,
        ("morphine", "oxycodone"): False,
    }
    assert result.verdict is Verdict.REVIEW


def test_critical_findings_are_never_acknowledged(check) -> None:
    acks = (
        Acknowledgement("ACETAMINOPHEN_DAILY_MAX", "patient insists"),
        Acknowledgement(
            "BENZODIAZEPINE_WITH_OPIOID", "long-standing", drugs=("diazepam", "tramadol")
        ),
    )
    result = check(
        order("acetaminophen", 1000, 4),
        order("diazepam", 5, 1, indication="anxiety"),
        order("tramadol", 50, 4),
        acknowledgements=acks,
    )
    for rule_id in ("ACETAMINOPHEN_DAILY_MAX", "BENZODIAZEPINE_WITH_OPIOID"):
        finding = only(result, rule_id)
        assert finding.severity is Severity.CRITICAL and finding.acknowledged is False
    assert result.verdict is Verdict.REJECT


def test_acknowledged_warning_does_not_soften_a_critical(check) -> None:
    result = check(
        NAPROXEN,
        APAP,
        order("ibuprofen", 400, 3),
        acknowledgements=(Acknowledgement(NWA, "reviewed"),),
    )
    assert all(f.acknowledged for f in result.findings if f.rule_id == NWA)
    assert only(result, "DUPLICATE_THERAPY").severity is Severity.CRITICAL
    assert result.verdict is Verdict.REJECT


def test_acknowledged_combination_is_reviewed_afresh_when_it_turns_critical(check) -> None:
    ack = Acknowledgement("SEROTONERGIC_COMBINATION", "monitored", drugs=("Cymbalta", "Flexeril"))
    pair = (order("duloxetine", 60, 1), order("cyclobenzaprine", 5, 3))
    assert check(*pair, acknowledgements=(ack,)).verdict is Verdict.ACCEPT
    result = check(*pair, order("trazodone", 50, 1, indication="insomnia"), acknowledgements=(ack,))
    finding = only(result, "SEROTONERGIC_COMBINATION")
    assert finding.severity is Severity.CRITICAL and finding.acknowledged is False
    assert result.verdict is Verdict.REJECT


BUSY_REGIMEN = (
    order("naproxen", 500, 2, action=OrderAction.START),
    order("acetaminophen", 1000, 4),
    order("cyclobenzaprine", 10, 3, action=OrderAction.START, planned_days=40),
    order(
        "duloxetine", 60, 1, action=OrderAction.CHANGE_DOSE, started_on=AS_OF - dt.timedelta(days=3)
    ),
    order("tramadol", 50, 6, action=OrderAction.START),
    order("diazepam", 5, 1),
)
BUSY_PATIENT = Patient(age_years=70, gi_bleed_history=True)


def test_findings_are_ordered_most_severe_first_then_by_catalogue(
    check, knowledge: Knowledge
) -> None:
    result = check(*BUSY_REGIMEN, patient=BUSY_PATIENT)
    position = {spec.rule_id: i for i, spec in enumerate(knowledge.rules)}
    keys = [(-f.severity, position[f.rule_id]) for f in result.findings]
    assert keys == sorted(keys)
    severities = {f.severity for f in result.findings}
    assert severities == {Severity.CRITICAL, Severity.WARNING, Severity.INFO}
    assert result.findings[0].severity is Severity.CRITICAL
    assert result.verdict is Verdict.REJECT


def test_result_is_deterministic_regardless_of_medication_order(check) -> None:
    def essence(result: CheckResult) -> list[tuple]:
        # messages may list orders as written; compare their words, not their order
        return [
            (
                f.rule_id,
                f.severity,
                f.drugs,
                f.ncpdp_reason_code,
                f.guideline_section,
                f.recommendation,
                sorted(re.findall(r"[\w'/.-]+", f.message)),
            )
            for f in result.findings
        ]

    baseline = check(*BUSY_REGIMEN, patient=BUSY_PATIENT)
    assert len(baseline.findings) >= 10
    for permutation in itertools.islice(itertools.permutations(BUSY_REGIMEN), 1, None, 7):
        result = check(*permutation, patient=BUSY_PATIENT)
        assert result.verdict is baseline.verdict
        assert essence(result) == essence(baseline)
