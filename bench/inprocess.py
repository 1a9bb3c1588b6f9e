"""In-process latency by regimen size: bytes to bytes through the service layer (the issue-13
figure: request bytes -> decode -> ``RegimenService.check`` -> response bytes, exactly the work
of the gRPC servicer without gRPC), for a realistic population (orders repeat across regimens)
and one where every order is unique; plus ``RegimenChecker.check`` on prebuilt domain requests
and the old proto path, for comparison with earlier runs."""

from __future__ import annotations

import cProfile
import gc
import io
import pstats
import re
import time
from collections.abc import Callable
from pathlib import Path

from bench.proc import percentile
from bench.regimens import AS_OF_DATE, sized_request, unary_pool, unique_orders
from regimenguard.regimen.engine import RegimenChecker
from regimenguard.regimen.knowledge import load_knowledge
from regimenguard.regimen.service import RegimenService
from regimenguard.server.answer_wire import WireTables
from regimenguard.server.convert import decode_request, request_from_proto, response_from_result
from regimenguard.v1 import regimen_checker_pb2 as pb

SIZES = (1, 5, 20, 50)
BYTES_SIZES = (5, 50)
# regimens in the realistic population: ages and the first order's dose vary, so most orders
# recur from one regimen to the next, as in a pharmacy's or a nightly review's traffic
REALISTIC_POOL = 256
ROOT = Path(__file__).resolve().parents[1]


def _series(fn: Callable[[], object], *, budget_s: float, min_iter: int, max_iter: int) -> dict:
    """Warm up, then time single calls with perf_counter_ns until the budget or max_iter."""
    warm_end = time.perf_counter() + min(0.25, budget_s / 4)
    warm = 0
    while warm < 50 or time.perf_counter() < warm_end:
        fn()
        warm += 1
    gc.collect()
    samples: list[int] = []
    clock = time.perf_counter_ns
    deadline = clock() + int(budget_s * 1e9)
    while len(samples) < max_iter and (len(samples) < min_iter or clock() < deadline):
        start = clock()
        fn()
        samples.append(clock() - start)
    samples.sort()
    return {
        "iterations": len(samples),
        "p50_us": percentile(samples, 50) / 1000,
        "p99_us": percentile(samples, 99) / 1000,
        "mean_us": sum(samples) / len(samples) / 1000,
        "min_us": samples[0] / 1000,
    }


def bytes_to_bytes(service: RegimenService) -> Callable[[bytes], bytes]:
    """What the gRPC servicer's CheckRegimen does with a request, without gRPC."""
    knowledge, records = service.knowledge, service.order_records
    tables = WireTables.of_knowledge(knowledge)  # as the servicer makes them
    parse = pb.CheckRegimenRequest.FromString

    def answer(payload: bytes) -> bytes:
        domain = decode_request(parse(payload), knowledge, today=AS_OF_DATE, records=records)
        return response_from_result(service.check(domain), tables=tables).SerializeToString()

    return answer


def _payloads(size: int, *, unique: bool, count: int) -> list[bytes]:
    if unique:
        base = sized_request(size, request_id=f"unique-{size}")
        return [unique_orders(base, n).SerializeToString() for n in range(count)]
    return [message.SerializeToString() for message in unary_pool(REALISTIC_POOL, size)]


def _bytes_series(
    answer: Callable[[bytes], bytes], payloads: list[bytes], *, budget_s: float, max_iter: int
) -> dict:
    """p50/p99 of single calls cycling through ``payloads`` (each used once if unique)."""
    gc.collect()
    samples: list[int] = []
    cpu_samples: list[int] = []
    clock = time.perf_counter_ns
    cpu = time.thread_time_ns  # this thread's CPU time: what other jobs on the machine do not add
    deadline = clock() + int(budget_s * 1e9)
    count = len(payloads)
    n = 0
    while n < max_iter and (n < 50 or clock() < deadline):
        payload = payloads[n % count]
        start, start_cpu = clock(), cpu()
        answer(payload)
        cpu_samples.append(cpu() - start_cpu)
        samples.append(clock() - start)
        n += 1
    samples.sort()
    cpu_samples.sort()
    return {
        "iterations": len(samples),
        "p50_us": percentile(samples, 50) / 1000,
        "p99_us": percentile(samples, 99) / 1000,
        "mean_us": sum(samples) / len(samples) / 1000,
        "min_us": samples[0] / 1000,
        "cpu_p50_us": percentile(cpu_samples, 50) / 1000,
    }


