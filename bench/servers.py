"""Starting, watching and stopping the server processes the benchmarks talk to."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from bench import proc

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
LOG_DIR = ROOT / "bench" / "results" / "logs"

FAST_RECONNECT = [
    ("grpc.initial_reconnect_backoff_ms", 10),
    ("grpc.min_reconnect_backoff_ms", 10),
    ("grpc.max_reconnect_backoff_ms", 10),
]


def serve_command(port: int, workers: int) -> list[str]:
    """The real command line: `regimen-guard serve --port N --workers N`."""
    script = VENV_BIN / "regimen-guard"
    if script.exists():
        return [str(script), "serve", "--port", str(port), "--workers", str(workers)]
    return [
        sys.executable,
        "-c",
        "import sys; from regimenguard.client.cli import main; sys.exit(main())",
        "serve",
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]


class ServerProcess:
    """A server subprocess; ``pids()`` is the serve process and its forked workers."""

    def __init__(self, name: str, command: list[str], port: int) -> None:
        self.name = name
        self.command = command
        self.port = port
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        self.log_path = LOG_DIR / f"{name}-{port}.log"
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.spawned = time.perf_counter()
        self.popen = subprocess.Popen(
            command,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=self._log,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self.ready_s: float | None = None
        self.report: dict | None = None
        self._terminated = False

    @classmethod
    def project(cls, port: int, workers: int = 1) -> ServerProcess:
        return cls(f"serve-w{workers}", serve_command(port, workers), port)

    @classmethod
    def empty(cls, port: int) -> ServerProcess:
        return cls("empty", [sys.executable, "-m", "bench.empty_server", "--port", str(port)], port)

    @classmethod
    def counting(cls, port: int) -> ServerProcess:
        return cls(
            "counting", [sys.executable, "-m", "bench.counting_server", "--port", str(port)], port
        )

    def wait_serving(self, timeout: float = 30.0, poll_s: float = 0.010) -> float:
        """Seconds from spawn to health SERVING, polling every ``poll_s``."""
        deadline = self.spawned + timeout
        with grpc.insecure_channel(f"127.0.0.1:{self.port}", options=FAST_RECONNECT) as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            while True:
                if self.popen.poll() is not None:
                    raise RuntimeError(
                        f"{self.name} exited with {self.popen.returncode}; see {self.log_path}"
                    )
                try:
                    answer = stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=0.25)
                    if answer.status == health_pb2.HealthCheckResponse.SERVING:
                        self.ready_s = time.perf_counter() - self.spawned
                        return self.ready_s
                except grpc.RpcError:
                    pass
                if time.perf_counter() > deadline:
                    raise TimeoutError(f"{self.name} not SERVING after {timeout} s")
                time.sleep(poll_s)

    def pids(self) -> list[int]:
        return proc.tree(self.popen.pid)

    def worker_pids(self) -> list[int]:
        """The processes that serve calls: the forked workers, or the process itself."""
        kids = proc.children(self.popen.pid)
        return kids or [self.popen.pid]

    def cpu(self) -> dict[int, float]:
        return proc.tree_cpu(self.pids())

    def memory(self) -> dict:
        pids = self.pids()
        hwm = {pid: proc.status_kb(pid, "VmHWM") for pid in pids}
        return {
            "pids": pids,
            "vmhwm_kb": hwm,
            "vmhwm_sum_mb": sum(hwm.values()) / 1024,
            "vmhwm_max_mb": max(hwm.values(), default=0) / 1024,
            "pss_sum_mb": sum(proc.pss_kb(pid) for pid in pids) / 1024,
        }

    def terminate(self) -> None:
        if self.popen.poll() is None and not self._terminated:
            self.popen.send_signal(signal.SIGTERM)
            self._terminated = True

    def stop(self, timeout: float = 15.0) -> dict | None:
        """SIGTERM (graceful), then the JSON line a bench server prints, if any."""
        self.terminate()
        try:
            out, _ = self.popen.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            for pid in reversed(self.pids()):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            out, _ = self.popen.communicate()
        self._log.close()
        for line in (out or b"").decode(errors="replace").splitlines():
            if line.startswith("{"):
                with contextlib.suppress(ValueError):
                    self.report = json.loads(line)
        return self.report

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.popen.returncode is None:
            self.stop()


def stop_all(*servers: ServerProcess) -> None:
    """SIGTERM every server first, then wait for each: their drain periods overlap."""
    for server in servers:
        server.terminate()
    for server in servers:
        server.stop()


def cpu_delta(before: dict[int, float], after: dict[int, float]) -> dict[int, float]:
    return {pid: after.get(pid, 0.0) - before.get(pid, 0.0) for pid in after}
