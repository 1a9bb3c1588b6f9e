"""CDS Hooks 2.0 through the HTTP door: requests shaped like EHR traffic, cards, suggestions,
feedback, bad input, and a FHIR server on loopback for what the prefetch lacks."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import pytest

from regimenguard.regimen.service import RegimenService
from regimenguard.server.http.metrics import HttpMetrics
from tests.fhir_helpers import (
    ICD10CM,
    SNOMED,
    bundle,
    cds_request,
    condition,
    med_request,
    patient,
)
from tests.http_helpers import SELECT, SIGN, cards_by_rule, make_client

OLDER = "1954-05-01"  # 72 on the check date


@pytest.fixture(scope="module")
def service() -> RegimenService:
    return RegimenService.from_config(None)


@pytest.fixture(scope="module")
def metrics() -> HttpMetrics:
    return HttpMetrics()


@pytest.fixture(scope="module")
def client(service, metrics):  # type: ignore[no-untyped-def]
    return make_client(service, metrics=metrics)


def duloxetine(status: str = "active") -> dict[str, Any]:
    return med_request(
        "dlx",
        rxnorm="72625",
        text="duloxetine",
        dose=(60, "mg"),
        frequency=1,
        period=1,
        authored="2026-09-01",
        status=status,
    )


def cyclobenzaprine() -> dict[str, Any]:
    return med_request(
        "cbz", rxnorm="21949", dose=(5, "mg"), frequency=3, period=1, as_needed=True, supply_days=14
    )


def sign(client, drafts, *, birth="1980-05-01", conditions=(), actives=(), **extra):  # type: ignore[no-untyped-def]
    prefetch = {
        "patient": patient(birth),
        "conditions": bundle(*conditions),
        "medications": bundle(*actives),
    }
    response = client.post(SIGN, json=cds_request("order-sign", drafts, prefetch, **extra))
    assert response.status_code == 200, response.text
    return response.json()


def test_discovery_lists_both_hooks_with_prefetch_templates(client):
    services = {s["hook"]: s for s in client.get("/cds-services").json()["services"]}
    assert set(services) == {"order-select", "order-sign"}
    for service in services.values():
        prefetch = service["prefetch"]
        assert prefetch["patient"] == "Patient/{{context.patientId}}"
        assert prefetch["conditions"].startswith("Condition?patient={{context.patientId}}")
        assert (
            prefetch["medications"]
            == "MedicationRequest?patient={{context.patientId}}&status=active"
        )
        assert service["id"] and service["description"]


def test_cyclobenzaprine_with_duloxetine_suggests_tizanidine_at_its_starting_dose(client):
    body = sign(client, [cyclobenzaprine()], actives=[duloxetine()])
    card = cards_by_rule(body)["SEROTONERGIC_COMBINATION"]
    assert card["indicator"] == "warning"
    assert card["summary"] == "2 serotonergic drugs together: cyclobenzaprine and duloxetine"
    assert len(card["summary"]) < 140
    assert {r["code"] for r in card["overrideReasons"]} >= {
        "benefit-outweighs-risk",
        "will-monitor",
    }
    assert card["source"]["topic"]["code"] == "SEROTONERGIC_COMBINATION"
    assert card["source"]["url"].startswith("https://")
    (suggestion,) = card["suggestions"]
    assert suggestion["label"] == "Replace cyclobenzaprine with tizanidine 2 mg (its starting dose)"
    delete, create = suggestion["actions"]
    assert delete == {
        "type": "delete",
        "description": "Remove the cyclobenzaprine order",
        "resourceId": "MedicationRequest/cbz",
    }
    assert create["type"] == "create"
    new = create["resource"]
    assert new["resourceType"] == "MedicationRequest" and new["id"] != "cbz"
    assert new["medicationCodeableConcept"]["coding"][0]["code"] == "57258"  # tizanidine
    assert new["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["value"] == 2
    assert (
        new["dosageInstruction"][0]["timing"] == cyclobenzaprine()["dosageInstruction"][0]["timing"]
    )


def test_too_much_acetaminophen_is_critical_and_lowered_to_fit(client):
    norco = med_request(
        "norco", rxnorm="856999", dose=(1, "{tablet}"), frequency=4, period=1, status="active"
    )
    tylenol = med_request(
        "apap",
        text="Tylenol",
        dose=(500, "mg"),
        frequency=1,
        period=6,
        period_unit="h",
        as_needed=True,
    )
    body = sign(client, [tylenol], birth=OLDER, actives=[norco])
    card = cards_by_rule(body)["ACETAMINOPHEN_DAILY_MAX"]
    assert card["indicator"] == "critical"
    assert card["summary"] == "Acetaminophen 3,300 mg/day is over the 2,000 mg/day limit"
    assert "3,300 mg/day" in card["detail"] and "limit 2,000" in card["detail"]
    assert "overrideReasons" not in card  # a CRITICAL card is not overridden
    (suggestion,) = card["suggestions"]
    (update,) = suggestion["actions"]
    assert update["type"] == "update" and update["resource"]["id"] == "apap"
    # 2,000 - 1,300 from Norco leaves 700 mg: one 500 mg dose a day
    assert update["resource"]["dosageInstruction"][0]["timing"]["repeat"] == {
        "frequency": 1,
        "period": 1,
        "periodUnit": "d",
    }
    assert "1,800 mg/day" in suggestion["label"]


def test_second_nsaid_is_critical_and_its_draft_deleted(client):
    naproxen = med_request(
        "npx", rxnorm="7258", dose=(500, "mg"), frequency=2, period=1, status="active"
    )
    ibuprofen = med_request("ibu", rxnorm="5640", dose=(400, "mg"), frequency=3, period=1)
    card = cards_by_rule(sign(client, [ibuprofen], actives=[naproxen]))["DUPLICATE_THERAPY"]
    assert card["indicator"] == "critical"
    (suggestion,) = card["suggestions"]
    assert suggestion["actions"] == [
        {"type": "delete", "description": "Remove ibuprofen", "resourceId": "MedicationRequest/ibu"}
    ]


def test_fentanyl_patch_by_product_code_is_180_mme_and_suggests_naloxone(client):
    patch = med_request(
        "fen",
        rxnorm="197696",
        display="72 HR Fentanyl 0.075 MG/HR Transdermal System",
        dose=(1, "{patch}"),
        frequency=1,
        period=3,
        status="active",
        authored="2026-11-23",
    )
    cards = cards_by_rule(sign(client, [patch]))
    card = cards["OPIOID_DAILY_MME"]
    assert card["indicator"] == "critical" and card["summary"] == "Opioids total 180 MME/day"
    (suggestion,) = card["suggestions"]
    (create,) = suggestion["actions"]
    assert create["type"] == "create"
    assert create["resource"]["medicationCodeableConcept"]["coding"][0]["code"] == "1725059"
    assert "OPIOID_NOT_FIRST_LINE" in cards


def test_dose_range_counts_at_its_high_end(client):
    norco = med_request(
        "n",
        text="Norco 10/325",
        dose_range=(1, 2, "{tablet}"),
        frequency=1,
        period=4,
        period_max=6,
        period_unit="h",
        as_needed=True,
    )
    card = cards_by_rule(sign(client, [norco]))["ACETAMINOPHEN_DAILY_MAX"]
    assert "3,900" in card["summary"]  # 2 tablets x 325 mg x 6 a day


def test_prefetch_as_single_resources_and_nulls_under_any_key(client):
    drafts = [
        med_request("cbz", rxnorm="21949", dose=(5, "mg"), frequency=3, period=1, status="active")
    ]
    prefetch = {
        "item1": None,
        "item2": patient(OLDER),
        "item3": None,
        "item4": duloxetine(),
        "item5": condition(ICD10CM, "K92.2"),
    }
    body = cds_request("order-sign", drafts, prefetch)
    body["context"]["patientId"] = "p1"  # written without the Patient/ prefix
    response = client.post(SIGN, json=body)
    assert response.status_code == 200
    rules = cards_by_rule(response.json())
    assert "SEROTONERGIC_COMBINATION" in rules  # the single duloxetine resource continues
    assert "OLDER_ADULT_CAUTION" in rules  # the single Patient resource gives the age


def test_order_select_shows_only_cards_about_the_selected_order(client):
    drafts = [
        cyclobenzaprine(),
        med_request("npx", rxnorm="7258", dose=(500, "mg"), frequency=2, period=1),
    ]
    prefetch = {
        "patient": patient(),
        "conditions": bundle(condition(SNOMED, "74474003")),
        "medications": bundle(duloxetine()),
    }
    selected = client.post(
        SELECT,
        json=cds_request("order-select", drafts, prefetch, selections=["MedicationRequest/cbz"]),
    )
    assert selected.status_code == 200
    rules = cards_by_rule(selected.json())
    assert "SEROTONERGIC_COMBINATION" in rules
    assert "NSAID_RISK" not in rules  # naproxen with GI bleeding: about the unselected order
    signed = cards_by_rule(
        client.post(SIGN, json=cds_request("order-sign", drafts, prefetch)).json()
    )
    assert {"SEROTONERGIC_COMBINATION", "NSAID_RISK"} <= set(signed)


def test_guideline_regimen_with_ordinary_co_medications_gets_no_card_above_info(client):
    # an NSAID as needed at a usual dose; a statin, an antihypertensive, a PPI and an SSRI for
    # depression continuing, coded by RxNorm ingredient as EHRs send them
    ibuprofen = med_request(
        "ibu", rxnorm="5640", dose=(400, "mg"), frequency=3, period=1, as_needed=True
    )
    actives = [
        med_request(
            "ator",
            rxnorm="83367",
            text="atorvastatin",
            dose=(20, "mg"),
            frequency=1,
            period=1,
            status="active",
            reason="hyperlipidemia",
        ),
        med_request(
            "aml",
            text="amlodipine",
            dose=(5, "mg"),
            frequency=1,
            period=1,
            status="active",
            reason="hypertension",
        ),
        med_request(
            "ome",
            text="omeprazole",
            dose=(20, "mg"),
            frequency=1,
            period=1,
            status="active",
            reason="reflux",
        ),
        med_request(
            "srt",
            text="sertraline",
            dose=(50, "mg"),
            frequency=1,
            period=1,
            status="active",
            reason="depression",
        ),
    ]
    body = sign(client, [ibuprofen], actives=actives)
    assert all(card["indicator"] == "info" for card in body["cards"]), body["cards"]
    assert not any(card["summary"].startswith("Not") for card in body["cards"])


def test_unmappable_order_is_named_in_an_info_card_and_the_rest_is_checked(client):
    no_dose = med_request("x", text="ibuprofen", frequency=3, period=1)
    body = sign(client, [no_dose, cyclobenzaprine()], actives=[duloxetine()])
    info = [c for c in body["cards"] if c["summary"] == "Not checked: ibuprofen"]
    assert info and info[0]["indicator"] == "info" and "no dose" in info[0]["detail"]
    assert "SEROTONERGIC_COMBINATION" in cards_by_rule(body)


def test_unknown_drug_is_a_finding_not_an_error(client):
    body = sign(
        client, [med_request("z", text="zzzquil-xr", dose=(10, "mg"), frequency=1, period=1)]
    )
    assert cards_by_rule(body)["UNKNOWN_DRUG"]["indicator"] == "warning"


@pytest.mark.parametrize(
    ("mutate", "expression"),
    [
        (lambda b: b["context"].pop("draftOrders"), "context.draftOrders"),
        (lambda b: b["context"].pop("patientId"), "context.patientId"),
        (lambda b: b.update(hook="patient-view"), "hook"),
        (
            lambda b: b["context"]["draftOrders"]["entry"][0]["resource"]["dosageInstruction"][0][
                "timing"
            ]["repeat"].update(frequency="three"),
            "MedicationRequest.dosageInstruction[0].timing.repeat.frequency",
        ),
        (
            lambda b: b["context"]["draftOrders"]["entry"][0]["resource"]["dosageInstruction"][0][
                "doseAndRate"
            ][0]["doseQuantity"].update(value=-5),
            "MedicationRequest.dosageInstruction[0].doseAndRate[0].doseQuantity.value",
        ),
        (
            lambda b: b["context"]["draftOrders"]["entry"][0]["resource"].update(
                authoredOn="yesterday"
            ),
            "MedicationRequest.authoredOn",
        ),
        (lambda b: b["prefetch"]["patient"].update(birthDate=19540501), "Patient.birthDate"),
    ],
)
def test_bad_input_is_400_with_an_operation_outcome_naming_the_element(client, mutate, expression):
    body = cds_request("order-sign", [cyclobenzaprine()], {"patient": patient()})
    mutate(body)
    response = client.post(SIGN, json=body)
    assert response.status_code == 400
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert expression in [e for issue in outcome["issue"] for e in issue.get("expression", [])]


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"not json",
        b"[]",
        b'"text"',
        b'{"hook": "order-sign", "context": []}',
        b'{"hook": "order-sign", "context": {"patientId": 5, "draftOrders": {}}}',
        b'{"hook":"order-sign","context":{"patientId":"p","draftOrders":{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"MedicationRequest","dosageInstruction":"x"}}]}},"prefetch":[]}',
        b'{"hook":"order-sign","context":{"patientId":"p","draftOrders":{"resourceType":"Bundle","entry":[null, 5, {"resource": []}]}}}',
    ],
)
def test_malformed_bodies_are_refused_never_a_server_error(client, raw):
    response = client.post(SIGN, content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 400, response.text
    assert response.json()["resourceType"] == "OperationOutcome"


def test_unknown_service_is_404(client):
    assert client.post("/cds-services/nope", json={}).status_code == 404


def test_feedback_is_counted_by_rule_and_logged_without_phi(client, metrics, caplog):
    body = sign(client, [cyclobenzaprine()], actives=[duloxetine()], birth=OLDER)
    cards = cards_by_rule(body)
    serotonergic = cards["SEROTONERGIC_COMBINATION"]["uuid"]
    older = cards["OLDER_ADULT_CAUTION"]["uuid"]

    def count(rule, outcome):  # type: ignore[no-untyped-def]
        return (
            metrics.registry.get_sample_value(
                "regimenguard_cds_feedback_total", {"rule_id": rule, "outcome": outcome}
            )
            or 0
        )

    before = count("SEROTONERGIC_COMBINATION", "overridden")
    feedback = {
        "feedback": [
            {
                "card": serotonergic,
                "outcome": "overridden",
                "overrideReason": {
                    "reason": {
                        "code": "will-monitor",
                        "system": "urn:regimenguard:override-reason",
                    },
                    "userComment": "Mrs Jane Doe tolerates it",
                },
                "outcomeTimestamp": "2026-11-23T10:00:00Z",
            },
            {
                "card": older,
                "outcome": "accepted",
                "acceptedSuggestions": [],
                "outcomeTimestamp": "2026-11-23T10:00:00Z",
            },
        ]
    }
    with caplog.at_level(logging.INFO, logger="regimenguard.cds"):
        response = client.post(SIGN + "/feedback", json=feedback)
    assert response.status_code == 200
    assert count("SEROTONERGIC_COMBINATION", "overridden") == before + 1
    assert count("OLDER_ADULT_CAUTION", "accepted") >= 1
    reasons = metrics.registry.get_sample_value(
        "regimenguard_cds_override_reasons_total",
        {"rule_id": "SEROTONERGIC_COMBINATION", "reason": "will-monitor"},
    )
    assert reasons and reasons >= 1
    assert "Jane" not in caplog.text and "cyclobenzaprine" not in caplog.text
    assert "SEROTONERGIC_COMBINATION" in caplog.text
    bad = client.post(
        SIGN + "/feedback", json={"feedback": [{"card": serotonergic, "outcome": "ignored"}]}
    )
    assert bad.status_code == 400 and bad.json()["issue"][0]["expression"] == [
        "feedback[0].outcome"
    ]


# --- a FHIR server on loopback for what the prefetch lacks ----------------------------------


class _Fhir(BaseHTTPRequestHandler):
    resources: ClassVar[dict[str, Any]] = {}
    seen: ClassVar[list[tuple[str, str | None]]] = []

    def do_GET(self) -> None:
        self.seen.append((self.path, self.headers.get("Authorization")))
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        if url.path == "/fhir/Patient/p1":
            document = self.resources["Patient"]
        elif url.path in ("/fhir/Condition", "/fhir/MedicationRequest"):
            assert query.get("patient") == ["p1"]
            document = bundle(*self.resources[url.path.rsplit("/", 1)[-1]])
        else:
            self.send_response(404)
            self.end_headers()
            return
        data = json.dumps(document).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/fhir+json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def fhir_server() -> Iterator[str]:
    _Fhir.resources = {
        "Patient": patient(OLDER),
        "Condition": [condition(ICD10CM, "K92.2", status="resolved")],
        "MedicationRequest": [
            med_request(
                "npx", rxnorm="7258", dose=(500, "mg"), frequency=2, period=1, status="active"
            )
        ],
    }
    _Fhir.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Fhir)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/fhir"
    finally:
        server.shutdown()
        server.server_close()


def test_missing_prefetch_is_fetched_from_the_fhir_server(client, fhir_server):
    ibuprofen = med_request("ibu", rxnorm="5640", dose=(400, "mg"), frequency=3, period=1)
    body = cds_request(
        "order-sign", [ibuprofen], None, fhir_server=fhir_server, token="secret-fhir-token"
    )
    response = client.post(SIGN, json=body)
    assert response.status_code == 200
    rules = cards_by_rule(response.json())
    assert rules["DUPLICATE_THERAPY"]["indicator"] == "critical"  # naproxen from the server
    assert (
        "NSAID_RISK" in rules
    )  # a history of GI bleeding from the server (resolved, still counts)
    assert "OLDER_ADULT_CAUTION" in rules or "NSAID_RISK" in rules
    assert {auth for _, auth in _Fhir.seen} == {"Bearer secret-fhir-token"}
    assert {path.split("?")[0].rsplit("/", 1)[-1] for path, _ in _Fhir.seen} == {
        "p1",
        "Condition",
        "MedicationRequest",
    }


def test_fhir_server_that_fails_gives_an_info_card_and_the_rest_is_checked(client, fhir_server):
    body = cds_request("order-sign", [cyclobenzaprine()], None, fhir_server=fhir_server + "/broken")
    response = client.post(SIGN, json=body)
    assert response.status_code == 200
    summaries = [card["summary"] for card in response.json()["cards"]]
    assert "Part of the record could not be fetched" in summaries


def test_no_fetch_without_fhir_authorization(client, fhir_server):
    body = cds_request("order-sign", [cyclobenzaprine()], None)
    body["fhirServer"] = fhir_server
    assert client.post(SIGN, json=body).status_code == 200
    assert _Fhir.seen == []
