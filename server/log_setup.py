"""The server's one logging set-up: every line on standard error is a JSON object.

``configure_logging`` is called once by ``regimen-guard serve``, before anything logs. After it:

- records of every logger (start-up, shutdown, errors, gRPC's and OpenTelemetry's own, Python
  warnings) are one JSON line each: ``time`` (UTC, ISO 8601), ``level``, ``logger``,
  ``message``, ``pid``, and for an exception ``error`` (its type and message) and ``traceback``;
- access-log records (``regimenguard.access``, ``extra={"access": fields}``) are the access
  line itself, the same JSON object ``regimenguard.server.access_log`` writes to its buffered sink, which
  ``serve`` points at the same stream and level;
- an exception nothing caught, in the main thread or another, is logged as such (JSON) before
  the process ends.

Messages never carry patient data: that is each log call's business (see regimenguard.server.access_log for
the access log's ``--log-phi`` policy).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import sys
import threading
from types import TracebackType
from typing import IO, Any

from regimenguard.server.access_log import ACCESS_LOGGER

_HANDLER_NAME = "regimenguard-json"


class JsonFormatter(logging.Formatter):
    """One JSON object per record (see the module's docstring)."""

    def format(self, record: logging.LogRecord) -> str:
        access = getattr(record, "access", None)
        if isinstance(access, dict):
            return json.dumps(access, ensure_ascii=True, separators=(",", ":"))
        fields: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process if record.process is not None else os.getpid(),
        }
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            fields["error"] = f"{type(error).__name__}: {error}"
            fields["traceback"] = self.formatException(record.exc_info)
        elif record.exc_text:
            fields["traceback"] = record.exc_text
        if record.stack_info:
            fields["stack"] = record.stack_info
        return json.dumps(fields, ensure_ascii=True, separators=(",", ":"), default=str)


class _StandardError(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is when a record comes (as logging.lastResort does)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property  # type: ignore[override]
    def stream(self) -> IO[str]:
        return sys.stderr

    @stream.setter
    def stream(self, _value: IO[str]) -> None:
        pass


def configure_logging(stream: IO[str] | None = None, level: int | str = logging.INFO) -> None:
    """Every logger to ``stream`` (default: standard error, as it is at each record) as JSON
    lines at ``level``; idempotent."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        # Ours from an earlier call, and the default stream handlers (basicConfig's); a
        # host's own handlers (a test runner's capture) stay.
        if handler.get_name() == _HANDLER_NAME or type(handler) is logging.StreamHandler:
            root.removeHandler(handler)
    handler = _StandardError() if stream is None else logging.StreamHandler(stream)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    root.setLevel(level)
    # The access log goes through the same handler (when it is not buffered, see regimenguard.server.app).
    access = logging.getLogger(ACCESS_LOGGER)
    for own in list(access.handlers):
        access.removeHandler(own)
    access.propagate = True
    access.setLevel(level)
    logging.captureWarnings(True)
    sys.excepthook = _log_uncaught
    threading.excepthook = _log_uncaught_in_thread


def _log_uncaught(
    kind: type[BaseException], error: BaseException, traceback: TracebackType | None
) -> None:
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, error, traceback)
        return
    logging.getLogger("regimenguard").critical(
        "uncaught exception", exc_info=(kind, error, traceback)
    )


def _log_uncaught_in_thread(args: threading.ExceptHookArgs) -> None:
    if args.exc_type is SystemExit or args.exc_value is None:
        return
    name = args.thread.name if args.thread is not None else "?"
    logging.getLogger("regimenguard").error(
        "uncaught exception in thread %s",
        name,
        exc_info=(args.exc_type, args.exc_value, args.exc_traceback),
    )
