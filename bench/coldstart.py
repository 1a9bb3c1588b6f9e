"""Cold start: spawn `regimen-guard serve --port N --workers 1`, poll health every 10 ms."""

from __future__ import annotations

import re
import statistics

from bench.proc import free_port
from bench.servers import ServerProcess

_READY = re.compile(r"loaded in (\d+) ms, ready in (\d+) ms")


def run(*, repeats: int) -> dict:
    runs = []
    for _ in range(repeats):
        server = ServerProcess.project(free_port(), workers=1)
        try:
            seconds = server.wait_serving(timeout=30, poll_s=0.010)
            memory = server.memory()
        finally:
            server.stop()
        log = server.log_path.read_text(errors="replace")
        match = _READY.search(log)
        runs.append(
            {
                "spawn_to_serving_s": seconds,
                # serve()'s own figures, after Python and imports: the knowledge base's load
                # (data files read, graph built and validated, compiled), and that plus bind + start
                "knowledge_load_ms": int(match.group(1)) if match else None,
                "server_reported_ready_ms": int(match.group(2)) if match else None,
                "idle_rss_mb": memory["vmhwm_sum_mb"],
            }
        )
    times = [run["spawn_to_serving_s"] for run in runs]
    loads = [run["knowledge_load_ms"] for run in runs if run["knowledge_load_ms"] is not None]
    return {
        "command": "regimen-guard serve --port N --workers 1",
        "poll_interval_ms": 10,
        "runs": runs,
        "median_s": statistics.median(times),
        "knowledge_load_median_ms": statistics.median(loads) if loads else None,
        "min_s": min(times),
    }
