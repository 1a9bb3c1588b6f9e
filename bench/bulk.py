"""Bulk review: N distinct generated regimens through CheckRegimenBatch (chunks) or CheckRegimens.

Client side: ``clients`` processes (multiprocessing, spawn), each with ``channels`` gRPC channels
(one TCP connection each: ``grpc.use_local_subchannel_pool``), one call in flight per channel,
so connections spread over the server's SO_REUSEPORT workers. Regimens are generated lazily
(bench.bulkgen) and sent as bytes; every answer is parsed, counted and checked: one answer per
regimen, request ids echoed in order, ``error`` set exactly on the deliberately invalid ones.

A time budget stops issuing new work (already issued work is still answered and counted), so
`make bench` stays within its time limit; the figure reported is then what was achieved, with
the projected time for the full count.
"""

from __future__ import annotations

import asyncio
import collections
import multiprocessing
import time

import grpc

from bench.bulkgen import INVALID_EVERY, Generator
from bench.proc import percentile
from bench.unary import channel_options
from regimenguard.v1 import regimen_checker_pb2 as pb

BATCH = "/regimenguard.v1.RegimenCheckerService/CheckRegimenBatch"
STREAM = "/regimenguard.v1.RegimenCheckerService/CheckRegimens"
STREAM_WINDOW = 256


def _check_answers(answers, start: int, tally: dict) -> None:
    """Every answer in order, ids echoed, error exactly where the regimen was made invalid."""
    for offset, answer in enumerate(answers):
        i = start + offset
        tally["answers"] += 1
        if answer.request_id != f"r{i}":
            tally["mismatched_ids"] += 1
        has_error = answer.HasField("error")
        if not tally["validating"]:
            tally["unexpected_errors"] += has_error
        elif Generator.is_invalid(i):
            tally["invalid_sent"] += 1
            tally["invalid_answered_with_error"] += has_error
        elif has_error:
            tally["unexpected_errors"] += 1
            if len(tally["error_samples"]) < 3:
                tally["error_samples"].append(f"r{i}: {answer.error.message[:200]}")
        elif answer.verdict == pb.VERDICT_UNSPECIFIED:
            tally["unexpected_errors"] += 1


def _new_tally(validating: bool) -> dict:
    return {
        "validating": validating,
        "sent": 0,
        "answers": 0,
        "mismatched_ids": 0,
        "unexpected_errors": 0,
        "invalid_sent": 0,
        "invalid_answered_with_error": 0,
        "rpc_failures": 0,
        "error_samples": [],
        "call_ms": [],
    }


class _Work:
    """Chunks handed out on demand across client processes (a shared counter), so a fast lane
    (a lightly loaded server worker) takes more and nobody idles at the end."""

    def __init__(self, counter, count: int, chunk: int, deadline: float) -> None:
        self._counter = counter
        self._count = count
        self._chunk = chunk
        self._deadline = deadline

    def next(self) -> tuple[int, int] | None:
        if time.time() > self._deadline:
            return None
        with self._counter.get_lock():
            k = self._counter.value
            self._counter.value = k + 1
        start = k * self._chunk
        if start >= self._count:
            return None
        return start, min(self._chunk, self._count - start)


async def _batch_client(
    target: str, work: _Work, channels: int, validating: bool, unique: bool = False
) -> dict:
    generator = Generator(unique_orders=unique)
    tally = _new_tally(validating)
    opened = [
        grpc.aio.insecure_channel(target, options=channel_options(True)) for _ in range(channels)
    ]
    try:
        calls = [ch.unary_unary(BATCH) for ch in opened]
        for ch in opened:
            await asyncio.wait_for(ch.channel_ready(), 10)

        async def lane(call) -> None:
            while (item := work.next()) is not None:
                start, count = item
                payload = generator.batch(start, count)
                tally["sent"] += count
                began = time.perf_counter()
                try:
                    raw = await call(payload, timeout=300)
                except grpc.aio.AioRpcError as error:
                    tally["rpc_failures"] += 1
                    if len(tally["error_samples"]) < 3:
                        tally["error_samples"].append(
                            f"batch {start}: {error.code()} {error.details()}"
                        )
                    continue
                tally["call_ms"].append((time.perf_counter() - began) * 1000)
                answers = pb.CheckRegimenBatchResponse.FromString(raw).responses
                if len(answers) != count:
                    tally["mismatched_ids"] += abs(len(answers) - count)
                _check_answers(answers, start, tally)

        await asyncio.gather(*(lane(call) for call in calls))
    finally:
        for ch in opened:
            await ch.close()
    return tally


