"""Starting the HTTP door beside the gRPC server (``serve --http-port N``): the wiring only."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from regimenguard.interactions.datafile import DataError
from regimenguard.regimen.engine import RegimenChecker
from regimenguard.regimen.settings import SettingsError
from regimenguard.server.app import ServerOptions, observed_service
from regimenguard.server.convert import today_utc
from regimenguard.server.http.app import create_http_app
from regimenguard.server.http.auth import load_security
from regimenguard.server.http.metrics import HttpMetrics
from regimenguard.server.http.server import HttpServer

if TYPE_CHECKING:
    from regimenguard.server.access_log import Sink
    from regimenguard.server.metrics import Metrics

log = logging.getLogger("regimenguard")


class RunningHttpDoor:
    def __init__(self, server: HttpServer, sink: Sink | None) -> None:
        self.server = server
        self.sink = sink

    def not_serving(self) -> None:
        """/healthz says NOT_SERVING (at the moment the gRPC health does)."""
        self.server.app.state.health.serving = False

    def stop(self) -> None:
        self.server.stop()
        if self.sink is not None:
            self.sink.close()


def start_http_door(
    checker: RegimenChecker,
    options: ServerOptions,
    *,
    port: int,
    config_path: Path | None,
    metrics: Metrics | None,
    grace_seconds: float,
    today: Callable[[], dt.date] = today_utc,
) -> RunningHttpDoor:
    """Raises ValueError (a start-up error to report) when it cannot be configured or bound."""
    try:
        security = load_security(config_path)
    except SettingsError as error:
        raise ValueError(str(error)) from None
    service, sink = observed_service(checker, replace(options, metrics=metrics))
    try:
        app = create_http_app(
            service,
            security=security,
            metrics=HttpMetrics(metrics.registry if metrics is not None else None),
            today=today,
        )
        server = HttpServer(
            app,
            host=options.host,
            port=port,
            tls=options.tls,
            reuse_port=options.reuse_port,
            grace_seconds=grace_seconds,
        )
        bound = server.start()
    except (DataError, OSError) as error:
        if sink is not None:
            sink.close()
        raise ValueError(f"cannot serve HTTP on {options.host}:{port}: {error}") from None
    log.info(
        "serving HTTP (CDS Hooks, JSON API, page) on %s://%s:%d, token verification %s",
        server.scheme,
        options.host,
        bound,
        "on" if security.verify_tokens else "OFF (trusted network)",
    )
    return RunningHttpDoor(server, sink)
