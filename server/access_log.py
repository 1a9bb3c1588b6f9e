"""The access log: one JSON line per call, an observer of the service layer.

Each line is a JSON object: ``time``, ``method``, ``code``, ``duration_ms``, ``request_id`` (the
caller's correlation id; for a batch or stream, the first item's), ``items``, ``medications``,
``findings``, ``errors`` (items answered with an error), ``verdict`` (a single check), ``peer``
and, under mutual TLS, ``client`` (the certificate's identity). Streams get one line when the
call ends, with their totals. Health checks are logged at DEBUG, server faults at WARNING.

Drug names and patient fields are protected health information: they are logged only when the
operator asks for it (``serve --log-phi``), as ``drugs``, ``patients`` and ``query``.

Off the hot path: the line is formatted once and handed to a sink. ``BufferedSink`` (what
``serve`` uses) appends it to a queue that a background thread writes out every half second, at
``close`` and at exit; ``LoggerSink`` passes it to the ``regimenguard.access`` logger (for a
process that routes its logs itself, and for tests).
"""

from __future__ import annotations

import atexit
import collections
import datetime as dt
import json
import logging
import threading
from typing import IO, Any, Protocol

from regimenguard.regimen.model import PATIENT_CONDITIONS, Patient
from regimenguard.regimen.observers import CallRecord, CheckRecord

ACCESS_LOGGER = "regimenguard.access"
HEALTH_PREFIX = "/grpc.health.v1.Health/"
REQUEST_ID_LIMIT = 200
SERVER_FAULTS = frozenset({"INTERNAL", "UNKNOWN", "DATA_LOSS"})
FLUSH_INTERVAL_SECONDS = 0.5
# A burst larger than this is written at once rather than held for the timer.
MAX_BUFFERED_LINES = 4096
ATOMIC_WRITE_BYTES = 4096  # PIPE_BUF on Linux
_PHI = "access_log.phi"


def configure_access_log(stream: IO[str], level: int | str = logging.INFO) -> logging.Logger:
    """Access lines through the logger go to ``stream`` as bare JSON, not through the root."""
    logger = logging.getLogger(ACCESS_LOGGER)
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
    return logger


class Sink(Protocol):
    def enabled_for(self, level: int) -> bool: ...
    def write(self, level: int, line: str, fields: dict[str, Any]) -> None: ...
    def close(self) -> None: ...


class LoggerSink:
    """Each line as a record of the ``regimenguard.access`` logger (``extra={"access": ...}``)."""

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self._logger = logger or logging.getLogger(ACCESS_LOGGER)

    def enabled_for(self, level: int) -> bool:
        return self._logger.isEnabledFor(level)

    def write(self, level: int, line: str, fields: dict[str, Any]) -> None:
        self._logger.log(level, "%s", line, extra={"access": fields})

    def close(self) -> None:
        pass


class BufferedSink:
    """Lines queued in memory and written to ``stream`` by a timer thread (and at close/exit)."""

    def __init__(
        self,
        stream: IO[str],
        level: int | str = logging.INFO,
        *,
        interval: float = FLUSH_INTERVAL_SECONDS,
        max_lines: int = MAX_BUFFERED_LINES,
    ) -> None:
        self._stream = stream
        self._level = logging._checkLevel(level) if isinstance(level, str) else level  # type: ignore[attr-defined]
        self._lines: collections.deque[str] = collections.deque()
        self._max_lines = max_lines
        self._write_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(interval,), name="access-log", daemon=True
        )
        self._thread.start()
        atexit.register(self.flush)

    def enabled_for(self, level: int) -> bool:
        return level >= self._level

    def write(self, level: int, line: str, fields: dict[str, Any]) -> None:
        self._lines.append(line)  # deque.append is atomic: no lock on the hot path
        if len(self._lines) >= self._max_lines:
            self.flush()

    def flush(self) -> None:
        """Writes out the queued lines, in whole lines of at most ``ATOMIC_WRITE_BYTES`` a
        write where they fit, so that the lines of worker processes sharing one pipe do not
        interleave (a pipe write up to PIPE_BUF is atomic)."""
        with self._write_lock:
            lines = self._lines
            count = len(lines)
            chunk: list[str] = []
            size = 0
            try:
                for _ in range(count):
                    line = lines.popleft()
                    if chunk and size + len(line) + 1 > ATOMIC_WRITE_BYTES:
                        self._write(chunk)
                        chunk, size = [], 0
                    chunk.append(line)
                    size += len(line) + 1  # the lines are ASCII (json.dumps, ensure_ascii)
                if chunk:
                    self._write(chunk)
            except (OSError, ValueError):  # a closed or broken stream: the lines are lost
                lines.clear()

    def _write(self, chunk: list[str]) -> None:
        self._stream.write("\n".join(chunk) + "\n")
        self._stream.flush()

    def close(self) -> None:
        """Stops the timer and writes out what is queued (idempotent)."""
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join()
        self.flush()
        atexit.unregister(self.flush)

    def _run(self, interval: float) -> None:
        while not self._stop.wait(interval):
            self.flush()


class AccessLog:
    """The service-layer observer that writes the access log (see the module's docstring)."""

    def __init__(self, sink: Sink | None = None, *, log_phi: bool = False) -> None:
        self.sink: Sink = sink if sink is not None else LoggerSink()
        self.log_phi = log_phi

    def checked(self, call: CallRecord, check: CheckRecord) -> None:
        if not self.log_phi:
            return
        drugs, patients = call.notes.setdefault(_PHI, ([], []))
        drugs.extend(check.drugs)
        patient = check.patient
        if patient is not None:
            patients.append(_patient_fields(patient))

    def call_ended(self, call: CallRecord) -> None:
        if call.method.startswith(HEALTH_PREFIX):
            level = logging.DEBUG
        elif call.code in SERVER_FAULTS:
            level = logging.WARNING
        else:
            level = logging.INFO
        if not self.sink.enabled_for(level):
            return
        request_id = call.request_id
        fields: dict[str, Any] = {
            "time": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
            "method": call.method,
            "code": call.code,
            "duration_ms": round(call.seconds * 1000, 3),
            "request_id": None if request_id is None else request_id[:REQUEST_ID_LIMIT],
            "items": call.items,
            "medications": call.medications,
            "findings": call.findings,
            "errors": call.errors,
        }
        if call.verdict is not None:
            fields["verdict"] = f"VERDICT_{call.verdict}"
        fields["peer"] = call.peer
        if call.client:
            fields["client"] = call.client
        if self.log_phi:
            if call.items:
                drugs, patients = call.notes.get(_PHI, ([], []))
                fields["drugs"] = drugs
                fields["patients"] = patients
            if call.query is not None:
                fields["query"] = call.query
        self.sink.write(level, json_line(fields), fields)


def json_line(fields: dict[str, Any]) -> str:
    """``json.dumps(fields, ensure_ascii=True, separators=(",", ":"))``: the same encoder, made
    once (``json.dumps`` with arguments builds a new encoder on every call)."""
    return _LINE_ENCODER.encode(fields)


_LINE_ENCODER = json.JSONEncoder(ensure_ascii=True, separators=(",", ":"))


def _patient_fields(patient: Patient) -> dict[str, Any]:
    return {
        "age_years": patient.age_years,
        "pain_duration_weeks": patient.pain_duration_weeks,
        "conditions": [flag for flag in PATIENT_CONDITIONS if getattr(patient, flag)],
    }
