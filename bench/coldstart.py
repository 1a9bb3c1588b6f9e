"""Cold start: spawn `regimen-guard serve --port N --workers 1`, poll health every 10 ms."""

from __future__ import annotations

import re
import statistics

from bench.proc import free_port
from bench.servers import ServerProcess

_READY = re.compile(r"ready in (\d+) ms")


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
                # serve()'s own figure: knowledge load + bind + start, after Python and imports
                "server_reported_ready_ms": int(match.group(1)) if match else None,
                "idle_rss_mb": memory["vmhwm_sum_mb"],
            }
        )
    times = [run["spawn_to_serving_s"] for run in runs]
    return {
        "command": "regimen-guard serve --port N --workers 1",
        "poll_interval_ms": 10,
        "runs": runs,
        "median_s": statistics.median(times),
        "min_s": min(times),
    }
