"""A real server on 127.0.0.1: health, reflection, every RPC over the network, rich errors,
graceful shutdown, and `regimen-guard serve` as a process."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import grpc
import pytest
from google.protobuf import descriptor_pb2
from google.rpc import code_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from grpc_status import rpc_status

from regimenguard.server.app import SERVICE_NAME
from regimenguard.server.errors import field_violations
from regimenguard.v1 import regimen_checker_pb2 as pb
from regimenguard.v1 import regimen_checker_pb2_grpc as pb_grpc
from tests.grpc_helpers import (
    INVALID_FIELDS,
    accept_request,
    assert_invalid_argument,
    contract_example,
    free_port,
    health_status,
    invalid_request,
    kill_if_running,
    order,
    reject_request,
    request,
    start_server,
    stop_process,
)

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[1]
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
TIMEOUT = 10.0


@pytest.fixture(scope="module")
def running(checker):  # type: ignore[no-untyped-def]
    server = start_server(checker)
    yield server
    server.stop(0)


@pytest.fixture(scope="module")
def channel(running):  # type: ignore[no-untyped-def]
    with grpc.insecure_channel(f"127.0.0.1:{running.port}") as channel:
        grpc.channel_ready_future(channel).result(timeout=TIMEOUT)
        yield channel


@pytest.fixture(scope="module")
def stub(channel) -> pb_grpc.RegimenCheckerServiceStub:  # type: ignore[no-untyped-def]
    return pb_grpc.RegimenCheckerServiceStub(channel)


# --- health and reflection --------------------------------------------------------------------


def test_service_name() -> None:
    assert SERVICE_NAME == "regimenguard.v1.RegimenCheckerService"


@pytest.mark.parametrize("service", ["", "regimenguard.v1.RegimenCheckerService"])
def test_health_is_serving_after_start(channel, service: str) -> None:  # type: ignore[no-untyped-def]
    assert health_status(channel, service) == SERVING


def test_health_of_an_unknown_service_is_not_found(channel) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.RpcError) as raised:
        health_status(channel, "no.such.Service")
    assert raised.value.code() is grpc.StatusCode.NOT_FOUND


def test_health_is_not_serving_before_start(checker) -> None:  # type: ignore[no-untyped-def]
    from regimenguard.server.app import ServerOptions, create_server

    created = create_server(checker, ServerOptions(host="127.0.0.1", port=0))
    try:
        for service in ("", SERVICE_NAME):
            answer = created.health.Check(health_pb2.HealthCheckRequest(service=service), None)
            assert answer.status == NOT_SERVING
    finally:
        created.stop(0)


def _reflect(channel, **fields):  # type: ignore[no-untyped-def]
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    responses = stub.ServerReflectionInfo(
        iter([reflection_pb2.ServerReflectionRequest(**fields)]), timeout=TIMEOUT
    )
    return next(iter(responses))


def test_reflection_lists_the_services(channel) -> None:  # type: ignore[no-untyped-def]
    response = _reflect(channel, list_services="")
    names = {service.name for service in response.list_services_response.service}
    assert names >= {
        "regimenguard.v1.RegimenCheckerService",
        "grpc.health.v1.Health",
        "grpc.reflection.v1alpha.ServerReflection",
    }


def test_reflection_describes_the_service(channel) -> None:  # type: ignore[no-untyped-def]
    response = _reflect(channel, file_containing_symbol=SERVICE_NAME)
    files = [
        descriptor_pb2.FileDescriptorProto.FromString(raw)
        for raw in response.file_descriptor_response.file_descriptor_proto
    ]
    ours = next(f for f in files if f.package == "regimenguard.v1")
    assert ours.name == "regimenguard/v1/regimen_checker.proto"
    (service,) = ours.service
    assert {method.name for method in service.method} == {
        "CheckRegimen",
        "CheckRegimens",
        "CheckRegimenBatch",
        "ListDrugs",
        "ListRules",
        "ParseOrder",
    }


# --- the RPCs over the network ----------------------------------------------------------------


def test_check_regimen(stub) -> None:  # type: ignore[no-untyped-def]
    response = stub.CheckRegimen(contract_example(), timeout=TIMEOUT)
    assert response.request_id == "rx-1"
    assert response.verdict == pb.VERDICT_REVIEW
    serotonergic = [f for f in response.findings if f.rule_id == "SEROTONERGIC_COMBINATION"]
    assert len(serotonergic) == 1
    assert serotonergic[0].severity == pb.SEVERITY_WARNING
    assert serotonergic[0].ncpdp_reason_code == "AT"
    assert response.summary.serotonergic_agents == 2
    assert response.knowledge_base_version
    assert not response.HasField("error")


def test_check_regimen_invalid_argument_over_the_wire(stub) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.RpcError) as raised:
        stub.CheckRegimen(invalid_request(), timeout=TIMEOUT)
    error = raised.value
    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT
    status = rpc_status.from_call(error)
    assert status is not None
    assert_invalid_argument(status, INVALID_FIELDS)
    assert status.message == error.details()


def test_check_regimen_invalid_argument_with_the_future_api(stub) -> None:  # type: ignore[no-untyped-def]
    future = stub.CheckRegimen.future(request(order("naproxen", 500, 0)), timeout=TIMEOUT)
    with pytest.raises(grpc.RpcError):
        future.result()
    status = rpc_status.from_call(future)
    assert status is not None
    assert_invalid_argument(status, ["medications[0].doses_per_day"])


def test_check_regimens_stream(stub) -> None:  # type: ignore[no-untyped-def]
    messages = [
        accept_request("s-1"),
        reject_request("s-2"),
        invalid_request("s-3"),
        contract_example(),
        accept_request("s-5"),
    ]
    responses = list(stub.CheckRegimens(iter(messages), timeout=TIMEOUT))
    assert [r.request_id for r in responses] == ["s-1", "s-2", "s-3", "rx-1", "s-5"]
    verdicts = [r.verdict for r in responses]
    assert verdicts == [
        pb.VERDICT_ACCEPT,
        pb.VERDICT_REJECT,
        pb.VERDICT_UNSPECIFIED,
        pb.VERDICT_REVIEW,
        pb.VERDICT_ACCEPT,
    ]
    assert [r.HasField("error") for r in responses] == [False, False, True, False, False]
    third = responses[2].error
    assert third.code == code_pb2.INVALID_ARGUMENT
    assert sorted(v.field for v in field_violations(third)) == sorted(INVALID_FIELDS)
    assert_invalid_argument(third, INVALID_FIELDS)


def test_check_regimens_stream_answers_as_it_goes(stub) -> None:  # type: ignore[no-untyped-def]
    """Each answer arrives before the next request is sent (a true bidirectional stream)."""
    outbox: list[pb.CheckRegimenRequest] = []
    ready = threading.Event()

    def requests():  # type: ignore[no-untyped-def]
        for n in range(3):
            outbox.append(accept_request(f"live-{n}"))
            ready.clear()
            yield outbox[-1]
            assert ready.wait(TIMEOUT), "no answer before the next request"

    seen = []
    for response in stub.CheckRegimens(requests(), timeout=TIMEOUT):
        seen.append(response.request_id)
        ready.set()
    assert seen == ["live-0", "live-1", "live-2"]


def test_check_regimen_batch(stub) -> None:  # type: ignore[no-untyped-def]
    batch = pb.CheckRegimenBatchRequest(
        requests=[accept_request("b-1"), invalid_request("b-2"), reject_request("b-3")]
    )
    responses = stub.CheckRegimenBatch(batch, timeout=TIMEOUT).responses
    assert [r.request_id for r in responses] == ["b-1", "b-2", "b-3"]
    assert [r.verdict for r in responses] == [
        pb.VERDICT_ACCEPT,
        pb.VERDICT_UNSPECIFIED,
        pb.VERDICT_REJECT,
    ]
    assert_invalid_argument(responses[1].error, INVALID_FIELDS)


def test_check_regimen_batch_over_the_limit(stub) -> None:  # type: ignore[no-untyped-def]
    batch = pb.CheckRegimenBatchRequest(requests=[accept_request()] * 1001)
    with pytest.raises(grpc.RpcError) as raised:
        stub.CheckRegimenBatch(batch, timeout=TIMEOUT)
    assert raised.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    status = rpc_status.from_call(raised.value)
    assert_invalid_argument(status, ["requests"], reason="BATCH_TOO_LARGE")


def test_list_drugs(stub) -> None:  # type: ignore[no-untyped-def]
    nsaids = stub.ListDrugs(pb.ListDrugsRequest(query="nsaid"), timeout=TIMEOUT)
    assert {"ibuprofen", "naproxen"} <= {d.name for d in nsaids.drugs}
    cymbalta = stub.ListDrugs(pb.ListDrugsRequest(query="Cymbalta"), timeout=TIMEOUT)
    assert [d.name for d in cymbalta.drugs] == ["duloxetine"]
    page = stub.ListDrugs(pb.ListDrugsRequest(page_size=5), timeout=TIMEOUT)
    assert len(page.drugs) == 5
    assert page.next_page_token
    with pytest.raises(grpc.RpcError) as raised:
        stub.ListDrugs(pb.ListDrugsRequest(page_token="not-a-token"), timeout=TIMEOUT)
    assert raised.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert_invalid_argument(rpc_status.from_call(raised.value), ["page_token"], reason=None)


def test_list_rules(stub) -> None:  # type: ignore[no-untyped-def]
    rules = stub.ListRules(pb.ListRulesRequest(), timeout=TIMEOUT).rules
    assert len(rules) == 37  # 28 + issue 11's 6 + issue 10's 3
    by_id = {rule.rule_id: rule for rule in rules}
    assert by_id["ACETAMINOPHEN_DAILY_MAX"].default_severity == pb.SEVERITY_CRITICAL
    assert by_id["ACETAMINOPHEN_DAILY_MAX"].ncpdp_reason_code == "HD"
    assert by_id["UNKNOWN_DRUG"].ncpdp_reason_code == "MS"
    naloxone = by_id["NALOXONE_NOT_PRESCRIBED"]  # issue 11: new rules carry their source
    assert naloxone.default_severity == pb.SEVERITY_WARNING
    assert naloxone.ncpdp_reason_code == "AD"
    assert "recommendation 8" in naloxone.guideline_section
    assert by_id["OPIOID_TOLERANT_ONLY"].default_severity == pb.SEVERITY_CRITICAL


def test_concurrent_calls(stub) -> None:  # type: ignore[no-untyped-def]
    futures = [stub.CheckRegimen.future(accept_request(str(n)), timeout=TIMEOUT) for n in range(40)]
    assert [f.result().request_id for f in futures] == [str(n) for n in range(40)]


# --- graceful shutdown ------------------------------------------------------------------------


def test_stop_turns_health_not_serving_first(checker) -> None:  # type: ignore[no-untyped-def]
    """A Watch opened before stop() sees NOT_SERVING; afterwards Check says NOT_SERVING too."""
    running = start_server(checker)
    channel = grpc.insecure_channel(f"127.0.0.1:{running.port}")
    try:
        watch = health_pb2_grpc.HealthStub(channel).Watch(
            health_pb2.HealthCheckRequest(service=SERVICE_NAME), timeout=TIMEOUT
        )
        assert next(watch).status == SERVING
        stopper = threading.Thread(target=running.stop, args=(5.0,))
        stopper.start()
        assert next(watch).status == NOT_SERVING  # announced while the server drains
        watch.cancel()  # our in-flight call ends, so the grace period need not run out
        stopper.join(TIMEOUT)
        assert not stopper.is_alive()
        for service in ("", SERVICE_NAME):
            answer = running.health.Check(health_pb2.HealthCheckRequest(service=service), None)
            assert answer.status == NOT_SERVING
        with pytest.raises(grpc.RpcError) as raised:
            pb_grpc.RegimenCheckerServiceStub(channel).ListRules(pb.ListRulesRequest(), timeout=2)
        assert raised.value.code() is grpc.StatusCode.UNAVAILABLE
    finally:
        channel.close()
        running.stop(0)


def test_stop_lets_an_in_flight_stream_finish(checker) -> None:  # type: ignore[no-untyped-def]
    running = start_server(checker)
    channel = grpc.insecure_channel(f"127.0.0.1:{running.port}")
    try:
        proceed = threading.Event()

        def requests():  # type: ignore[no-untyped-def]
            yield accept_request("before")
            assert proceed.wait(TIMEOUT)
            yield accept_request("during")

        stream = pb_grpc.RegimenCheckerServiceStub(channel).CheckRegimens(
            requests(), timeout=TIMEOUT
        )
        assert next(stream).request_id == "before"
        stopper = threading.Thread(target=running.stop, args=(5.0,))
        stopper.start()
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            status = running.health.Check(health_pb2.HealthCheckRequest(service=""), None)
            if status.status == NOT_SERVING:
                break
            time.sleep(0.01)
        assert status.status == NOT_SERVING
        proceed.set()
        assert [r.request_id for r in stream] == ["during"]
        stopper.join(TIMEOUT)
        assert not stopper.is_alive()
    finally:
        channel.close()
        running.stop(0)


# --- `regimen-guard serve` as a process -------------------------------------------------------


def _wait_serving(process: subprocess.Popen, port: int, timeout: float = 10.0) -> None:  # type: ignore[type-arg]
    deadline = time.monotonic() + timeout
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        while time.monotonic() < deadline:
            assert process.poll() is None, process.communicate()[1]
            try:
                if health_status(channel, SERVICE_NAME, timeout=0.5) == SERVING:
                    return
            except grpc.RpcError:
                pass
            time.sleep(0.1)
    pytest.fail(f"server on port {port} not SERVING within {timeout} s")


def _serve(args: list[str], env_port: int | None = None) -> subprocess.Popen:  # type: ignore[type-arg]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("REGIMENGUARD_PORT", None)
    if env_port is not None:
        env["REGIMENGUARD_PORT"] = str(env_port)
    return subprocess.Popen(
        [sys.executable, "-m", "regimenguard.client.cli", "serve", "--host", "127.0.0.1", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _exercise(port: int) -> None:
    """Calls carrying drug names and a request id, good and bad, that must not be logged."""
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = pb_grpc.RegimenCheckerServiceStub(channel)
        assert stub.CheckRegimen(contract_example(), timeout=TIMEOUT).verdict == pb.VERDICT_REVIEW
        with pytest.raises(grpc.RpcError):
            stub.CheckRegimen(
                request(order("zolpidemxyz", -1, 1), request_id="secret-id-42"), timeout=TIMEOUT
            )
        batch = pb.CheckRegimenBatchRequest(requests=[reject_request(), invalid_request()])
        assert len(stub.CheckRegimenBatch(batch, timeout=TIMEOUT).responses) == 2


def _assert_clean_log(stderr: str, port: int) -> None:
    """No drug names in the log. The request id is a caller's correlation id, not patient data,
    and the access log carries it by design (one line per call)."""
    assert f"on port {port}" in stderr
    assert "Traceback" not in stderr
    for secret in ("duloxetine", "cyclobenzaprine", "acetaminophen", "naproxen", "zolpidemxyz"):
        assert secret not in stderr.lower(), f"{secret!r} logged:\n{stderr}"


def test_serve_process_port_flag_and_sigterm() -> None:
    port = free_port()
    process = _serve(["--port", str(port), "--workers", "1", "--grace", "5"])
    try:
        _wait_serving(process, port)
        _exercise(port)
        code, stderr = stop_process(process, timeout=15)
    finally:
        kill_if_running(process)
    assert code == 0, stderr
    _assert_clean_log(stderr, port)


def test_serve_process_port_from_environment() -> None:
    port = free_port()
    process = _serve(["--workers", "1"], env_port=port)
    try:
        _wait_serving(process, port)
        code, stderr = stop_process(process, timeout=15)
    finally:
        kill_if_running(process)
    assert code == 0, stderr
    assert f"on port {port}" in stderr


def test_serve_process_with_two_workers() -> None:
    port = free_port()
    process = _serve(["--port", str(port), "--workers", "2", "--grace", "5"])
    try:
        _wait_serving(process, port)
        _exercise(port)
        code, stderr = stop_process(process, timeout=15)
    finally:
        kill_if_running(process)
    assert code == 0, stderr
    assert stderr.count(f"on port {port}") == 2  # one line per worker
    _assert_clean_log(stderr, port)


def _serve_once(args: list[str]) -> subprocess.CompletedProcess:  # type: ignore[type-arg]
    process = _serve(args)
    try:
        stdout, stderr = process.communicate(timeout=20)
    finally:
        kill_if_running(process)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def test_serve_several_workers_need_a_port() -> None:
    done = _serve_once(["--port", "0", "--workers", "2"])
    assert done.returncode == 6
    # serve logs JSON lines (regimenguard.server.log_setup), the start-up error too.
    (line,) = [json.loads(text) for text in done.stderr.strip().splitlines()]
    assert line["level"] == "ERROR"
    assert line["message"] == (
        "regimen-guard: cannot start: several workers share one port: give --port, not 0"
    )


def test_serve_on_a_busy_port_is_a_startup_error() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        done = _serve_once(["--port", str(busy.getsockname()[1]), "--workers", "1"])
    assert done.returncode == 6, done.stderr
    assert "Traceback" not in done.stderr
    assert "regimen-guard: cannot start" in done.stderr
