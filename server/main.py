"""`regimen-guard serve`: start-up, signals, graceful shutdown, worker processes, metrics.

Metrics (``--metrics-port``) are per process: each worker counts its own calls and serves them on
a port of its own, worker k (from 0) on ``metrics_port + k``; Prometheus scrapes every one of
them and sums. With one worker the port is exactly the one given; port 0 takes any free port in
every process (each logs the one it got).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path

from interactions.datafile import DataError
from regimen.engine import RegimenChecker
from regimen.headlines import check_headlines
from regimen.knowledge import load_knowledge
from regimen.settings import SettingsError, load_settings
from server.app import DEFAULT_GRACE_SECONDS, SERVICE_NAME, ServerOptions, create_server

log = logging.getLogger("regimenguard")


# After SIGTERM, health says NOT_SERVING this long (at most a quarter of the grace period)
# while calls are still answered, so that balancers and health checkers see it first.
DEFAULT_DRAIN_SECONDS = 1.0


@dataclass(frozen=True)
class ServeConfig:
    options: ServerOptions
    workers: int = 1
    grace_seconds: float = DEFAULT_GRACE_SECONDS
    config_path: Path | None = None
    drain_seconds: float | None = None  # None: min(1 s, grace / 4)
    # Prometheus /metrics on this port (worker k: metrics_port + k, unless 0); None: off.
    metrics_port: int | None = None

    @property
    def drain(self) -> float:
        if self.drain_seconds is not None:
            return max(0.0, min(self.drain_seconds, self.grace_seconds))
        return max(0.0, min(DEFAULT_DRAIN_SECONDS, self.grace_seconds / 4))


class StartupError(RuntimeError):
    """The server cannot start (bad data, bad configuration, port in use)."""


def load_checker(config_path: Path | None) -> RegimenChecker:
    try:
        checker = RegimenChecker(load_knowledge(load_settings(config_path)))
        check_headlines(checker.rule_ids)  # every rule's finding has a headline
        return checker
    except (DataError, SettingsError) as error:
        raise StartupError(str(error)) from None


def serve(config: ServeConfig) -> int:
    """Serve until SIGTERM or SIGINT; returns the process exit status."""
    started = time.perf_counter()
    checker = load_checker(config.config_path)  # once, before any worker is forked
    if config.workers <= 1:
        return _serve_one(checker, config, started)
    if config.options.port == 0:
        raise StartupError("several workers share one port: give --port, not 0")
    return _serve_workers(checker, config, started)


def _start_metrics(checker: RegimenChecker, config: ServeConfig):  # type: ignore[no-untyped-def]
    """Metrics served on the configured port, or None when they are off."""
    if config.metrics_port is None:
        return None
    from server.metrics import Metrics  # prometheus_client only when metrics are on

    metrics = Metrics(checker.knowledge.version)
    host = config.options.host
    try:
        port = metrics.start(config.metrics_port, host)
    except OSError as error:
        raise StartupError(
            f"cannot serve metrics on {host}:{config.metrics_port}: {error.strerror or error}"
        ) from None
    log.info("metrics on http://%s:%d/metrics (pid %d)", host, port, os.getpid())
    return metrics


def _serve_one(checker: RegimenChecker, config: ServeConfig, started: float) -> int:
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    metrics = _start_metrics(checker, config)
    try:
        try:
            running = create_server(checker, replace(config.options, metrics=metrics))
        except RuntimeError as error:  # grpcio raises "Failed to bind to address ..."
            raise StartupError(
                f"cannot bind {config.options.host}:{config.options.port}: {error}"
            ) from None
        if running.port == 0:
            raise StartupError(f"cannot bind {config.options.host}:{config.options.port}")
    except StartupError:
        if metrics is not None:
            metrics.stop()
        raise
    running.start()
    options = config.options
    if options.tls is not None:
        transport = "mutual TLS" if options.tls.mutual else "TLS"
    else:
        transport = "TLS" if options.credentials is not None else "plaintext"
    log.info(
        "serving %s on port %d, %s (pid %d, knowledge base %s, ready in %.0f ms)",
        SERVICE_NAME,
        running.port,
        transport,
        os.getpid(),
        checker.knowledge.version,
        (time.perf_counter() - started) * 1000,
    )
    stop.wait()
    log.info(
        "shutting down: NOT_SERVING, draining %.1f s, finishing in-flight calls (grace %.1f s)",
        config.drain,
        config.grace_seconds,
    )
    running.stop(config.grace_seconds, drain=config.drain)
    if metrics is not None:
        metrics.stop()  # last, so that the shutdown itself can still be scraped
    log.info("stopped")
    return 0


# A worker that could not start (its metrics port is taken, say) exits with this status.
WORKER_STARTUP_FAILED = 6


def _worker(checker: RegimenChecker, config: ServeConfig, started: float) -> None:
    try:
        status = _serve_one(checker, config, started)
    except StartupError as error:
        log.error("worker (pid %d) cannot start: %s", os.getpid(), error)
        status = WORKER_STARTUP_FAILED
    sys.exit(status)


def _nth_worker(config: ServeConfig, n: int) -> ServeConfig:
    """Worker n's configuration: its own metrics port, metrics_port + n (0 stays 0)."""
    if not config.metrics_port:
        return config
    return replace(config, metrics_port=config.metrics_port + n)


def _serve_workers(checker: RegimenChecker, config: ServeConfig, started: float) -> int:
    """N processes on one port (SO_REUSEPORT); the kernel spreads connections among them."""
    worker_config = replace(config, options=replace(config.options, reuse_port=True))
    context = multiprocessing.get_context("fork")
    workers = [
        context.Process(
            target=_worker,
            args=(checker, _nth_worker(worker_config, n), started),
            name=f"worker-{n}",
        )
        for n in range(config.workers)
    ]
    for worker in workers:
        worker.start()
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    while not stop.is_set() and all(worker.is_alive() for worker in workers):
        stop.wait(0.5)
    for worker in workers:
        if worker.is_alive() and worker.pid is not None:
            os.kill(worker.pid, signal.SIGTERM)
    for worker in workers:
        worker.join(config.grace_seconds + 5)
    if any(worker.exitcode == WORKER_STARTUP_FAILED for worker in workers):
        raise StartupError("a worker could not start (its error is logged above)")
    return 0 if all(worker.exitcode == 0 for worker in workers) else 1