def run_bytes(service: RegimenService, *, quick: bool) -> dict:
    """The issue-13 in-process figures: bytes to bytes, 5 and 50 orders, both populations."""
    answer = bytes_to_bytes(service)
    budget = 0.4 if quick else 2.0
    out: dict = {"realistic": {}, "unique": {}}
    for size in BYTES_SIZES:
        # unique: one payload per timed call (the warm-up uses the first 50, which then recur)
        unique_count = (400 if quick else 6000) if size <= 5 else (100 if quick else 1500)
        for population, unique in (("realistic", False), ("unique", True)):
            payloads = _payloads(size, unique=unique, count=unique_count + 50)
            for payload in payloads[:50]:  # warm-up; unique payloads are then not reused
                answer(payload)
            if unique:
                payloads = payloads[50:]
            row = _bytes_series(
                answer,
                payloads,
                budget_s=budget,
                max_iter=len(payloads) if unique else (5000 if quick else 50000),
            )
            row.update(
                medications=size,
                distinct_regimens=len(payloads),
                request_bytes=len(payloads[0]),
                response_bytes=len(answer(payloads[0])),
                p50_us_per_medication=row["p50_us"] / size,
            )
            out[population][str(size)] = row
    for population in ("realistic", "unique"):
        rows = out[population]
        out[f"{population}_50_over_5"] = rows["50"]["p50_us"] / rows["5"]["p50_us"]
    return out


def run(*, quick: bool) -> dict:
    started = time.perf_counter()
    checker = RegimenChecker(load_knowledge())
    budget = 0.3 if quick else 1.0
    min_iter, max_iter = (50, 5000) if quick else (300, 50000)
    results: dict = {
        "bytes": run_bytes(RegimenService(checker.knowledge, checker=checker), quick=quick),
        "check": {},
        "proto_path": {},
        "check_known_only": {},
    }
    for size in SIZES:
        message = sized_request(size)
        domain = request_from_proto(message, checker, today=AS_OF_DATE)  # prebuilt, untimed
        result = checker.check(domain)
        answer = response_from_result(result)

        def full(message=message) -> object:
            return response_from_result(
                checker.check(request_from_proto(message, checker, today=AS_OF_DATE))
            )

        row = _series(
            lambda d=domain: checker.check(d), budget_s=budget, min_iter=min_iter, max_iter=max_iter
        )
        row.update(
            medications=size,
            findings=len(result.findings),
            verdict=result.verdict.name,
            request_bytes=message.ByteSize(),
            response_bytes=answer.ByteSize(),
            p50_us_per_medication=row["p50_us"] / size,
        )
        results["check"][str(size)] = row
        proto_row = _series(full, budget_s=budget, min_iter=min_iter, max_iter=max_iter)
        proto_row.update(medications=size, p50_us_per_medication=proto_row["p50_us"] / size)
        results["proto_path"][str(size)] = proto_row
        if size >= 20:  # the same size without the medications the knowledge base does not know
            known = request_from_proto(
                sized_request(size, known_only=True), checker, today=AS_OF_DATE
            )
            known_row = _series(
                lambda d=known: checker.check(d),
                budget_s=budget / 2,
                min_iter=min_iter,
                max_iter=max_iter,
            )
            known_row.update(medications=size, p50_us_per_medication=known_row["p50_us"] / size)
            results["check_known_only"][str(size)] = known_row
    for key in ("check", "proto_path"):
        p5, p50 = results[key]["5"]["p50_us"], results[key]["50"]["p50_us"]
        results[f"{key}_marginal_us_per_medication_5_to_50"] = (p50 - p5) / 45
    domain_5 = request_from_proto(sized_request(5), checker, today=AS_OF_DATE)
    message_50 = sized_request(50)
    results["profile"] = {
        "check_5": profile(lambda: checker.check(domain_5), iterations=200 if quick else 2000),
        "proto_path_50": profile(
            lambda: response_from_result(
                checker.check(request_from_proto(message_50, checker, today=AS_OF_DATE))
            ),
            iterations=20 if quick else 200,
        ),
    }
    results["seconds"] = time.perf_counter() - started
    return results


def profile(fn: Callable[[], object], *, iterations: int, top: int = 15) -> list[dict]:
    """cProfile's top functions by own time (cProfile inflates call overhead; use for ranking)."""
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(iterations):
        fn()
    profiler.disable()
    stats = pstats.Stats(profiler, stream=io.StringIO())
    total = sum(row[2] for row in stats.stats.values()) or 1.0  # type: ignore[attr-defined]
    rows = []
    for (filename, line, name), (_cc, calls, tottime, cumtime, _) in stats.stats.items():  # type: ignore[attr-defined]
        rows.append(
            {
                "function": name,
                "where": f"{_short(filename)}:{line}",
                "calls_per_iteration": calls / iterations,
                "own_pct": 100 * tottime / total,
                "cumulative_pct": 100 * cumtime / total,
            }
        )
    rows.sort(key=lambda row: -row["own_pct"])
    return rows[:top]


def _short(filename: str) -> str:
    for marker in (f"{ROOT}/", "site-packages/"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return re.sub(r"^.*/lib/python3\.\d+/", "", filename)