async def _stream_client(
    target: str, work: _Work, channels: int, validating: bool, unique: bool = False
) -> dict:
    generator = Generator(unique_orders=unique)
    tally = _new_tally(validating)
    opened = [
        grpc.aio.insecure_channel(target, options=channel_options(True)) for _ in range(channels)
    ]
    try:
        for ch in opened:
            await asyncio.wait_for(ch.channel_ready(), 10)

        async def one_stream(channel) -> None:
            expected: collections.deque[int] = collections.deque()
            room = asyncio.Event()

            async def requests():
                # at most STREAM_WINDOW unanswered regimens per stream: without it the whole
                # count sits in transport buffers at once and the time budget cannot stop it
                while (item := work.next()) is not None:
                    start, count = item
                    for i in range(start, start + count):
                        while len(expected) >= STREAM_WINDOW:
                            room.clear()
                            await room.wait()
                        expected.append(i)
                        tally["sent"] += 1
                        yield generator.regimen(i)

            call = channel.stream_stream(STREAM)(requests(), timeout=900)
            try:
                async for raw in call:
                    _check_answers(
                        (pb.CheckRegimenResponse.FromString(raw),), expected.popleft(), tally
                    )
                    room.set()
            except grpc.aio.AioRpcError as error:
                tally["rpc_failures"] += 1
                tally["error_samples"].append(f"stream: {error.code()} {error.details()}")

        await asyncio.gather(*(one_stream(ch) for ch in opened))
    finally:
        for ch in opened:
            await ch.close()
    return tally


def _client_main(
    mode: str,
    target: str,
    counter,
    count: int,
    chunk: int,
    channels: int,
    deadline: float,
    validating: bool,
    unique: bool,
    out,
) -> None:
    cpu0 = time.process_time()
    work = _Work(counter, count, chunk, deadline)
    client = _batch_client if mode == "batch" else _stream_client
    tally = asyncio.run(client(target, work, channels, validating, unique))
    tally["client_cpu_s"] = time.process_time() - cpu0
    out.send(tally)
    out.close()


def run_bulk(
    server,
    *,
    mode: str,
    count: int,
    chunk: int = 1000,
    clients: int = 2,
    channels_per_client: int = 4,
    budget_s: float,
    validating: bool = True,
    unique_orders: bool = False,
) -> dict:
    """Send ``count`` regimens (or as many as ``budget_s`` allows) and count every answer.

    ``unique_orders``: the population where no order recurs (bench.bulkgen), which no cache
    keyed on orders helps.

    A stream takes its regimens in slices of ``chunk`` too (one stream per channel, held open
    for the whole run). ``validating=False`` for the empty-work server, which checks nothing
    and so cannot flag the deliberately invalid regimens.
    """
    target = f"127.0.0.1:{server.port}"
    context = multiprocessing.get_context("spawn")
    counter = context.Value("q", 0)
    pipes, procs = [], []
    cpu_before = server.cpu()
    started = time.perf_counter()
    deadline = time.time() + budget_s
    for _ in range(clients):
        receive, send = context.Pipe(duplex=False)
        process = context.Process(
            target=_client_main,
            args=(
                mode,
                target,
                counter,
                count,
                chunk,
                channels_per_client,
                deadline,
                validating,
                unique_orders,
                send,
            ),
            daemon=True,
        )
        process.start()
        send.close()
        pipes.append(receive)
        procs.append(process)
    tallies = [pipe.recv() for pipe in pipes]
    wall = time.perf_counter() - started
    for process in procs:
        process.join(10)
    spent = {pid: cpu - cpu_before.get(pid, 0.0) for pid, cpu in server.cpu().items()}
    total = _new_tally(validating)
    for tally in tallies:
        for key, value in tally.items():
            if key == "validating":
                continue
            if isinstance(value, list):
                total[key] = total[key] + value
            else:
                total[key] = total.get(key, 0) + value
    call_ms = sorted(total.pop("call_ms"))
    answers = total["answers"]
    server_cpu = sum(spent.values())
    result = {
        "mode": mode,
        "unique_orders": unique_orders,
        "target_count": count,
        "chunk": chunk,
        "clients": clients,
        "channels_per_client": channels_per_client,
        "budget_s": budget_s,
        "wall_s": wall,
        "regimens_per_s": answers / wall if wall else 0.0,
        "completed_target": answers == count,
        "projected_s_for_target": count / (answers / wall) if answers else None,
        "server_cpu_s": server_cpu,
        "server_cpu_us_per_regimen": server_cpu / max(answers, 1) * 1e6,
        "server_cpu_by_pid_s": {str(pid): round(value, 2) for pid, value in spent.items()},
        "client_cpu_us_per_regimen": total["client_cpu_s"] / max(answers, 1) * 1e6,
        "batch_call_p50_ms": percentile(call_ms, 50) if call_ms else None,
        "batch_call_p99_ms": percentile(call_ms, 99) if call_ms else None,
        **total,
    }
    result["all_answered"] = (
        answers == total["sent"]
        and total["mismatched_ids"] == 0
        and total["unexpected_errors"] == 0
        and total["rpc_failures"] == 0
        and total["invalid_answered_with_error"] == total["invalid_sent"]
        and (not validating or answers < INVALID_EVERY or total["invalid_sent"] > 0)
    )
    return result
