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
import json
import logging
import threading
import time
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
    # Whether ``write`` uses the line's fields as a dict (else it is given None; a sink without
    # the attribute is given them).
    wants_fields: bool

    def enabled_for(self, level: int) -> bool: ...
    def write(self, level: int, line: str, fields: dict[str, Any] | None) -> None: ...
    def close(self) -> None: ...


class LoggerSink:
    """Each line as a record of the ``regimenguard.access`` logger (``extra={"access": ...}``)."""

    wants_fields = True

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self._logger = logger or logging.getLogger(ACCESS_LOGGER)

    def enabled_for(self, level: int) -> bool:
        return self._logger.isEnabledFor(level)

    def write(self, level: int, line: str, fields: dict[str, Any] | None) -> None:
        self._logger.log(level, "%s", line, extra={"access": fields})

    def close(self) -> None:
        pass


class BufferedSink:
    """Lines queued in memory and written to ``stream`` by a timer thread (and at close/exit)."""

    wants_fields = False  # the line is all it writes

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

    def write(self, level: int, line: str, fields: dict[str, Any] | None) -> None:
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
        # A sink that does not say so is given the fields too.
        self._fields_wanted = getattr(self.sink, "wants_fields", True)

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
        sink = self.sink
        if not sink.enabled_for(level):
            return
        stamp = line_time()
        phi = self._phi(call) if self.log_phi else None
        fields = access_fields(call, stamp, phi) if self._fields_wanted else None
        sink.write(level, access_line(call, stamp, phi), fields)

    def _phi(self, call: CallRecord) -> dict[str, Any]:
        """The protected health information a ``--log-phi`` line adds."""
        phi: dict[str, Any] = {}
        if call.items:
            drugs, patients = call.notes.get(_PHI, ([], []))
            phi["drugs"] = drugs
            phi["patients"] = patients
        if call.query is not None:
            phi["query"] = call.query
        return phi


def access_fields(call: CallRecord, time: str, phi: dict[str, Any] | None = None) -> dict[str, Any]:
    """The access line of ``call`` as a dict (what ``LoggerSink`` hands on as ``extra``)."""
    request_id = call.request_id
    fields: dict[str, Any] = {
        "time": time,
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
    if phi:
        fields.update(phi)
    return fields


def access_line(call: CallRecord, time: str, phi: dict[str, Any] | None = None) -> str:
    """``json_line(access_fields(call, time, phi))``, written field by field: the same text
    (a test holds them equal), at half the instructions of the generic encoder, which builds
    the dict, an encoder and a list of pieces for every line."""
    request_id = call.request_id
    verdict = call.verdict
    client = call.client
    line = (
        f'{{"time":"{time}","method":{_text(call.method)},"code":{_text(call.code)},'
        f'"duration_ms":{milliseconds_text(call.seconds)},'
        f'"request_id":{"null" if request_id is None else _text(request_id[:REQUEST_ID_LIMIT])},'
        f'"items":{call.items},"medications":{call.medications},'
        f'"findings":{call.findings},"errors":{call.errors},'
        f"{'' if verdict is None else _VERDICT_FIELD % _text('VERDICT_' + verdict)}"
        f'"peer":{_text(call.peer)}{_CLIENT_FIELD % _text(client) if client else ""}'
    )
    if phi:
        return f"{line},{json_line(phi)[1:]}"
    return line + "}"


_VERDICT_FIELD = '"verdict":%s,'
_CLIENT_FIELD = ',"client":%s'
_text = json.encoder.encode_basestring_ascii  # a JSON string, as json.dumps writes it


def milliseconds_text(seconds: float) -> str:
    """``repr(round(seconds * 1000, 3))``, the text json.dumps writes for ``duration_ms``, with
    one conversion instead of two: the digits of ``"%.3f"`` (rounded as ``round`` rounds), its
    trailing zeros cut as ``repr`` cuts them. The same text for up to 15 significant digits
    (a test holds them equal); past 10**9 s, repr's own."""
    if not -1e9 < seconds < 1e9:
        return repr(round(seconds * 1000, 3))
    text = f"{seconds * 1000:.3f}".rstrip("0")
    return text + "0" if text[-1] == "." else text


def json_line(fields: dict[str, Any]) -> str:
    """``json.dumps(fields, ensure_ascii=True, separators=(",", ":"))``: the same encoder, made
    once (``json.dumps`` with arguments builds a new encoder on every call)."""
    return _LINE_ENCODER.encode(fields)


_LINE_ENCODER = json.JSONEncoder(ensure_ascii=True, separators=(",", ":"))
# Zero-padded numbers, made once: formatting each with a width costs more than a lookup.
_TWO_DIGITS = tuple(f"{number:02d}" for number in range(100))
_THREE_DIGITS = tuple(f"{number:03d}" for number in range(1000))


def line_time() -> str:
    """Now, as ``dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")`` writes it
    (``2026-12-01T10:00:00.123+00:00``), at half its instructions."""
    seconds, nanoseconds = divmod(time.time_ns(), 1_000_000_000)
    return utc_text(seconds, nanoseconds // 1_000_000)


def utc_text(seconds: int, milliseconds: int) -> str:
    """``seconds`` since the epoch and ``milliseconds`` (0-999), in UTC, as ``isoformat``."""
    year, month, day, hour, minute, second = time.gmtime(seconds)[:6]
    two = _TWO_DIGITS
    return (
        f"{year:04d}-{two[month]}-{two[day]}T{two[hour]}:{two[minute]}:{two[second]}"
        f".{_THREE_DIGITS[milliseconds]}+00:00"
    )


def _patient_fields(patient: Patient) -> dict[str, Any]:
    return {
        "age_years": patient.age_years,
        "pain_duration_weeks": patient.pain_duration_weeks,
        "conditions": [flag for flag in PATIENT_CONDITIONS if getattr(patient, flag)],
    }
