"""Prometheus metrics: exact counts scraped over HTTP after known calls, and `serve
--metrics-port` as a process (one worker, and worker k on the port plus k)."""

from __future__ import annotations

import collections
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import grpc
import pytest
from prometheus_client.parser import text_string_to_metric_families

from regimenguard.client.cli import main as cli_main
from regimenguard.regimen.engine import RegimenChecker
from regimenguard.regimen.observers import CallRecord
from regimenguard.server.app import RunningServer, ServerOptions, create_server
from regimenguard.server.metrics import Metrics
from regimenguard.v1 import regimen_checker_pb2 as pb
from regimenguard.v1 import regimen_checker_pb2_grpc as pb_grpc
from tests.grpc_helpers import (
    accept_request,
    free_port,
    invalid_request,
    kill_if_running,
    stop_process,
)
from tests.hardening_support import REPO, review_request

SERVICE = "/regimenguard.v1.RegimenCheckerService/"
TIMEOUT = 10.0
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=TIMEOUT) as answer:
        assert answer.status == 200
        assert answer.headers["Content-Type"].startswith("text/plain")
        return answer.read().decode("utf-8")


def samples(text: str) -> Samples:
    """Every sample of the exposition, by sample name and label set."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(found: Samples, name: str, **labels: str) -> float:
    """A sample's value; 0 when the series is absent (a counter never incremented)."""
    return found.get((name, frozenset(labels.items())), 0.0)


def matching(found: Samples, name: str) -> dict[frozenset[tuple[str, str]], float]:
    return {labels: number for (sample, labels), number in found.items() if sample == name}


# --- in-process: exact counts -----------------------------------------------------------------


class Served:
    def __init__(self, running: RunningServer, metrics: Metrics, metrics_port: int) -> None:
        self.running = running
        self.metrics = metrics
        self.metrics_port = metrics_port


@pytest.fixture
def served(checker: RegimenChecker) -> Iterator[Served]:
    metrics = Metrics(checker.knowledge.version)
    metrics_port = metrics.start(0, "127.0.0.1")
    assert metrics_port > 0 and metrics.port == metrics_port
    running = create_server(
        checker, ServerOptions(host="127.0.0.1", port=0, threads=4, metrics=metrics)
    )
    running.start()
    try:
        yield Served(running, metrics, metrics_port)
    finally:
        running.stop(0)
        metrics.stop()


