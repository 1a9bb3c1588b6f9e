"""The JSON API over HTTP (google.api.http routes), its error mapping and OpenAPI document, and
`serve --http-port` end to end: health, the same answer as gRPC, TLS, metrics, SIGTERM."""

from __future__ import annotations

import json
import ssl
import time

import grpc
import httpx
import pytest
from google.protobuf import json_format

from regimenguard.regimen.service import RegimenService
from regimenguard.server.http.errors import HTTP_STATUS
from regimenguard.server.http.json_api import http_rules
from regimenguard.v1 import regimen_checker_pb2 as pb
from regimenguard.v1 import regimen_checker_pb2_grpc as pb_grpc
from tests.fhir_helpers import cds_request, med_request, patient
from tests.grpc_helpers import free_port
from tests.hardening_support import ServerProcess, make_pki
from tests.http_helpers import make_client

RX = {
    "requestId": "rx-1",
    "asOf": "2026-11-23",
    "medications": [
        {"drug": "duloxetine", "doseMg": 60, "dosesPerDay": 1, "startedOn": "2026-09-01"},
        {
            "drug": "cyclobenzaprine",
            "doseMg": 5,
            "dosesPerDay": 3,
            "asNeeded": True,
            "action": "ORDER_ACTION_START",
        },
    ],
}


@pytest.fixture(scope="module")
def client():  # type: ignore[no-untyped-def]
    return make_client(RegimenService.from_config(None))


def test_check_answers_in_protobuf_json_with_headlines(client):
    response = client.post("/v1/regimens:check", json=RX)
    assert response.status_code == 200
    body = response.json()
    assert body["requestId"] == "rx-1" and body["verdict"] == "VERDICT_REVIEW"
    finding = next(f for f in body["findings"] if f["ruleId"] == "SEROTONERGIC_COMBINATION")
    assert finding["severity"] == "SEVERITY_WARNING"
    assert finding["headline"] == "2 serotonergic drugs together: cyclobenzaprine and duloxetine"
    assert body["summary"]["serotonergicAgents"] == 2


def test_check_batch_answers_each_item_in_order_with_item_errors(client):
    bad = {
        "requestId": "bad",
        "medications": [{"drug": "ibuprofen", "doseMg": -1, "dosesPerDay": 1}],
    }
    response = client.post(
        "/v1/regimens:checkBatch", json={"requests": [RX, bad, {**RX, "requestId": "rx-3"}]}
    )
    assert response.status_code == 200
    answers = response.json()["responses"]
    assert [a["requestId"] for a in answers] == ["rx-1", "bad", "rx-3"]
    assert answers[1]["error"]["code"] == 3 and "verdict" not in answers[1]
    assert answers[0]["verdict"] == answers[2]["verdict"] == "VERDICT_REVIEW"


def test_drugs_filters_and_pages_by_query_parameters(client):
    page = client.get("/v1/drugs", params={"query": "nsaid", "pageSize": 2}).json()
    assert len(page["drugs"]) == 2 and all("nsaid" in d["classes"] for d in page["drugs"])
    rest = client.get(
        "/v1/drugs", params={"query": "nsaid", "page_token": page["nextPageToken"]}
    ).json()
    assert {d["name"] for d in rest["drugs"]}.isdisjoint(d["name"] for d in page["drugs"])


def test_rules_lists_the_catalogue(client):
    rules = client.get("/v1/rules").json()["rules"]
    ids = [r["ruleId"] for r in rules]
    assert "ACETAMINOPHEN_DAILY_MAX" in ids and len(ids) == len(set(ids))


def test_orders_parse_reads_a_sig_with_its_assumptions(client):
    response = client.post("/v1/orders:parse", json={"text": "Norco 10/325 1-2 tabs q4-6h prn"})
    assert response.status_code == 200
    body = response.json()
    assert body["order"]["drug"] == "Norco 10/325"
    assert body["order"]["unitsPerDose"] == 2 and body["order"]["dosesPerDay"] == 6
    assert body["order"]["asNeeded"] is True
    assert any("1-2" in a for a in body["assumptions"]) and any(
        "q4-6h" in a for a in body["assumptions"]
    )
    assert "every 4-6 h" in body["reading"]


