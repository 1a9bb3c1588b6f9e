"""The proto fields of issue 11: stopped_on, the new Patient flags, buccal route, summary lists."""

from __future__ import annotations

import datetime as dt

import pytest

from regimenguard.regimen.model import OrderAction, Patient, Route
from regimenguard.regimen.validation import RequestInvalid
from regimenguard.server.convert import request_from_proto, response_from_result
from regimenguard.v1 import regimen_checker_pb2 as pb
from tests.grpc_helpers import order, request

TODAY = dt.date(2026, 11, 23)
STOP = pb.ORDER_ACTION_STOP


def convert(checker, message):  # type: ignore[no-untyped-def]
    return request_from_proto(message, checker, today=TODAY)


def bad_fields(checker, message) -> list[str]:  # type: ignore[no-untyped-def]
    with pytest.raises(RequestInvalid) as raised:
        convert(checker, message)
    return [violation.field for violation in raised.value.violations]


def test_stopped_on_is_a_date_of_a_stop_order(checker) -> None:  # type: ignore[no-untyped-def]
    domain = convert(checker, request(order("phenelzine", action=STOP, stopped_on="2026-11-20")))
    (stop,) = domain.medications
    assert stop.action is OrderAction.STOP and stop.stopped_on == dt.date(2026, 11, 20)


def test_stopped_on_defaults_to_none_meaning_as_of(checker) -> None:  # type: ignore[no-untyped-def]
    domain = convert(checker, request(order("phenelzine", action=STOP)))
    assert domain.medications[0].stopped_on is None


@pytest.mark.parametrize("value", ["2026-13-01", "20-11-2026", "yesterday", "2026-02-30"])
def test_a_malformed_stopped_on_names_its_field(checker, value: str) -> None:  # type: ignore[no-untyped-def]
    message = request(order("naproxen", 500, 2), order("phenelzine", action=STOP, stopped_on=value))
    assert bad_fields(checker, message) == ["medications[1].stopped_on"]


def test_stopped_on_on_an_order_that_is_not_a_stop_is_invalid(checker) -> None:  # type: ignore[no-untyped-def]
    message = request(order("naproxen", 500, 2, stopped_on="2026-11-20"))
    assert bad_fields(checker, message) == ["medications[0].stopped_on"]


def test_new_patient_flags_and_the_buccal_route_convert(checker) -> None:  # type: ignore[no-untyped-def]
    message = request(
        order("fentanyl", 0.1, 4, route=pb.ROUTE_BUCCAL),
        patient=pb.Patient(
            age_years=60, active_cancer_treatment=True, palliative_care=True, opioid_tolerant=True
        ),
    )
    domain = convert(checker, message)
    assert domain.patient == Patient(
        age_years=60, active_cancer_treatment=True, palliative_care=True, opioid_tolerant=True
    )
    assert domain.medications[0].route is Route.BUCCAL


def test_summary_lists_oud_treatment_and_uncounted_opioids(checker) -> None:  # type: ignore[no-untyped-def]
    message = request(
        order("methadone", 80, 1, indication="OUD"),
        order("meperidine", 50, 4),
        order("oxycodone", 10, 2),
    )
    response = response_from_result(checker.check(convert(checker, message)))
    assert list(response.summary.oud_treatment_drugs) == ["methadone"]
    assert list(response.summary.mme_uncounted_drugs) == ["meperidine"]
    assert response.summary.morphine_mg_equivalents_per_day == pytest.approx(30)
    assert pb.CheckRegimenResponse.FromString(response.SerializeToString()) == response


def test_washout_interaction_is_in_the_summary(checker) -> None:  # type: ignore[no-untyped-def]
    message = request(
        order("phenelzine", action=STOP, stopped_on="2026-11-20"),
        order("duloxetine", 30, 1, action=pb.ORDER_ACTION_START),
    )
    response = response_from_result(checker.check(convert(checker, message)))
    fired = [i for i in response.summary.interactions if i.rule_id == "CONTRAINDICATED_COMBINATION"]
    assert [list(i.drugs) for i in fired] == [["duloxetine", "phenelzine"]]
    assert response.verdict == pb.VERDICT_REJECT
