"""What a rule derives from one order alone is kept in the order's record (rules.base.kept_value).

TITRATION_INTERVAL keeps each raise of a CHANGE_DOSE order (its words but for the days since
the start), MUSCLE_RELAXANT_DURATION each relaxant's course limit (none for a new course planned
within it), NSAID_WITH_ACETAMINOPHEN the daily amount of the ingredient an order is written as,
START_LOW what a start above its usual start says (with and without a node that allows the
combined start), MULTIPLE_NEW_AGENTS (and the rules asking with it) the ingredients of a
combination that can be back-pain agents.
Kept or not, the answer must be the same: every value a checker's records keep after generated
regimens (orders repeating, and every order unique) and every clinical scenario equals what the
order derives afresh; and what depends on the request (the days since a start, the as-of date)
is not kept: the same order read again at another date answers for that date, and a start with
or without the drug that allows its combined start answers for its own regimen.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from google.protobuf import json_format

from bench.bulkgen import Generator
from regimenguard.regimen.engine import RegimenChecker
from regimenguard.regimen.knowledge import Knowledge
from regimenguard.regimen.model import (
    MedicationOrder,
    OrderAction,
    Patient,
    RegimenRequest,
    TherapyResponse,
)
from regimenguard.regimen.order_record import records_for
from regimenguard.regimen.rules import muscle_relaxants, nsaid_acetaminophen, titration
from regimenguard.regimen.validation import RequestInvalid, normalized, request_error
from regimenguard.server.convert import decode_request
from regimenguard.v1 import regimen_checker_pb2 as pb
from tests.conftest import AS_OF
from tests.rule_helpers import fired, only
from tests.scenarios import SCENARIOS

# each derivation a rule keeps -> the rule whose catalogue row it is given
DERIVATIONS = {
    titration._raises: "TITRATION_INTERVAL",
    muscle_relaxants._course_limits: "MUSCLE_RELAXANT_DURATION",
    nsaid_acetaminophen._carried_alone: "NSAID_WITH_ACETAMINOPHEN",
    titration._starts_above: "START_LOW",
    titration._agent_names: "MULTIPLE_NEW_AGENTS",
}
SAMPLE = 1500


def _requests(knowledge: Knowledge, unique: bool) -> list[RegimenRequest]:
    generator = Generator(unique_orders=unique)
    messages = [
        pb.CheckRegimenRequest.FromString(generator.regimen(i)) for i in range(0, SAMPLE * 3, 3)
    ]
    messages += [json_format.ParseDict(s.request, pb.CheckRegimenRequest()) for s in SCENARIOS]
    requests = []
    for message in messages:
        decoded = decode_request(message, knowledge)
        if isinstance(decoded, RequestInvalid) or request_error(
            decoded, knowledge.settings, knowledge
        ):
            continue
        requests.append(normalized(decoded))
    return requests


@pytest.mark.parametrize("unique", [False, True], ids=["orders-repeat", "every-order-unique"])
def test_every_kept_value_is_what_its_order_derives_afresh(
    knowledge: Knowledge, unique: bool
) -> None:
    checker = RegimenChecker(knowledge)
    requests = _requests(knowledge, unique)
    for request in requests:
        checker.check(request)
    specs = {spec.rule_id: spec for spec in knowledge.rules}
    kept: Counter[str] = Counter()
    found: Counter[str] = Counter()  # kept values that say something (not empty)
    records = {
        id(record): record
        for request in requests
        for record in records_for(request.medications, knowledge, checker.order_records)
    }
    for record in records.values():
        order = record.resolved(0)
        for derive, value in record.rule_values.items():
            rule_id = DERIVATIONS[derive]  # a KeyError: a kept value this test does not know
            assert derive(order, knowledge, specs[rule_id]) == value, (rule_id, order)
            kept[rule_id] += 1
            found[rule_id] += bool(value) and value != ("", "")
    for rule_id in DERIVATIONS.values():
        assert kept[rule_id] >= 5, (rule_id, kept)
        assert found[rule_id] >= 1, (rule_id, found)


def _request(as_of: dt.date, *orders: MedicationOrder) -> RegimenRequest:
    return RegimenRequest("kept", as_of, Patient(age_years=50), tuple(orders))


def test_a_kept_raise_is_judged_at_each_requests_date(knowledge: Knowledge) -> None:
    checker = RegimenChecker(knowledge)
    raised = MedicationOrder(
        "duloxetine",
        60,
        doses_per_day=1,
        action=OrderAction.CHANGE_DOSE,
        started_on=dt.date(2026, 11, 19),
        previous_dose_mg=30,
    )
    early = only(checker.check(_request(AS_OF, raised)), "TITRATION_INTERVAL")
    assert early.message == (
        "Duloxetine is raised from 30 mg to 60 mg 4 days after it was started (2026-11-19); "
        "the guideline waits 7 days."
    )
    assert (
        early.recommendation == "Keep 30 mg until 7 days have passed, then raise it if tolerated."
    )
    assert early.drugs == ("duloxetine",)
    # the same order (its record, with the raise kept) a day later, then once the wait is over
    next_day = only(
        checker.check(_request(AS_OF + dt.timedelta(days=1), raised)), "TITRATION_INTERVAL"
    )
    assert "60 mg 5 days after it was started" in next_day.message
    assert not fired(checker.check(_request(dt.date(2026, 11, 26), raised)), "TITRATION_INTERVAL")


def test_a_kept_course_limit_is_judged_at_each_requests_date(knowledge: Knowledge) -> None:
    checker = RegimenChecker(knowledge)
    current = MedicationOrder(
        "cyclobenzaprine",
        5,
        doses_per_day=3,
        started_on=dt.date(2026, 11, 1),
        response=TherapyResponse.BENEFIT,
    )
    assert not fired(checker.check(_request(AS_OF, current)), "MUSCLE_RELAXANT_DURATION")
    later = only(checker.check(_request(dt.date(2026, 12, 9), current)), "MUSCLE_RELAXANT_DURATION")
    assert later.message.startswith(
        "Cyclobenzaprine has run 38 days (since 2026-11-01), 10 days over its limit of 28 days."
    )
    # a new course planned within its limit is never over it; one planned beyond it is
    within = MedicationOrder(
        "cyclobenzaprine", 5, doses_per_day=3, action=OrderAction.START, planned_days=14
    )
    beyond = MedicationOrder(
        "cyclobenzaprine", 5, doses_per_day=3, action=OrderAction.START, planned_days=35
    )
    assert not fired(checker.check(_request(AS_OF, within)), "MUSCLE_RELAXANT_DURATION")
    assert "is planned for 35 days, 7 days over its limit of 28 days" in (
        only(checker.check(_request(AS_OF, beyond)), "MUSCLE_RELAXANT_DURATION").message
    )


def test_a_kept_start_is_judged_with_each_requests_regimen(knowledge: Knowledge) -> None:
    checker = RegimenChecker(knowledge)
    tizanidine = MedicationOrder("tizanidine", 4, doses_per_day=3, action=OrderAction.START)
    duloxetine = MedicationOrder("duloxetine", 30, doses_per_day=1)  # current, not new
    alone = only(checker.check(_request(AS_OF, tizanidine)), "START_LOW")
    assert alone.message == "New tizanidine starts at 4 mg a dose; the usual start is 2 mg."
    assert alone.recommendation == "Start tizanidine at 2 mg and titrate up by response."
    # the same order (its record, with its starts kept) beside duloxetine: 4 mg is its start
    assert not fired(checker.check(_request(AS_OF, tizanidine, duloxetine)), "START_LOW")
    assert fired(checker.check(_request(AS_OF, tizanidine)), "START_LOW")