def test_scrape_after_known_calls(served: Served, checker: RegimenChecker) -> None:
    answers: list[pb.CheckRegimenResponse] = []
    with grpc.insecure_channel(f"127.0.0.1:{served.running.port}") as channel:
        stub = pb_grpc.RegimenCheckerServiceStub(channel)
        accepted = stub.CheckRegimen(accept_request(), timeout=TIMEOUT)
        assert accepted.verdict == pb.VERDICT_ACCEPT
        reviewed = stub.CheckRegimen(review_request(), timeout=TIMEOUT)
        assert reviewed.verdict == pb.VERDICT_REVIEW
        with pytest.raises(grpc.RpcError) as raised:
            stub.CheckRegimen(invalid_request(), timeout=TIMEOUT)
        assert raised.value.code() is grpc.StatusCode.INVALID_ARGUMENT
        batch = stub.CheckRegimenBatch(
            pb.CheckRegimenBatchRequest(requests=[accept_request("b1"), invalid_request("b2")]),
            timeout=TIMEOUT,
        )
        assert [item.HasField("error") for item in batch.responses] == [False, True]
        assert batch.responses[0].verdict == pb.VERDICT_ACCEPT
        stub.ListRules(pb.ListRulesRequest(), timeout=TIMEOUT)
        answers = [accepted, reviewed, batch.responses[0]]

    found = samples(scrape(served.metrics_port))

    # calls by method and code
    calls = matching(found, "regimenguard_calls_total")
    assert calls == {
        frozenset({("method", SERVICE + "CheckRegimen"), ("code", "OK")}): 2,
        frozenset({("method", SERVICE + "CheckRegimen"), ("code", "INVALID_ARGUMENT")}): 1,
        frozenset({("method", SERVICE + "CheckRegimenBatch"), ("code", "OK")}): 1,
        frozenset({("method", SERVICE + "ListRules"), ("code", "OK")}): 1,
    }

    # latency histograms by method
    counts = {
        dict(labels)["method"]: number
        for labels, number in matching(found, "regimenguard_call_duration_seconds_count").items()
    }
    assert counts == {
        SERVICE + "CheckRegimen": 3,
        SERVICE + "CheckRegimenBatch": 1,
        SERVICE + "ListRules": 1,
    }
    method = SERVICE + "CheckRegimen"
    assert value(found, "regimenguard_call_duration_seconds_bucket", method=method, le="+Inf") == 3
    assert 0 < value(found, "regimenguard_call_duration_seconds_sum", method=method) < 3 * TIMEOUT

    # findings by rule id and severity: exactly those of the answers received
    assert (
        value(
            found,
            "regimenguard_findings_total",
            rule_id="SEROTONERGIC_COMBINATION",
            severity="WARNING",
        )
        == 1
    )
    expected = collections.Counter(
        (finding.rule_id, pb.Severity.Name(finding.severity).removeprefix("SEVERITY_"))
        for answer in answers
        for finding in answer.findings
    )
    assert {
        (dict(labels)["rule_id"], dict(labels)["severity"]): number
        for labels, number in matching(found, "regimenguard_findings_total").items()
    } == expected

    # verdicts of checked regimens (the unary ones and the good batch item)
    assert value(found, "regimenguard_verdicts_total", verdict="ACCEPT") == 2
    assert value(found, "regimenguard_verdicts_total", verdict="REVIEW") == 1
    assert value(found, "regimenguard_verdicts_total", verdict="REJECT") == 0

    # medications per regimen received: 1 (accept), 2 (review), 1 (invalid), 1 + 1 (batch)
    assert value(found, "regimenguard_medications_per_request_count") == 5
    assert value(found, "regimenguard_medications_per_request_sum") == 6
    assert value(found, "regimenguard_medications_per_request_bucket", le="1.0") == 4
    assert value(found, "regimenguard_medications_per_request_bucket", le="2.0") == 5

    # the bad batch item
    assert value(found, "regimenguard_item_errors_total") == 1

    # the knowledge base
    info = matching(found, "regimenguard_knowledge_base_info")
    assert info == {frozenset({("version", checker.knowledge.version)}): 1}

    # the process's own series
    assert value(found, "process_resident_memory_bytes") > 0


def test_stream_items_and_health_checks(served: Served) -> None:
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    with grpc.insecure_channel(f"127.0.0.1:{served.running.port}") as channel:
        stub = pb_grpc.RegimenCheckerServiceStub(channel)
        requests = [review_request("s1"), invalid_request("s2"), accept_request("s3")]
        answers = list(stub.CheckRegimens(iter(requests), timeout=TIMEOUT))
        assert [answer.HasField("error") for answer in answers] == [False, True, False]
        health = health_pb2_grpc.HealthStub(channel)
        health.Check(health_pb2.HealthCheckRequest(), timeout=TIMEOUT)

    stream = SERVICE + "CheckRegimens"
    deadline = time.monotonic() + TIMEOUT  # a stream's end is recorded as the call terminates
    while True:
        found = samples(scrape(served.metrics_port))
        if value(found, "regimenguard_calls_total", method=stream, code="OK") or (
            time.monotonic() > deadline
        ):
            break
        time.sleep(0.05)
    assert value(found, "regimenguard_calls_total", method=stream, code="OK") == 1
    assert value(found, "regimenguard_call_duration_seconds_count", method=stream) == 1
    assert (
        value(
            found,
            "regimenguard_calls_total",
            method="/grpc.health.v1.Health/Check",
            code="OK",
        )
        == 1
    )
    assert value(found, "regimenguard_verdicts_total", verdict="REVIEW") == 1
    assert value(found, "regimenguard_verdicts_total", verdict="ACCEPT") == 1
    assert value(found, "regimenguard_item_errors_total") == 1
    assert value(found, "regimenguard_medications_per_request_count") == 3


