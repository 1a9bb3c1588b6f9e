"""`regimen-guard serve`: start-up, signals, graceful shutdown, worker processes, metrics.

Metrics (``--metrics-port``) are per process: each worker counts its own calls and serves them on
a port of its own, worker k (from 0) on ``metrics_port + k``; Prometheus scrapes every one of
them and sums. With one worker the port is exactly the one given; port 0 takes any free port in
every process (each logs the one it got).
"""

from __future__ import annotations

import gc
import ipaddress
import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass, replace
from multiprocessing.process import BaseProcess
from pathlib import Path

from regimenguard.interactions.datafile import DataError
from regimenguard.regimen.engine import RegimenChecker
from regimenguard.regimen.headlines import check_headlines
from regimenguard.regimen.knowledge import load_knowledge
from regimenguard.regimen.settings import SettingsError, load_settings
from regimenguard.server.app import (
    DEFAULT_GRACE_SECONDS,
    SERVICE_NAME,
    ServerOptions,
    create_server,
)
from regimenguard.server.memory import limit_malloc_arenas
from regimenguard.server.port_owner import PortInUse, claim_port, probe_port
from regimenguard.server.startup_error import StartupError
from regimenguard.server.supervisor import (
    WORKER_STARTUP_FAILED,
    Supervisor,
    WorkerStartupFailed,
    die_with_parent,
)

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
    # The HTTP door (CDS Hooks, JSON API, page) on this port, every worker sharing it; None: off.
    http_port: int | None = None

    @property
    def drain(self) -> float:
        if self.drain_seconds is not None:
            return max(0.0, min(self.drain_seconds, self.grace_seconds))
        return max(0.0, min(DEFAULT_DRAIN_SECONDS, self.grace_seconds / 4))


def load_checker(config_path: Path | None, *, loaded: list[float] | None = None) -> RegimenChecker:
    """The checker over the knowledge base and the site's configuration; StartupError when
    either is refused. ``loaded`` receives the perf_counter() time the knowledge base was loaded."""
    try:
        settings = load_settings(config_path)
        knowledge = load_knowledge(settings)
        if loaded is not None:
            loaded.append(time.perf_counter())
        checker = RegimenChecker(knowledge)
        check_headlines(checker.rule_ids)  # every rule's finding has a headline
        return checker
    except (DataError, SettingsError) as error:
        raise StartupError(str(error)) from None


def serve(config: ServeConfig) -> int:
    """Serve until SIGTERM or SIGINT; returns the process exit status."""
    started = time.perf_counter()
    limit_malloc_arenas()  # before any thread starts (regimenguard.server.memory)
    gc.disable()  # nothing start-up builds is garbage (see below)
    marks: list[float] = []
    try:
        # once, before any worker is forked
        checker = load_checker(config.config_path, loaded=marks)
    finally:
        # What start-up built lives until exit: moved out of the collector's generations, it is
        # never traversed again (and forked workers share its pages instead of copying them).
        gc.freeze()
        gc.enable()  # on from here, whoever turned it off (the command line does, for imports)
    if config.workers > 1 and config.options.port == 0:
        raise StartupError("several workers share one port: give --port, not 0")
    loaded = marks[0]
    try:
        owner = claim_port(config.options.host, config.options.port)
    except PortInUse as error:
        raise StartupError(str(error)) from None
    try:
        if config.workers <= 1:
            return _serve_one(checker, config, started, loaded)
        return _serve_workers(checker, config, started, loaded)
    finally:
        owner.release()


def _start_metrics(checker: RegimenChecker, config: ServeConfig):  # type: ignore[no-untyped-def]
    """Metrics served on the configured port, or None when they are off."""
    if config.metrics_port is None:
        return None
    from regimenguard.server.metrics import Metrics  # prometheus_client only when metrics are on

    metrics = Metrics(checker.knowledge.version, order_records=checker.order_records)
    host = config.options.host
    try:
        port = metrics.start(config.metrics_port, host)
    except OSError as error:
        raise StartupError(
            f"cannot serve metrics on {host}:{config.metrics_port}: {error.strerror or error}"
        ) from None
    log.info("metrics on http://%s:%d/metrics (pid %d)", host, port, os.getpid())
    return metrics


def _telemetry(options: ServerOptions, metrics, tracing, *, aio: bool = False):  # type: ignore[no-untyped-def]
    """``options`` with gRPC's standard metrics (beside ours) and tracing, when they are on;
    ``aio``: the interceptors for a grpc.aio server instead of a thread-pool one."""
    outer = list(options.outer_interceptors)
    observers = list(options.observers)
    if metrics is not None:
        from regimenguard.server.grpc_metrics import GrpcServerMetrics

        standard = GrpcServerMetrics(metrics.registry)
        outer.append(standard.aio_interceptor() if aio else standard.interceptor())
    if tracing is not None:
        outer.extend(tracing.aio_interceptors() if aio else tracing.interceptors())
        observers.append(tracing.check_spans)
    return replace(options, metrics=metrics, outer_interceptors=outer, observers=observers)


