"""Whatever an EHR sends, the CDS service answers 200 or 400, never 500: any element of a valid
request replaced by any JSON value (property test), and the JSON API likewise."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from regimenguard.regimen.service import RegimenService
from tests.fhir_helpers import bundle, cds_request, condition, med_request, medication, patient
from tests.http_helpers import SIGN, make_client

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**12), 10**12)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=6,
)


def _request() -> dict[str, Any]:
    combo = medication(
        "m1",
        text="hydrocodone/acetaminophen",
        ingredients=[("hydrocodone", 5), ("acetaminophen", 325)],
    )
    drafts = [
        med_request(
            "a",
            rxnorm="21949",
            dose=(5, "mg"),
            frequency=3,
            period=1,
            as_needed=True,
            supply_days=14,
            route="26643006",
            reason="spasm",
        ),
        med_request(
            "b",
            medication=combo,
            dose_range=(1, 2, "{tablet}"),
            frequency=1,
            period=4,
            period_max=6,
            period_unit="h",
            max_per_period=(6, "{tablet}", 1, "d"),
        ),
        med_request(
            "c",
            text="duloxetine",
            dose=(60, "mg"),
            frequency=1,
            period=1,
            prior="MedicationRequest/d",
            response="benefit",
        ),
    ]
    prefetch = {
        "patient": patient("1950-01-01", refractory=True),
        "conditions": bundle(
            condition("http://hl7.org/fhir/sid/icd-10-cm", "K92.2"),
            condition("http://snomed.info/sct", "279039007", onset="2026-01-01"),
        ),
        "medications": bundle(
            med_request(
                "d",
                text="duloxetine",
                dose=(30, "mg"),
                frequency=1,
                period=1,
                status="active",
                authored="2026-11-01",
            )
        ),
    }
    return cds_request("order-sign", drafts, prefetch, selections=["MedicationRequest/a"])


BASE = _request()


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:  # type: ignore[type-arg]
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found.extend(_paths(item, (*prefix, key)))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found.extend(_paths(item, (*prefix, i)))
    return found


PATHS = _paths(BASE)


@pytest.fixture(scope="module")
def client():  # type: ignore[no-untyped-def]
    return make_client(RegimenService.from_config(None))


def test_the_base_request_is_checked(client):
    assert client.post(SIGN, json=BASE).status_code == 200


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(where=st.sampled_from(PATHS), value=JSON)
def test_any_element_replaced_by_any_json_is_200_or_400(client, where, value):
    body = copy.deepcopy(BASE)
    target = body
    for step in where[:-1]:
        target = target[step]
    target[where[-1]] = value
    response = client.post(SIGN, json=body)
    assert response.status_code in (200, 400), (where, value, response.text)
    if response.status_code == 400:
        assert response.json()["resourceType"] == "OperationOutcome"


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(value=JSON)
def test_json_api_bodies_are_200_or_400(client, value):
    response = client.post(
        "/v1/regimens:check",
        json={"medications": [{"drug": "ibuprofen", "doseMg": value, "dosesPerDay": 3}]},
    )
    assert response.status_code in (200, 400), response.text
    response = client.post("/v1/regimens:check", json=value)
    assert response.status_code in (200, 400), response.text
