"""`regimen-guard check-batch`: CheckRegimenRequests (JSON lines) through the batch APIs, streamed.

The input is read a line at a time and answered in chunks (or over the CheckRegimens stream),
so a file of a million lines never sits in memory. A TTY gets a progress line with the rate
and an ETA; every run ends with a summary on stderr: counts by verdict, the lines that failed
and why.
"""

from __future__ import annotations

import io
import itertools
import os
import sys
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, BinaryIO

from google.protobuf import json_format
from google.rpc import code_pb2, status_pb2

from regimenguard.client.backend import Backend, item_error
from regimenguard.v1 import regimen_checker_pb2 as pb

CHUNK = 500  # requests per CheckRegimenBatch call: well under the server's default cap of 1,000
FAILURES_SHOWN = 20  # failed lines listed in the summary; the rest are counted
REDRAW_SECONDS = 0.2
VERDICT_NAMES = {
    pb.VERDICT_ACCEPT: "ACCEPT",
    pb.VERDICT_REVIEW: "REVIEW",
    pb.VERDICT_REJECT: "REJECT",
}


@dataclass(frozen=True, slots=True)
class Item:
    """One input line: its number, and the request it holds or why it holds none."""

    line: int
    request: pb.CheckRegimenRequest | None = None
    error: status_pb2.Status | None = None


@dataclass(slots=True)
class Source:
    """Lines of input, counting the bytes read so far (for the ETA) when the size is known."""

    lines: Iterable[bytes | str]
    total_bytes: int | None = None
    read_bytes: int = 0

    @classmethod
    def of(cls, stream: IO[str] | BinaryIO) -> Source:
        """A text stream as it is; a binary one with its size, when it has one, for the ETA."""
        if isinstance(stream, io.TextIOBase):
            return cls(stream)
        try:
            size = os.fstat(stream.fileno()).st_size
        except (OSError, ValueError, io.UnsupportedOperation):
            size = 0
        return cls(stream, size if size > 0 else None)

    def __iter__(self) -> Iterator[bytes | str]:
        for raw in self.lines:
            if isinstance(raw, bytes):
                self.read_bytes += len(raw)
            yield raw


def read_requests(source: Iterable[bytes | str]) -> Iterator[Item]:
    """One item per non-blank line, lazily; a line that is not a request is an error item."""
    for number, raw in enumerate(source, start=1):
        try:
            line = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        except UnicodeDecodeError as error:
            yield _bad(number, f"not UTF-8 text (byte {error.start})")
            continue
        if not line.strip():
            continue
        try:
            yield Item(number, request=json_format.Parse(line, pb.CheckRegimenRequest()))
        except json_format.ParseError as error:
            first = str(error).splitlines()[0] if str(error) else "unreadable"
            yield _bad(number, f"not a CheckRegimenRequest: {first}")


def _bad(number: int, why: str) -> Item:
    status = status_pb2.Status(code=code_pb2.INVALID_ARGUMENT, message=f"line {number}: {why}")
    return Item(number, error=status)


def check_all(
    backend: Backend, items: Iterable[Item], *, stream: bool
) -> Iterator[tuple[Item, pb.CheckRegimenResponse]]:
    """Each item with its answer, in input order; unreadable lines are answered unsent."""
    return _streamed(backend, items) if stream else _chunked(backend, items)


def _answer_of_error(item: Item) -> pb.CheckRegimenResponse:
    return pb.CheckRegimenResponse(error=item.error)


def _chunked(
    backend: Backend, items: Iterable[Item]
) -> Iterator[tuple[Item, pb.CheckRegimenResponse]]:
    source = iter(items)
    while chunk := list(itertools.islice(source, CHUNK)):
        requests = [item.request for item in chunk if item.request is not None]
        answers = iter(backend.check_batch(requests) if requests else [])
        for item in chunk:
            yield item, (next(answers) if item.request is not None else _answer_of_error(item))


