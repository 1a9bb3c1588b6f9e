"""A review job's parameters and its output directory's bookkeeping (shared by both engines)."""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass
from pathlib import Path

from regimenguard.review.tables import InputTable

JOB_FILE = "_job.json"
SUMMARY_FILE = "_summary.json"


@dataclass(frozen=True, slots=True)
class Job:
    input: Path
    out: Path
    as_of: dt.date
    config: Path | None = None

    def identity(self, tables: tuple[InputTable, ...], engine: str) -> dict:
        """What must match for a rerun to reuse the output already written."""
        return {
            "engine": engine,
            "as_of": self.as_of.isoformat(),
            "config": str(self.config) if self.config else None,
            "input": {
                table.name: [
                    [str(path), path.stat().st_size, path.stat().st_mtime_ns]
                    for path in table.files
                ]
                for table in tables
            },
        }


class JobMismatch(ValueError):
    """The output directory holds another job's output."""


def claim_output(out: Path, identity: dict) -> None:
    """Record the job in ``out``; refuse a directory written by a different job."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / JOB_FILE
    if path.exists():
        previous = json.loads(path.read_text(encoding="utf-8"))
        if previous != identity:
            changed = sorted(key for key in identity if previous.get(key) != identity[key])
            raise JobMismatch(
                f"{out} holds a review with a different {', '.join(changed)}: "
                "give a new --out directory (or remove this one)"
            )
        return
    write_json(path, identity)


def write_json(path: Path, value: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(json.dumps(value, indent=2, default=str), encoding="utf-8")
    os.replace(temporary, path)