def _start_tracing(checker: RegimenChecker):  # type: ignore[no-untyped-def]
    """Tracing over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT asks for it (regimenguard.server.tracing)."""
    from regimenguard.server.tracing import Tracing, tracing_requested

    if not tracing_requested():
        return None
    tracing = Tracing.from_environment(version=checker.knowledge.version)
    log.info("tracing: spans exported over OTLP (pid %d)", os.getpid())
    return tracing


def _serve_one(checker: RegimenChecker, config: ServeConfig, started: float, loaded: float) -> int:
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    metrics = _start_metrics(checker, config)
    tracing = _start_tracing(checker)  # in each worker: its exporter thread is its own
    try:
        try:
            running = create_server(checker, _telemetry(config.options, metrics, tracing, aio=True))
        except RuntimeError as error:  # grpcio raises "Failed to bind to address ..."
            raise StartupError(_bind_failure(config.options, error)) from None
        if running.port == 0:
            raise StartupError(f"cannot bind {config.options.host}:{config.options.port}")
    except StartupError:
        if metrics is not None:
            metrics.stop()
        if tracing is not None:
            tracing.shutdown()
        raise
    running.start()
    http = None
    if config.http_port is not None:
        from regimenguard.server.http.door import (
            start_http_door,  # starlette/uvicorn only with --http-port
        )

        try:
            http = start_http_door(
                checker,
                config.options,
                port=config.http_port,
                config_path=config.config_path,
                metrics=metrics,
                grace_seconds=config.grace_seconds,
            )
        except ValueError as error:
            running.stop(0)
            if metrics is not None:
                metrics.stop()
            raise StartupError(str(error)) from None
    options = config.options
    warning = plaintext_warning(options)
    if warning:
        log.warning("%s", warning)
    if options.tls is not None:
        transport = "mutual TLS" if options.tls.mutual else "TLS"
    else:
        transport = "TLS" if options.credentials is not None else "plaintext"
    log.info(
        "serving %s on port %d, %s (pid %d, knowledge base %s loaded in %.0f ms, ready in %.0f ms)",
        SERVICE_NAME,
        running.port,
        transport,
        os.getpid(),
        checker.knowledge.version,
        (loaded - started) * 1000,
        (time.perf_counter() - started) * 1000,
    )
    stop.wait()
    log.info(
        "shutting down: NOT_SERVING, draining %.1f s, finishing in-flight calls (grace %.1f s)",
        config.drain,
        config.grace_seconds,
    )
    if http is not None:
        http.not_serving()
    running.stop(config.grace_seconds, drain=config.drain)
    if http is not None:
        http.stop()
    if tracing is not None:
        tracing.shutdown()  # exports the spans still pending
    if metrics is not None:
        metrics.stop()  # last, so that the shutdown itself can still be scraped
    log.info("stopped")
    return 0


def is_loopback(host: str) -> bool:
    """True for localhost, 127.0.0.0/8 and ::1 (brackets allowed)."""
    name = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if name.casefold() == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def plaintext_warning(options: ServerOptions) -> str | None:
    """The start-up warning for plaintext on an address other machines can reach, or None."""
    if options.tls is not None or options.credentials is not None or is_loopback(options.host):
        return None
    return (
        f"plaintext on {options.host}, which is not a loopback address: anyone who can reach "
        "it can call the service (reflection included) and read its answers; use "
        "--tls-cert/--tls-key (and --tls-client-ca), or a TLS-terminating proxy on a network "
        "you trust"
    )


def _bind_failure(options: ServerOptions, error: Exception) -> str:
    """One line for a failed bind: "port N is already in use" when that is why."""
    if not options.reuse_port:  # a worker's siblings share its port: no probe then
        try:
            probe_port(options.host, options.port)
        except PortInUse as in_use:
            return str(in_use)
    return f"cannot bind {options.host}:{options.port}: {error}"


def _worker(
    checker: RegimenChecker, config: ServeConfig, started: float, loaded: float, parent: int
) -> None:
    die_with_parent(parent)
    try:
        status = _serve_one(checker, config, started, loaded)
    except StartupError as error:
        log.error("worker (pid %d) cannot start: %s", os.getpid(), error)
        status = WORKER_STARTUP_FAILED
    sys.exit(status)


def _nth_worker(config: ServeConfig, n: int) -> ServeConfig:
    """Worker n's configuration: its own metrics port, metrics_port + n (0 stays 0)."""
    if not config.metrics_port:
        return config
    return replace(config, metrics_port=config.metrics_port + n)


def _serve_workers(
    checker: RegimenChecker, config: ServeConfig, started: float, loaded: float
) -> int:
    """N processes on one port (SO_REUSEPORT); the kernel spreads connections among them, and
    a supervisor replaces any that dies (regimenguard.server.supervisor)."""
    worker_config = replace(config, options=replace(config.options, reuse_port=True))
    context = multiprocessing.get_context("fork")
    parent = os.getpid()

    def spawn(n: int) -> BaseProcess:
        return context.Process(
            target=_worker,
            args=(checker, _nth_worker(worker_config, n), started, loaded, parent),
            name=f"worker-{n}",
        )

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    supervisor = Supervisor(spawn, config.workers, config.grace_seconds)
    try:
        return supervisor.run(stop)
    except WorkerStartupFailed as error:
        raise StartupError(str(error)) from None