def _streamed(
    backend: Backend, items: Iterable[Item]
) -> Iterator[tuple[Item, pb.CheckRegimenResponse]]:
    pending: deque[Item] = deque()  # read but not yet answered, in input order

    def requests() -> Iterator[pb.CheckRegimenRequest]:
        for item in items:
            pending.append(item)
            if item.request is not None:
                yield item.request

    for answer in backend.check_stream(requests()):
        while pending[0].request is None:
            item = pending.popleft()
            yield item, _answer_of_error(item)
        yield pending.popleft(), answer
    while pending:
        item = pending.popleft()
        yield item, _answer_of_error(item)


@dataclass(slots=True)
class Summary:
    """Counts by verdict and the lines that failed, for the end of a run."""

    verdicts: Counter[str] = field(default_factory=Counter)
    failures: list[tuple[int, str]] = field(default_factory=list)
    failed: int = 0

    def add(self, item: Item, answer: pb.CheckRegimenResponse) -> None:
        if answer.HasField("error"):
            self.failed += 1
            if len(self.failures) < FAILURES_SHOWN:
                failed = item_error(answer)
                why = answer.error.message if item.request is None else str(failed)
                self.failures.append((item.line, why.removeprefix(f"line {item.line}: ")))
        else:
            self.verdicts[VERDICT_NAMES.get(answer.verdict, "UNSPECIFIED")] += 1

    @property
    def verdicts_seen(self) -> frozenset[str]:
        return frozenset(name for name, count in self.verdicts.items() if count)

    @property
    def total(self) -> int:
        return sum(self.verdicts.values()) + self.failed

    def render(self) -> str:
        counts = ", ".join(
            f"{self.verdicts.get(name, 0):,} {name}" for name in ("ACCEPT", "REVIEW", "REJECT")
        )
        lines = [f"checked {self.total:,} regimens: {counts}, {self.failed:,} failed"]
        lines += [f"  line {line}: {why}" for line, why in self.failures]
        if self.failed > len(self.failures):
            lines.append(f"  ... and {self.failed - len(self.failures):,} more failed lines")
        return "\n".join(lines) + "\n"


def run(
    backend: Backend,
    source: Source,
    out: IO[str],
    *,
    stream: bool,
    progress: Progress | None,
    line_of: Callable[[pb.CheckRegimenResponse], str],
) -> Summary:
    """Check every line of ``source``, writing each answer to ``out`` as it comes (in order)."""
    summary = Summary()
    try:
        for item, answer in check_all(backend, read_requests(source), stream=stream):
            out.write(line_of(answer) + "\n")
            summary.add(item, answer)
            if progress is not None:
                progress.update(summary.total)
        if progress is not None:
            progress.update(summary.total, final=True)
    except KeyboardInterrupt:
        sys.stderr.write("\ninterrupted: " + summary.render())
        raise
    return summary


class Progress:
    """``12,345 checked  2,310/s  ETA 0:42`` redrawn in place on a terminal."""

    def __init__(self, out: IO[str], source: Source) -> None:
        self._out = out
        self._source = source
        self._started = time.monotonic()
        self._drawn = 0.0

    def update(self, done: int, *, final: bool = False) -> None:
        now = time.monotonic()
        if not final and now - self._drawn < REDRAW_SECONDS:
            return
        self._drawn = now
        elapsed = max(now - self._started, 1e-9)
        text = f"\r{done:,} checked  {done / elapsed:,.0f}/s"
        total, read = self._source.total_bytes, self._source.read_bytes
        if total and read:
            fraction = min(read / total, 1.0)
            remaining = elapsed * (1 - fraction) / fraction
            text += f"  {fraction:.0%}  ETA {int(remaining // 60)}:{int(remaining % 60):02d}"
        self._out.write(text + ("\n" if final else ""))
        self._out.flush()


def progress_stream() -> IO[str] | None:
    """Progress only when a person is watching."""
    return sys.stderr if sys.stderr.isatty() else None