def test_parse_order_over_grpc_is_the_same_reading():
    from regimenguard.server.app import ServerOptions, create_server

    running = create_server(
        RegimenService.from_config(None), ServerOptions(host="127.0.0.1", port=0, access_log=False)
    )
    running.start()
    try:
        with grpc.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            stub = pb_grpc.RegimenCheckerServiceStub(channel)
            answer = stub.ParseOrder(
                pb.ParseOrderRequest(text="start cyclobenzaprine 5 mg tid prn for 14 days"),
                timeout=10,
            )
            assert answer.order.drug == "cyclobenzaprine" and answer.order.dose_mg == 5
            assert answer.order.action == pb.ORDER_ACTION_START and answer.order.planned_days == 14
            with pytest.raises(grpc.RpcError) as raised:
                stub.ParseOrder(pb.ParseOrderRequest(text="ibuprofen 400 mg xyz bid"), timeout=10)
            assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    finally:
        running.stop(0)


def test_orders_parse_error_quotes_the_unread_part(client):
    response = client.post("/v1/orders:parse", json={"text": "ibuprofen 400 mg xyz bid"})
    assert response.status_code == 400
    (violation,) = _violations(response.json())
    assert violation["field"] == "text" and "xyz" in violation["description"]


def _violations(status: dict) -> list[dict]:  # type: ignore[type-arg]
    return [
        v
        for d in status["details"]
        if d["@type"].endswith("BadRequest")
        for v in d["fieldViolations"]
    ]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            {"medications": [{"drug": "ibuprofen", "doseMg": -1, "dosesPerDay": 1}]},
            "medications[0].dose_mg",
        ),
        (
            {
                "asOf": "23/11/2026",
                "medications": [{"drug": "ibuprofen", "doseMg": 400, "dosesPerDay": 1}],
            },
            "as_of",
        ),
        ({"medications": [{"drug": "ibuprofen", "dose": 400}]}, "medications[0]"),
        ({"medications": [{"drug": "ibuprofen", "doseMg": "lots"}]}, "medications[0].doseMg"),
    ],
)
def test_bad_input_is_400_with_a_google_rpc_status_naming_the_field(client, body, field):
    response = client.post("/v1/regimens:check", json=body)
    assert response.status_code == 400
    status = response.json()
    assert status["code"] == 3  # INVALID_ARGUMENT
    assert field in [v["field"] for v in _violations(status)]


def test_malformed_json_and_unknown_query_parameters_are_400(client):
    assert client.post("/v1/regimens:check", content=b"{not json").status_code == 400
    response = client.get("/v1/drugs", params={"colour": "blue"})
    assert response.status_code == 400 and response.json()["code"] == 3
    assert client.get("/v1/drugs", params={"pageToken": "zz"}).status_code == 400


def test_batch_over_the_limit_is_400(client):
    response = client.post("/v1/regimens:checkBatch", json={"requests": [RX] * 1001})
    assert response.status_code == 400
    assert _violations(response.json())[0]["field"] == "requests"


def test_oversized_body_is_413(client):
    response = client.post("/v1/regimens:check", content=b" " * (16 * 1024 * 1024 + 1))
    assert response.status_code == 413


def test_every_grpc_code_has_its_http_status():
    assert HTTP_STATUS[3] == 400 and HTTP_STATUS[5] == 404 and HTTP_STATUS[8] == 429
    assert HTTP_STATUS[14] == 503 and HTTP_STATUS[16] == 401 and HTTP_STATUS[13] == 500
    assert len(HTTP_STATUS) == 17


def test_openapi_describes_every_annotated_route(client):
    document = client.get("/v1/openapi.json").json()
    assert document["openapi"].startswith("3.")
    routes = {(rule.path, rule.verb.lower()) for rule in http_rules()}
    assert routes == {
        ("/v1/regimens:check", "post"),
        ("/v1/regimens:checkBatch", "post"),
        ("/v1/drugs", "get"),
        ("/v1/rules", "get"),
        ("/v1/orders:parse", "post"),
    }
    schemas = document["components"]["schemas"]
    for path, verb in routes:
        operation = document["paths"][path][verb]
        refs = [operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]]
        if verb == "post":
            refs.append(operation["requestBody"]["content"]["application/json"]["schema"]["$ref"])
        else:
            assert {p["name"] for p in operation["parameters"]} >= (
                {"query", "pageSize", "pageToken"} if path == "/v1/drugs" else set()
            )
        for ref in refs:
            assert ref.removeprefix("#/components/schemas/") in schemas
    order = schemas["regimenguard.v1.MedicationOrder"]["properties"]
    assert order["doseMg"] == {"type": "number"}
    assert "ROUTE_TRANSDERMAL" in order["route"]["enum"]
    # every $ref anywhere in the document resolves
    text = json.dumps(document)
    for ref in {part.split('"')[0] for part in text.split('"$ref": "#/components/schemas/')[1:]}:
        assert ref in schemas, ref


