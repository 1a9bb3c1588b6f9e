"""Closed-loop unary load: a fixed number of CheckRegimen calls with K calls in flight.

The client is grpc.aio in one process (the server is another process, so they do not share a
GIL). Requests are serialized once up front and sent as bytes, responses are received as bytes
(every 50th is parsed and checked), so the client spends as little CPU per call as it can; the
client's own CPU use is reported so a client-bound run can be recognised.
"""

from __future__ import annotations

import asyncio
import time

import grpc

from bench.proc import percentile
from bench.servers import ServerProcess, cpu_delta
from regimenguard.v1 import regimen_checker_pb2 as pb

METHOD = "/regimenguard.v1.RegimenCheckerService/CheckRegimen"
MAX_MESSAGE = 64 * 1024 * 1024


def channel_options(local_pool: bool) -> list[tuple[str, int]]:
    options = [
        ("grpc.max_receive_message_length", MAX_MESSAGE),
        ("grpc.max_send_message_length", MAX_MESSAGE),
    ]
    if local_pool:  # one TCP connection per channel, so SO_REUSEPORT can spread them
        options.append(("grpc.use_local_subchannel_pool", 1))
    return options


async def phase_measured(phase, calls: int) -> dict:
    cpu0 = time.process_time()
    latencies, errors, wall = await phase(calls)
    client_cpu = time.process_time() - cpu0
    latencies.sort()
    return {
        "calls": calls,
        "completed": len(latencies),
        "errors": errors,
        "wall_s": wall,
        "calls_per_s": len(latencies) / wall,
        "p50_us": percentile(latencies, 50) / 1000,
        "p99_us": percentile(latencies, 99) / 1000,
        "client_cpu_s": client_cpu,
        "client_cpu_us_per_call": client_cpu / max(len(latencies), 1) * 1e6,
    }


def run_load(
    server: ServerProcess,
    payloads: list[bytes],
    *,
    calls: int,
    in_flight: int,
    channels: int = 1,
    warmup: int = 200,
) -> dict:
    """Drive ``server``; adds the server's CPU use over the measured phase (warm-up excluded)."""
    return asyncio.run(
        _load(server, payloads, calls=calls, warmup=warmup, in_flight=in_flight, channels=channels)
    )


SPREAD_ATTEMPTS = 4


async def _load(
    server: ServerProcess,
    payloads: list[bytes],
    *,
    calls: int,
    warmup: int,
    in_flight: int,
    channels: int,
) -> dict:
    """Warm up, then measure. With several server workers, the warm-up also checks that the
    kernel (SO_REUSEPORT) gave every worker at least one of our connections; if one got none,
    the channels are reopened (new source ports, new hash) up to SPREAD_ATTEMPTS times. The
    attempts are reported: a real client with few connections meets the same imbalance."""
    target = f"127.0.0.1:{server.port}"
    workers = server.worker_pids()
    attempts = 0
    opened: list = []
    clock = time.perf_counter_ns
    try:
        while True:
            attempts += 1
            opened = [
                grpc.aio.insecure_channel(target, options=channel_options(channels > 1))
                for _ in range(channels)
            ]
            stubs = [ch.unary_unary(METHOD) for ch in opened]
            for ch in opened:
                await asyncio.wait_for(ch.channel_ready(), 10)

            async def phase(count: int, stubs=stubs) -> tuple[list[int], int, float]:
                latencies: list[int] = []
                state = {"issued": 0, "errors": 0}

                async def worker(slot: int) -> None:
                    stub = stubs[slot % len(stubs)]
                    while state["issued"] < count:
                        n = state["issued"]
                        state["issued"] = n + 1
                        payload = payloads[n % len(payloads)]
                        start = clock()
                        try:
                            answer = await stub(payload, timeout=60)
                        except grpc.aio.AioRpcError:
                            state["errors"] += 1
                            continue
                        latencies.append(clock() - start)
                        if n % 50 == 0:
                            parsed = pb.CheckRegimenResponse.FromString(answer)
                            if parsed.verdict == pb.VERDICT_UNSPECIFIED or parsed.HasField("error"):
                                state["errors"] += 1

                started = time.perf_counter()
                await asyncio.gather(*(worker(slot) for slot in range(in_flight)))
                return latencies, state["errors"], time.perf_counter() - started

            before_warm = server.cpu()
            await phase(warmup)
            warm = cpu_delta(before_warm, server.cpu())
            shares = [warm.get(pid, 0.0) for pid in workers]
            spread = len(workers) < 2 or min(shares) > 0.1 * max(max(shares), 1e-9)
            if spread or attempts >= SPREAD_ATTEMPTS:
                break
            for ch in opened:
                await ch.close()
        before = server.cpu()
        result = await phase_measured(phase, calls)
        spent = cpu_delta(before, server.cpu())
        server_cpu = sum(spent.values())
        result.update(
            in_flight=in_flight,
            channels=channels,
            server_cpu_s=server_cpu,
            server_cpu_us_per_call=server_cpu / max(result["completed"], 1) * 1e6,
            server_cpu_by_pid_s={str(pid): round(value, 3) for pid, value in spent.items()},
            server_cores_busy=server_cpu / result["wall_s"],
            client_cores_busy=result["client_cpu_s"] / result["wall_s"],
            worker_pids=workers,
            connection_attempts=attempts,
            connections_spread=spread,
        )
        return result
    finally:
        for ch in opened:
            await ch.close()
