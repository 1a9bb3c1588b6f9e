"""Peak resident memory of one worker under the largest messages the server accepts.

``regimen-guard serve --workers 1`` (default limits); ``CLIENTS`` clients each send one
``CheckRegimenBatch`` as large as the receive limit allows (1,000 requests of 80 orders with
long indications), all at once. Reported: the worker's peak resident set (VmHWM) against
the pod's memory limit in deploy/deployment.yaml, its resident set after the burst (once the
large-message budget has handed freed memory back), and how the calls ended (an answer too
large to send is RESOURCE_EXHAUSTED, which is fine here: the point is the memory).
"""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from pathlib import Path

import grpc

from bench import proc
from bench.servers import ServerProcess
from regimenguard.server.app import MAX_MESSAGE_BYTES
from regimenguard.v1 import regimen_checker_pb2 as pb

ROOT = Path(__file__).resolve().parents[1]
CLIENTS = 8
ROUNDS = 1
REQUESTS, ORDERS = 1000, 80
METHOD = "/regimenguard.v1.RegimenCheckerService/CheckRegimenBatch"


def largest_batch(limit: int = MAX_MESSAGE_BYTES) -> bytes:
    """A valid CheckRegimenBatchRequest just under ``limit`` bytes."""
    order = pb.MedicationOrder(
        drug="naproxen", dose_mg=250, doses_per_day=2, indication="chronic low back pain " * 9
    )
    request = pb.CheckRegimenRequest(as_of="2026-11-23", medications=[order] * ORDERS)
    batch = pb.CheckRegimenBatchRequest()
    for number in range(REQUESTS):
        item = batch.requests.add()
        item.CopyFrom(request)
        item.request_id = f"m{number}"
    while batch.ByteSize() > limit - 1024:
        del batch.requests[-1].medications[-1]
        if not batch.requests[-1].medications:
            del batch.requests[-1]
    return batch.SerializeToString()


def pod_memory_limit_mib() -> int | None:
    text = (ROOT / "deploy" / "deployment.yaml").read_text(encoding="utf-8")
    found = re.search(r"limits:\s*\n\s*memory:\s*(\d+)Mi", text)
    return int(found.group(1)) if found else None


def run(clients: int = CLIENTS) -> dict:
    payload = largest_batch()
    port = proc.free_port()
    codes: Counter[str] = Counter()
    with ServerProcess.project(port, workers=1) as server:
        server.wait_serving()
        worker = server.worker_pids()[0]
        idle_kb = proc.status_kb(worker, "VmRSS")
        target = f"127.0.0.1:{port}"
        options = [
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            ("grpc.use_local_subchannel_pool", 1),
        ]

        def client() -> None:
            with grpc.insecure_channel(target, options=options) as channel:
                call = channel.unary_unary(METHOD)
                try:
                    call(payload, timeout=300)
                    codes["OK"] += 1
                except grpc.RpcError as error:
                    codes[error.code().name] += 1  # type: ignore[attr-defined]

        started = time.perf_counter()
        for _ in range(ROUNDS):
            threads = [threading.Thread(target=client) for _ in range(clients)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(600)
        seconds = time.perf_counter() - started
        peak_kb = proc.status_kb(worker, "VmHWM")
        time.sleep(2.0)
        after_kb = proc.status_kb(worker, "VmRSS")
    limit = pod_memory_limit_mib()
    return {
        "message_bytes": len(payload),
        "max_message_bytes": MAX_MESSAGE_BYTES,
        "clients_at_once": clients,
        "rounds": ROUNDS,
        "seconds": seconds,
        "codes": dict(codes),
        "idle_rss_mb": idle_kb / 1024,
        "peak_rss_mb": peak_kb / 1024,
        "rss_after_mb": after_kb / 1024,
        "pod_limit_mib": limit,
        "fits_pod": limit is not None and peak_kb / 1024 < limit,
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
