"""A supervisor that supervises: with --workers 2, a worker killed with SIGKILL under load is
logged and replaced while the other keeps answering; killing the parent takes its workers with
it. All on 127.0.0.1, bounded in calls and time."""

from __future__ import annotations

import os
import re
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2

from regimenguard.server.port_owner import PortInUse, probe_port
from regimenguard.server.supervisor import describe_exit
from regimenguard.v1 import regimen_checker_pb2 as pb
from regimenguard.v1 import regimen_checker_pb2_grpc as pb_grpc
from tests.hardening_support import ServerProcess, health_status, review_request

pytestmark = pytest.mark.e2e

CLIENTS = 8
CALLS_PER_CLIENT = 20_000  # a bound; the test stops them long before
RETRY_PAUSE = 0.05
WORKER_STARTED = re.compile(r"worker (\d+) started \(pid (\d+)\)")
# Each channel its own connection, so that the kernel spreads them over both workers.
OWN_CONNECTION = [("grpc.use_local_subchannel_pool", 1)]


def workers(server: ServerProcess) -> dict[int, int]:
    """Worker number -> pid of its latest process, from the server's log."""
    return {int(n): int(pid) for n, pid in WORKER_STARTED.findall(server.log)}


def wait_for(condition, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"not within {timeout} s: {what}")


def gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return True
    return "\nState:\tZ" in state  # a zombie serves nothing


@dataclass
class Load:
    target: str
    stop: threading.Event = field(default_factory=threading.Event)
    ok: list[float] = field(default_factory=list)
    failed: list[tuple[float, grpc.StatusCode]] = field(default_factory=list)
    health: list[tuple[float, bool]] = field(default_factory=list)
    threads: list[threading.Thread] = field(default_factory=list)

    def start(self) -> None:
        self.threads = [threading.Thread(target=self._client, args=(n,)) for n in range(CLIENTS)]
        self.threads.append(threading.Thread(target=self._health))
        for thread in self.threads:
            thread.start()

    def finish(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(30)

    def _client(self, number: int) -> None:
        with grpc.insecure_channel(self.target, options=OWN_CONNECTION) as channel:
            stub = pb_grpc.RegimenCheckerServiceStub(channel)
            for count in range(CALLS_PER_CLIENT):
                if self.stop.is_set():
                    return
                try:
                    # wait_for_ready: a call waits for a connection rather than failing while
                    # the channel reconnects; only a call in flight on the dead worker fails.
                    answer = stub.CheckRegimen(
                        review_request(f"c{number}-{count}"), timeout=10, wait_for_ready=True
                    )
                    assert answer.verdict == pb.VERDICT_REVIEW
                    self.ok.append(time.monotonic())
                except grpc.RpcError as error:
                    self.failed.append((time.monotonic(), error.code()))  # type: ignore[attr-defined]
                    # A client backs off a moment, as any retrying client does, so that its
                    # channel sees the broken connection before it sends again.
                    time.sleep(RETRY_PAUSE)

    def _health(self) -> None:
        while not self.stop.is_set():
            with grpc.insecure_channel(self.target, options=OWN_CONNECTION) as channel:
                try:
                    serving = health_status(channel, timeout=5) == (
                        health_pb2.HealthCheckResponse.SERVING
                    )
                except grpc.RpcError:
                    serving = False
            self.health.append((time.monotonic(), serving))
            time.sleep(0.05)

    def answered_after(self, moment: float) -> int:
        return sum(1 for at in self.ok if at > moment)


def test_a_killed_worker_is_logged_and_replaced_while_the_other_answers(tmp_path: Path) -> None:
    server = ServerProcess.start(tmp_path, "--workers", "2", "--grace", "3")
    load = Load(server.target)
    try:
        server.wait_serving()
        wait_for(lambda: len(workers(server)) == 2, 10, "two workers logged")
        first = workers(server)
        load.start()
        wait_for(lambda: len(load.ok) >= 50, 30, "calls answered before the kill")
        killed_at = time.monotonic()
        os.kill(first[0], signal.SIGKILL)
        wait_for(lambda: workers(server)[0] != first[0], 15, "worker 0 replaced")
        assert f"worker 0 (pid {first[0]}) was killed by signal 9 (SIGKILL)" in server.log
        replaced_at = time.monotonic()
        wait_for(lambda: load.answered_after(replaced_at) >= 50, 30, "calls after the restart")
        # Now the other original worker: the replacement alone carries the service.
        second_kill = time.monotonic()
        os.kill(first[1], signal.SIGKILL)
        wait_for(lambda: load.answered_after(second_kill + 0.5) >= 50, 30, "calls after kill 2")
        wait_for(lambda: workers(server)[1] != first[1], 15, "worker 1 replaced")
    finally:
        load.finish()
        status = server.stop()
    assert status == 0, server.log
    # At most the calls in flight on a killed worker failed: one per client per kill.
    assert len(load.failed) <= 2 * CLIENTS, load.failed
    assert {code for _, code in load.failed} <= {grpc.StatusCode.UNAVAILABLE}, load.failed
    assert all(at >= killed_at for at, _ in load.failed)
    # Answered throughout: calls completed in every second after the first kill.
    ends = load.ok[-1]
    for second in range(int(ends - killed_at)):
        start = killed_at + second
        assert any(start <= at < start + 1 for at in load.ok), f"no answer in second {second}"
    # Health stayed SERVING, but for a check caught on a dying connection (one per kill).
    assert sum(1 for _, serving in load.health if not serving) <= 2, load.health
    assert len(load.health) >= 10


def test_killing_the_parent_takes_its_workers_with_it(tmp_path: Path) -> None:
    server = ServerProcess.start(tmp_path, "--workers", "2", "--grace", "2")
    try:
        server.wait_serving()
        wait_for(lambda: len(workers(server)) == 2, 10, "two workers logged")
        pids = list(workers(server).values())
        os.kill(server.process.pid, signal.SIGKILL)
        server.process.wait(10)
        wait_for(lambda: all(gone(pid) for pid in pids), 20, f"workers {pids} exit")
    finally:
        for pid in workers(server).values():
            if not gone(pid):
                os.kill(pid, signal.SIGKILL)
    with grpc.insecure_channel(server.target) as channel, pytest.raises(grpc.RpcError):
        health_status(channel, timeout=1)
    try:
        probe_port("127.0.0.1", server.port)  # nobody listens there any more
    except PortInUse:
        pytest.fail(f"port {server.port} still in use after the workers exited")


@pytest.mark.parametrize(
    ("exitcode", "text"),
    [
        (0, "exited with status 0"),
        (1, "exited with status 1"),
        (-9, "killed by signal 9 (SIGKILL)"),
    ],
)
def test_exit_descriptions(exitcode: int, text: str) -> None:
    assert text in describe_exit(exitcode)
