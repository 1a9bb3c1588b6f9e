"""Worker processes that survive each other, and never their parent.

The parent forks ``count`` workers and watches them. A worker that dies while the service is
not stopping is logged (which one, its pid, its exit status or the signal that killed it) and
replaced after a back-off (``BACKOFF_FIRST_SECONDS``, doubling for each death in a row up to
``BACKOFF_MAX_SECONDS``; a worker that lived ``STABLE_SECONDS`` resets it). The other workers
keep serving meanwhile. A worker that exits with ``WORKER_STARTUP_FAILED`` (its metrics port is
taken, say) would fail again: the whole server stops with a start-up error.

Each worker exits when its parent dies: the kernel sends it SIGTERM (``PR_SET_PDEATHSIG``, Linux)
and, as a fallback everywhere, a watchdog thread notices that its parent pid changed and sends
SIGTERM itself; SIGTERM is the usual graceful shutdown. So no orphan keeps serving the port.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess

log = logging.getLogger("regimenguard")

# A worker that could not start (its metrics port is taken, say) exits with this status.
WORKER_STARTUP_FAILED = 6
BACKOFF_FIRST_SECONDS = 0.5
BACKOFF_MAX_SECONDS = 30.0
STABLE_SECONDS = 60.0
PARENT_WATCH_SECONDS = 1.0
_PR_SET_PDEATHSIG = 1
POLL_SECONDS = 0.25


def die_with_parent(parent_pid: int) -> None:
    """In a worker: SIGTERM to this process as soon as ``parent_pid`` is gone."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError, TypeError):
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent_pid:  # the parent died before the line above
        os.kill(os.getpid(), signal.SIGTERM)
        return

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(PARENT_WATCH_SECONDS)
        log.warning("worker (pid %d): parent %d is gone, shutting down", os.getpid(), parent_pid)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def describe_exit(exitcode: int | None) -> str:
    """``exited with status 1``, ``was killed by signal 9 (SIGKILL)``."""
    if exitcode is None:
        return "is still running"
    if exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = "unknown signal"
        return f"was killed by signal {-exitcode} ({name})"
    return f"exited with status {exitcode}"


class WorkerStartupFailed(RuntimeError):
    """A worker exited with WORKER_STARTUP_FAILED: its error is logged."""


@dataclass
class _Slot:
    number: int
    process: BaseProcess | None = None
    started: float = 0.0
    deaths_in_a_row: int = 0
    restart_at: float | None = None
    restarts: int = 0

    def backoff(self) -> float:
        return min(BACKOFF_MAX_SECONDS, BACKOFF_FIRST_SECONDS * 2 ** (self.deaths_in_a_row - 1))


@dataclass
class Supervisor:
    """Runs ``count`` workers made by ``spawn(n)`` (an unstarted process) until ``stop``."""

    spawn: Callable[[int], BaseProcess]
    count: int
    grace_seconds: float
    clock: Callable[[], float] = time.monotonic
    slots: list[_Slot] = field(default_factory=list)

    def run(self, stop: threading.Event) -> int:
        """Serve until ``stop`` is set; the exit status (0: every worker stopped cleanly)."""
        self.slots = [_Slot(n) for n in range(self.count)]
        for slot in self.slots:
            self._start(slot)
        try:
            while not stop.is_set():
                self._watch(stop)
        finally:
            statuses = self._stop_all()
        return 0 if all(status == 0 for status in statuses) else 1

    def _start(self, slot: _Slot) -> None:
        process = self.spawn(slot.number)
        process.start()
        slot.process, slot.started, slot.restart_at = process, self.clock(), None
        log.info("worker %d started (pid %d)", slot.number, process.pid)

    def _watch(self, stop: threading.Event) -> None:
        running = [s.process.sentinel for s in self.slots if s.process is not None]
        wait(running, timeout=POLL_SECONDS)
        now = self.clock()
        for slot in self.slots:
            process = slot.process
            if process is not None and process.exitcode is not None:
                process.join()
                slot.process = None
                if stop.is_set():
                    continue
                if process.exitcode == WORKER_STARTUP_FAILED:
                    raise WorkerStartupFailed(
                        f"worker {slot.number} could not start (its error is logged above)"
                    )
                slot.deaths_in_a_row = (
                    1 if now - slot.started >= STABLE_SECONDS else slot.deaths_in_a_row + 1
                )
                delay = slot.backoff()
                slot.restart_at = now + delay
                log.error(
                    "worker %d (pid %d) %s; starting a replacement in %.1f s",
                    slot.number,
                    process.pid,
                    describe_exit(process.exitcode),
                    delay,
                )
            if slot.process is None and slot.restart_at is not None and now >= slot.restart_at:
                if stop.is_set():
                    continue
                slot.restarts += 1
                self._start(slot)

    def _stop_all(self) -> list[int | None]:
        alive = [s.process for s in self.slots if s.process is not None]
        for process in alive:
            if process.exitcode is None and process.pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(process.pid, signal.SIGTERM)
        deadline = self.clock() + self.grace_seconds + 5
        for process in alive:
            process.join(max(0.0, deadline - self.clock()))
            if process.exitcode is None:
                log.error("worker (pid %d) did not stop in time: killing it", process.pid)
                process.kill()
                process.join(5)
        return [process.exitcode for process in alive]