def test_request_file_for_the_cli_is_also_an_http_body(client):
    request = json_format.ParseDict(RX, pb.CheckRegimenRequest())
    body = json_format.MessageToJson(request)
    assert client.post("/v1/regimens:check", content=body.encode()).status_code == 200


# --- serve --http-port, end to end -----------------------------------------------------------


@pytest.mark.e2e
def test_serve_http_port_answers_like_grpc_with_health_metrics_and_graceful_stop(tmp_path):
    http_port, metrics_port = free_port(), free_port()
    server = ServerProcess.start(
        tmp_path,
        "--workers",
        "1",
        "--http-port",
        str(http_port),
        "--metrics-port",
        str(metrics_port),
    )
    try:
        server.wait_serving()
        base = f"http://127.0.0.1:{http_port}"
        _wait_http(base)
        assert httpx.get(f"{base}/healthz").json() == {"status": "SERVING"}
        by_http = httpx.post(f"{base}/v1/regimens:check", json=RX).json()
        with grpc.insecure_channel(server.target) as channel:
            stub = pb_grpc.RegimenCheckerServiceStub(channel)
            by_grpc = json_format.MessageToDict(
                stub.CheckRegimen(json_format.ParseDict(RX, pb.CheckRegimenRequest()), timeout=10)
            )
        assert by_http == by_grpc
        # no [cds_hooks] section: tokens are verified and no issuer is trusted
        refused = httpx.post(f"{base}/cds-services/regimenguard-order-sign", json={})
        assert refused.status_code == 401
        scraped = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics").text
        assert (
            'regimenguard_http_requests_total{route="/v1/regimens:check",status="200"} 1.0'
            in scraped
        )
        assert 'method="POST /v1/regimens:check"' in scraped
        assert server.stop() == 0
    finally:
        server.stop()
    log = server.log
    assert '"method":"POST /v1/regimens:check"' in log  # the access log line, no drug names
    assert "cyclobenzaprine" not in log


@pytest.mark.e2e
def test_serve_http_port_over_tls(tmp_path):
    pki = make_pki(tmp_path)
    http_port = free_port()
    site = tmp_path / "site.toml"
    site.write_text("[cds_hooks]\nverify_tokens = false\n")
    server = ServerProcess.start(
        tmp_path,
        "--workers",
        "1",
        "--config",
        str(site),
        "--http-port",
        str(http_port),
        "--tls-cert",
        str(pki.server_cert),
        "--tls-key",
        str(pki.server_key),
    )
    try:
        from regimenguard.server.tls import channel_credentials

        server.wait_serving(channel_credentials(pki.ca))
        context = ssl.create_default_context(cafile=str(pki.ca))
        base = f"https://localhost:{http_port}"
        _wait_http(base, verify=context)
        assert httpx.get(f"{base}/healthz", verify=context).status_code == 200
        # the site turned token verification off: a CDS call is answered without a token
        body = cds_request(
            "order-sign",
            [med_request("ibu", rxnorm="5640", dose=(400, "mg"), frequency=3, period=1)],
            {"patient": patient()},
        )
        answered = httpx.post(
            f"{base}/cds-services/regimenguard-order-sign", json=body, verify=context
        )
        assert answered.status_code == 200 and "cards" in answered.json()
        assert "token verification OFF" in server.log
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"http://localhost:{http_port}/healthz", timeout=2)
    finally:
        server.stop()


def _wait_http(base: str, verify=True, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(f"{base}/healthz", verify=verify, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"{base} did not come up")
        time.sleep(0.1)
