"""Rules gated on what one order alone brings (regimenguard.regimen.facts.order_rule_markers).

DOSING_SCHEDULE and TRAMADOL_EXTENDED_RELEASE_START run only when a back-pain order breaks one
of their scheduling constraints, LONG_ACTING_OPIOID_START and OPIOID_TOLERANT_ONLY only when an
opioid is started in such a form, DULOXETINE_SUBACUTE only when an SNRI is started for back
pain. The engine skips a rule whose markers are absent, so a rule that would find something
without them would be silenced: on generated regimens (orders repeating, and every order
unique) and on every clinical scenario, each of these rules, run regardless of its gate,
finds nothing unless its gate is open; and each finds something somewhere in the sample (the gate is not trivially shut).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from google.protobuf import json_format

from bench.bulkgen import Generator
from regimenguard.regimen.facts import RegimenFacts, build_facts
from regimenguard.regimen.knowledge import Knowledge
from regimenguard.regimen.model import (
    MedicationOrder,
    OrderAction,
    Patient,
    RegimenRequest,
    Route,
    TherapyResponse,
)
from regimenguard.regimen.rules import RULES
from regimenguard.regimen.validation import RequestInvalid, normalized, request_error
from regimenguard.server.convert import decode_request
from regimenguard.v1 import regimen_checker_pb2 as pb
from tests.scenarios import SCENARIOS

GATED = (
    "DOSING_SCHEDULE",
    "TRAMADOL_EXTENDED_RELEASE_START",
    "LONG_ACTING_OPIOID_START",
    "OPIOID_TOLERANT_ONLY",
    "DULOXETINE_SUBACUTE",
)
SAMPLE = 3000


def _gates(knowledge: Knowledge) -> dict[str, int]:
    return {
        rule_id: knowledge.compiled.mask(RULES[rule_id].triggers(knowledge, rule_id))
        for rule_id in GATED
    }


def _sample(knowledge: Knowledge, unique: bool) -> Iterator[pb.CheckRegimenRequest]:
    """Generated regimens, then every clinical scenario (tests/scenarios.py)."""
    generator = Generator(unique_orders=unique)
    for i in range(0, SAMPLE * 3, 3):
        yield pb.CheckRegimenRequest.FromString(generator.regimen(i))
    for scenario in SCENARIOS:
        yield json_format.ParseDict(scenario.request, pb.CheckRegimenRequest())


def sample_facts(knowledge: Knowledge, unique: bool, every: int = 1) -> Iterator[RegimenFacts]:
    """The facts of each checkable regimen of ``_sample`` (``every``: one regimen in so many)."""
    for count, message in enumerate(_sample(knowledge, unique)):
        if count % every:
            continue
        decoded = decode_request(message, knowledge)
        if isinstance(decoded, RequestInvalid) or request_error(
            decoded, knowledge.settings, knowledge
        ):
            continue
        yield build_facts(normalized(decoded), knowledge)


@pytest.mark.parametrize("unique", [False, True], ids=["orders-repeat", "every-order-unique"])
def test_a_gated_rule_finds_nothing_with_its_gate_shut(knowledge: Knowledge, unique: bool) -> None:
    specs = {spec.rule_id: spec for spec in knowledge.rules}
    gates = _gates(knowledge)
    fired = dict.fromkeys(GATED, 0)
    for facts in sample_facts(knowledge, unique):
        for rule_id in GATED:
            findings = list(RULES[rule_id].check(facts, specs[rule_id]))
            if findings:
                fired[rule_id] += 1
                assert gates[rule_id] & facts.present, (rule_id, findings)
    assert all(fired.values()), fired


def _request(*orders: MedicationOrder, **patient: object) -> RegimenRequest:
    return RegimenRequest(
        request_id="gates",
        patient=Patient(age_years=50, **patient),  # type: ignore[arg-type]
        medications=tuple(orders),
        as_of=dt.date(2026, 11, 23),
    )


def _open(knowledge: Knowledge, request: RegimenRequest) -> set[str]:
    present = build_facts(request, knowledge).present
    return {rule_id for rule_id, gate in _gates(knowledge).items() if gate & present}


def test_the_gates_open_on_the_orders_that_need_them(knowledge: Knowledge) -> None:
    duloxetine_prn = MedicationOrder(
        drug="duloxetine", dose_mg=30, doses_per_day=1, as_needed=True, action=OrderAction.START
    )
    assert _open(knowledge, _request(duloxetine_prn)) == {"DOSING_SCHEDULE", "DULOXETINE_SUBACUTE"}
    # the same drug taken every day for depression: no back-pain order, no start
    for_depression = MedicationOrder(
        drug="duloxetine", dose_mg=60, doses_per_day=1, indication="depression"
    )
    assert _open(knowledge, _request(for_depression)) == set()
    patch = MedicationOrder(
        drug="fentanyl",
        rate_mcg_per_hour=25,
        route=Route.TRANSDERMAL,
        action=OrderAction.START,
    )
    assert {"LONG_ACTING_OPIOID_START", "OPIOID_TOLERANT_ONLY"} <= _open(knowledge, _request(patch))
    er_tramadol = MedicationOrder(
        drug="tramadol",
        dose_mg=100,
        doses_per_day=1,
        extended_release=True,
        action=OrderAction.START,
    )
    assert "TRAMADOL_EXTENDED_RELEASE_START" in _open(knowledge, _request(er_tramadol))
    # short-acting tramadol started as needed: no schedule broken, no long-acting form
    tramadol = MedicationOrder(
        drug="tramadol", dose_mg=50, doses_per_day=4, as_needed=True, action=OrderAction.START
    )
    assert _open(knowledge, _request(tramadol)) == set()


@pytest.mark.parametrize("unique", [False, True], ids=["orders-repeat", "every-order-unique"])
def test_the_back_pain_order_lists_are_those_orders(knowledge: Knowledge, unique: bool) -> None:
    """The back-pain orders that start, change a dose, or do not help, as the facts list them
    once, are those of ``back_pain`` in request order."""
    seen = {"starts": 0, "changes": 0, "no benefit": 0}
    for facts in sample_facts(knowledge, unique):
        back_pain = facts.back_pain_orders()
        starts = tuple(o for o in back_pain if o.order.action is OrderAction.START)
        changes = tuple(o for o in back_pain if o.order.action is OrderAction.CHANGE_DOSE)
        no_benefit = tuple(o for o in back_pain if o.order.response is TherapyResponse.NO_BENEFIT)
        assert facts.back_pain_starts == starts
        assert facts.back_pain_dose_changes == changes
        assert facts.back_pain_no_benefit == no_benefit
        seen["starts"] += bool(starts)
        seen["changes"] += bool(changes)
        seen["no benefit"] += bool(no_benefit)
    assert all(seen.values()), seen
