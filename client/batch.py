"""`regimen-guard check-batch`: many CheckRegimenRequests (JSON lines) through the batch APIs."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from typing import IO

from google.protobuf import json_format
from google.rpc import code_pb2, status_pb2

from client.backend import Backend
from regimenguard.v1 import regimen_checker_pb2 as pb

CHUNK = 500  # requests per CheckRegimenBatch call: well under the server's default cap of 1,000


def read_requests(lines: Iterable[str]) -> Iterator[pb.CheckRegimenRequest | status_pb2.Status]:
    """One request per non-blank line; a line that is not a request yields an error Status."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            yield json_format.Parse(line, pb.CheckRegimenRequest())
        except json_format.ParseError as error:
            yield status_pb2.Status(
                code=code_pb2.INVALID_ARGUMENT,
                message=f"line {number}: not a CheckRegimenRequest: {error}",
            )


def check_all(
    backend: Backend,
    items: list[pb.CheckRegimenRequest | status_pb2.Status],
    *,
    stream: bool,
    progress: IO[str] | None,
) -> Iterator[pb.CheckRegimenResponse]:
    """Answers in input order; unreadable lines are answered with their error, unsent."""
    total = len(items)
    started = time.monotonic()
    pending = [item for item in items if isinstance(item, pb.CheckRegimenRequest)]
    answers = _stream(backend, pending) if stream else _chunks(backend, pending)
    for done, item in enumerate(items, start=1):
        answer = (
            next(answers)
            if isinstance(item, pb.CheckRegimenRequest)
            else pb.CheckRegimenResponse(error=item)
        )
        if progress is not None and (done == total or done % 100 == 0):
            _draw(progress, done, total, started)
        yield answer
    if progress is not None:
        progress.write("\n")


def _chunks(
    backend: Backend, requests: list[pb.CheckRegimenRequest]
) -> Iterator[pb.CheckRegimenResponse]:
    for start in range(0, len(requests), CHUNK):
        yield from backend.check_batch(requests[start : start + CHUNK])


def _stream(
    backend: Backend, requests: list[pb.CheckRegimenRequest]
) -> Iterator[pb.CheckRegimenResponse]:
    return backend.check_stream(requests)


def _draw(out: IO[str], done: int, total: int, started: float) -> None:
    width = 30
    filled = int(width * done / max(total, 1))
    rate = done / max(time.monotonic() - started, 1e-9)
    out.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} ({rate:,.0f}/s)")
    out.flush()


def progress_stream() -> IO[str] | None:
    """A progress bar only when a person is watching."""
    return sys.stderr if sys.stderr.isatty() else None
