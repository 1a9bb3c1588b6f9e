"""A one-line progress bar with rate and ETA, drawn only when standard error is a terminal."""

from __future__ import annotations

import sys
import time
from typing import TextIO


def _duration(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes:02d}:{seconds:02d}"


class Progress:
    """``advance(parts, patients)`` after each partition; silent unless ``stream`` is a TTY."""

    def __init__(self, total_parts: int, done_parts: int = 0, stream: TextIO | None = None):
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = self.stream.isatty()
        self.total = total_parts
        self.done = done_parts
        self.skipped = done_parts
        self.patients = 0
        self.started = time.monotonic()
        self._draw()

    def advance(self, patients: int) -> None:
        self.done += 1
        self.patients += patients
        self._draw()

    def line(self) -> str:
        elapsed = time.monotonic() - self.started
        rate = self.patients / elapsed if elapsed > 0 else 0.0
        fresh = self.done - self.skipped
        remaining = self.total - self.done
        eta = elapsed / fresh * remaining if fresh else 0.0
        width = 24
        filled = width * self.done // self.total if self.total else width
        return (
            f"\rreview [{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} "
            f"partitions  {self.patients:,} patients  {rate:,.0f}/s  ETA {_duration(eta)} "
        )

    def _draw(self) -> None:
        if self.enabled:
            self.stream.write(self.line())
            self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()