def test_metrics_without_the_access_log(checker: RegimenChecker) -> None:
    """The observer is told about calls even when the access log is off."""
    metrics = Metrics(checker.knowledge.version, runtime=False)
    running = create_server(
        checker,
        ServerOptions(host="127.0.0.1", port=0, threads=2, access_log=False, metrics=metrics),
    )
    running.start()
    try:
        with grpc.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            stub = pb_grpc.RegimenCheckerServiceStub(channel)
            stub.CheckRegimen(review_request(), timeout=TIMEOUT)
    finally:
        running.stop(0)
    # Straight from the registry: no HTTP server needed.
    registry = metrics.registry
    labels = {"method": SERVICE + "CheckRegimen", "code": "OK"}
    assert registry.get_sample_value("regimenguard_calls_total", labels) == 1
    assert registry.get_sample_value("regimenguard_verdicts_total", {"verdict": "REVIEW"}) == 1
    assert registry.get_sample_value("process_resident_memory_bytes") is None  # runtime=False


def test_the_order_record_cache_hit_rate_is_in_the_metrics(knowledge) -> None:  # type: ignore[no-untyped-def]
    """The same order in two regimens is one miss and one hit; the entries are counted."""
    checker = RegimenChecker(knowledge)  # a cache of its own, empty
    metrics = Metrics(knowledge.version, runtime=False, order_records=checker.order_records)
    running = create_server(
        checker,
        ServerOptions(host="127.0.0.1", port=0, threads=2, access_log=False, metrics=metrics),
    )
    running.start()
    try:
        with grpc.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            stub = pb_grpc.RegimenCheckerServiceStub(channel)
            first = review_request()
            stub.CheckRegimen(first, timeout=TIMEOUT)
            second = review_request()
            second.request_id = "another regimen, the same orders"
            stub.CheckRegimen(second, timeout=TIMEOUT)
    finally:
        running.stop(0)
    registry = metrics.registry
    orders = len(first.medications)
    lookups = "regimenguard_order_records_lookups_total"
    assert registry.get_sample_value(lookups, {"result": "miss"}) == orders
    assert registry.get_sample_value(lookups, {"result": "hit"}) == orders
    assert registry.get_sample_value("regimenguard_order_records_entries") == orders
    assert checker.order_records.stats().hit_rate == 0.5


def test_each_metrics_has_its_own_registry(checker: RegimenChecker) -> None:
    first, second = Metrics("a", runtime=False), Metrics("b", runtime=False)
    first.call_ended(CallRecord(SERVICE + "ListRules", door="grpc", code="OK", seconds=0.001))
    labels = {"method": SERVICE + "ListRules", "code": "OK"}
    assert first.registry.get_sample_value("regimenguard_calls_total", labels) == 1
    assert second.registry.get_sample_value("regimenguard_calls_total", labels) is None
    assert second.registry.get_sample_value("regimenguard_knowledge_base_info", {"version": "b"})


def test_start_twice_is_refused_and_stop_is_idempotent() -> None:
    metrics = Metrics("v", runtime=False)
    port = metrics.start(0, "[::]")  # gRPC-style host
    try:
        with pytest.raises(RuntimeError):
            metrics.start(0, "127.0.0.1")
        assert "regimenguard_knowledge_base_info" in scrape(port)
    finally:
        metrics.stop()
    metrics.stop()
    assert metrics.port is None


# --- the command line -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "flags",
    [
        ["--metrics-port", "-1"],
        ["--metrics-port", "65536"],
        ["--metrics-port", "65535", "--workers", "2", "--port", "50051"],
        ["--metrics-port", "9000", "--port", "9000"],
        ["--metrics-port", "9000", "--workers", "3", "--port", "9002"],
    ],
)
def test_bad_metrics_port_is_a_usage_error(flags: list[str], capsys) -> None:  # type: ignore[no-untyped-def]
    assert cli_main(["serve", "--workers", "1", *flags]) == 3
    assert "--metrics-port" in capsys.readouterr().err


