"""Soak: 64 concurrent clients against `regimen-guard serve` for REGIMENGUARD_SOAK_SECONDS
(default 60): no errors, and the server's resident memory grows less than 10% from the end of a
5-second warm-up to the end."""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2

from regimenguard.v1 import regimen_checker_pb2 as pb
from regimenguard.v1 import regimen_checker_pb2_grpc as pb_grpc
from tests.hardening_support import AS_OF, ServerProcess, health_status, review_request

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

CLIENTS = 64
WARM_UP = 5.0
SECONDS = float(os.environ.get("REGIMENGUARD_SOAK_SECONDS", "60"))
MAX_RSS_GROWTH = 0.10


def accept_request(request_id: str) -> pb.CheckRegimenRequest:
    return pb.CheckRegimenRequest(
        request_id=request_id,
        as_of=AS_OF,
        medications=[pb.MedicationOrder(drug="naproxen", dose_mg=500, doses_per_day=2)],
    )


def invalid_request(request_id: str) -> pb.CheckRegimenRequest:
    request = accept_request(request_id)
    request.medications[0].dose_mg = -1
    return request


def workload(
    stub: pb_grpc.RegimenCheckerServiceStub, channel: grpc.Channel, number: int, step: int
) -> None:
    """One call of a mix like a pharmacy system's; raises AssertionError on a wrong answer."""
    rid = f"c{number}-{step}"
    kind = step % 8
    if kind in (0, 1, 2):
        assert stub.CheckRegimen(review_request(rid), timeout=30).verdict == pb.VERDICT_REVIEW
    elif kind == 3:
        assert stub.CheckRegimen(accept_request(rid), timeout=30).verdict == pb.VERDICT_ACCEPT
    elif kind == 4:
        try:
            stub.CheckRegimen(invalid_request(rid), timeout=30)
            raise AssertionError("an invalid request was answered")
        except grpc.RpcError as error:
            if error.code() is not grpc.StatusCode.INVALID_ARGUMENT:  # type: ignore[attr-defined]
                raise
    elif kind == 5:
        items = [review_request(f"{rid}-{n}") for n in range(8)] + [invalid_request(f"{rid}-x")]
        answers = stub.CheckRegimenBatch(
            pb.CheckRegimenBatchRequest(requests=items), timeout=30
        ).responses
        assert [a.request_id for a in answers] == [i.request_id for i in items]
        assert answers[-1].HasField("error") and not answers[0].HasField("error")
    elif kind == 6:
        items = [review_request(f"{rid}-{n}") for n in range(5)]
        answers = list(stub.CheckRegimens(iter(items), timeout=30))
        assert [a.request_id for a in answers] == [i.request_id for i in items]
    elif number % 2:
        assert stub.ListDrugs(pb.ListDrugsRequest(query="nsaid"), timeout=30).drugs
    else:
        assert stub.ListRules(pb.ListRulesRequest(), timeout=30).rules
        assert health_status(channel, timeout=30) == health_pb2.HealthCheckResponse.SERVING


def client(
    target: str,
    number: int,
    stop: threading.Event,
    counts: Counter,
    errors: list[str],
    call: Callable = workload,
) -> None:
    with grpc.insecure_channel(target) as channel:
        stub = pb_grpc.RegimenCheckerServiceStub(channel)
        step = 0
        while not stop.is_set() and step < 10_000_000:
            step += 1
            try:
                call(stub, channel, number, step)
                counts[number] += 1
            except (grpc.RpcError, AssertionError) as error:
                code = error.code().name if isinstance(error, grpc.RpcError) else "WRONG"  # type: ignore[attr-defined]
                errors.append(f"client {number} step {step}: {code} {error}")
                if len(errors) > 100:
                    stop.set()


def test_soak_64_clients_no_errors_and_flat_memory(tmp_path: Path) -> None:
    server = ServerProcess.start(tmp_path, "--workers", "1", "--grace", "5")
    try:
        server.wait_serving()
        stop = threading.Event()
        counts: Counter = Counter()
        errors: list[str] = []
        threads = [
            threading.Thread(target=client, args=(server.target, n, stop, counts, errors))
            for n in range(CLIENTS)
        ]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        time.sleep(WARM_UP)
        rss_warm = server.rss_kib()
        calls_warm = sum(counts.values())
        samples = [rss_warm]
        while time.monotonic() - started < SECONDS and not stop.is_set():
            time.sleep(min(5.0, max(0.1, SECONDS - (time.monotonic() - started))))
            samples.append(server.rss_kib())
        rss_end = server.rss_kib()
        stop.set()
        for thread in threads:
            thread.join(60)
        elapsed = time.monotonic() - started
        assert server.process.poll() is None, "the server died under load"
        with grpc.insecure_channel(server.target) as channel:
            assert health_status(channel) == health_pb2.HealthCheckResponse.SERVING
    finally:
        exit_code = server.stop()

    total = sum(counts.values())
    growth = (rss_end - rss_warm) / rss_warm
    print(
        f"\nsoak: {CLIENTS} clients, {elapsed:.0f} s, {total} calls ({total / elapsed:.0f}/s), "
        f"{len(errors)} errors; RSS after warm-up {rss_warm / 1024:.1f} MiB, at the end "
        f"{rss_end / 1024:.1f} MiB ({growth:+.1%}); samples {[s // 1024 for s in samples]} MiB"
    )
    assert not errors, "\n".join(errors[:20])
    assert exit_code == 0
    assert len(counts) == CLIENTS, "some clients never completed a call"
    assert total - calls_warm > CLIENTS * 5, "too little traffic after warm-up to judge"
    assert growth < MAX_RSS_GROWTH, f"RSS grew {growth:.1%} ({rss_warm} -> {rss_end} KiB)"