def _serve(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    environment = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    environment.pop("REGIMENGUARD_PORT", None)
    if env is None or "REGIMENGUARD_METRICS_PORT" not in env:
        environment.pop("REGIMENGUARD_METRICS_PORT", None)
    return subprocess.Popen(
        [sys.executable, "-m", "regimenguard.client.cli", "serve", "--host", "127.0.0.1", *args],
        cwd=REPO,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_scrape(process: subprocess.Popen[str], port: int, timeout: float = 30.0) -> Samples:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"serve exited {process.returncode}:\n{process.communicate()[1]}")
        try:
            return samples(scrape(port))
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.1)
    pytest.fail(f"no metrics on port {port} within {timeout} s")


def _check_until_counted(port: int, metrics_ports: list[int]) -> list[Samples]:
    """One CheckRegimen per new connection until some worker's metrics count it."""
    deadline = time.monotonic() + 30
    while True:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            grpc.channel_ready_future(channel).result(timeout=TIMEOUT)
            stub = pb_grpc.RegimenCheckerServiceStub(channel)
            stub.CheckRegimen(review_request(), timeout=TIMEOUT)
        scraped = [samples(scrape(metrics_port)) for metrics_port in metrics_ports]
        total = sum(
            value(found, "regimenguard_verdicts_total", verdict="REVIEW") for found in scraped
        )
        if total or time.monotonic() > deadline:
            return scraped


def test_serve_process_serves_metrics_and_exits_0_on_sigterm(checker: RegimenChecker) -> None:
    port, metrics_port = free_port(), free_port()
    process = _serve("--port", str(port), "--workers", "1", "--metrics-port", str(metrics_port))
    try:
        _wait_scrape(process, metrics_port)
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            grpc.channel_ready_future(channel).result(timeout=TIMEOUT)
            stub = pb_grpc.RegimenCheckerServiceStub(channel)
            assert stub.CheckRegimen(review_request(), timeout=TIMEOUT).verdict == (
                pb.VERDICT_REVIEW
            )
        found = samples(scrape(metrics_port))
        code, stderr = stop_process(process)
    finally:
        kill_if_running(process)
    assert code == 0, stderr
    assert f"metrics on http://127.0.0.1:{metrics_port}/metrics" in stderr
    assert "Traceback" not in stderr
    method = SERVICE + "CheckRegimen"
    assert value(found, "regimenguard_calls_total", method=method, code="OK") == 1
    assert value(found, "regimenguard_verdicts_total", verdict="REVIEW") == 1
    assert value(found, "regimenguard_medications_per_request_count") == 1
    serotonergic = {"rule_id": "SEROTONERGIC_COMBINATION", "severity": "WARNING"}
    assert value(found, "regimenguard_findings_total", **serotonergic) == 1
    assert matching(found, "regimenguard_knowledge_base_info") == {
        frozenset({("version", checker.knowledge.version)}): 1
    }


def test_serve_workers_each_serve_metrics_on_port_plus_k() -> None:
    port, metrics_port = free_port(), free_port()
    process = _serve(
        "--port",
        str(port),
        "--workers",
        "2",
        env={"REGIMENGUARD_METRICS_PORT": str(metrics_port)},
    )
    try:
        ports = [metrics_port, metrics_port + 1]
        for each in ports:
            found = _wait_scrape(process, each)
            assert value(found, "regimenguard_item_errors_total") == 0
        scraped = _check_until_counted(port, ports)
        code, stderr = stop_process(process)
    finally:
        kill_if_running(process)
    assert code == 0, stderr
    for each in ports:
        assert f"metrics on http://127.0.0.1:{each}/metrics" in stderr
    assert sum(value(found, "regimenguard_verdicts_total", verdict="REVIEW") for found in scraped)


@pytest.mark.parametrize("workers", [1, 2])
def test_serve_metrics_port_in_use_is_a_startup_error(workers: int) -> None:
    """Taken by something else: exit 6 with one line, whichever worker's port it is."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        first = taken - (workers - 1)  # with two workers, worker 1's port is the taken one
        process = _serve(
            "--port", str(free_port()), "--workers", str(workers), "--metrics-port", str(first)
        )
        try:
            _, stderr = process.communicate(timeout=60)
        finally:
            kill_if_running(process)
    assert process.returncode == 6, stderr
    assert f"cannot serve metrics on 127.0.0.1:{taken}: Address already in use" in stderr
    assert "Traceback" not in stderr
