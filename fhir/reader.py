"""Typed reads of FHIR JSON that name every bad element by its FHIRPath.

A value of the wrong JSON type is input that cannot be checked: it is collected as an ``Issue``
(FHIRPath plus a sentence) and ``Reader.raise_if_invalid`` raises ``FhirInvalid`` with all of
them, which the HTTP door answers with 400 and an OperationOutcome. Elements the mapping does
not use (extensions it does not know, narrative, meta) are never looked at.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from typing import Any

_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")
MAX_NUMBER = 1_000_000.0  # far beyond any real dose, count or duration


@dataclass(frozen=True, slots=True)
class Issue:
    expression: str  # FHIRPath of the element, e.g. MedicationRequest.dosageInstruction[0]
    diagnostics: str
    where: str = ""  # which resource of the request, e.g. context.draftOrders.entry[0].resource


class FhirInvalid(ValueError):
    def __init__(self, issues: list[Issue] | tuple[Issue, ...]) -> None:
        self.issues = tuple(issues)
        super().__init__("; ".join(f"{i.expression}: {i.diagnostics}" for i in self.issues[:5]))

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (FhirInvalid, (self.issues,))


class Reader:
    """Collects issues while the mapping reads; ``path`` strings are FHIRPath expressions."""

    def __init__(self, where: str = "", issues: list[Issue] | None = None) -> None:
        self.where = where
        self.issues: list[Issue] = [] if issues is None else issues

    def at(self, where: str) -> Reader:
        """A reader for another resource of the same request, sharing the issue list."""
        return Reader(where, self.issues)

    def add(self, path: str, diagnostics: str) -> None:
        self.issues.append(Issue(path, diagnostics, self.where))

    def raise_if_invalid(self) -> None:
        if self.issues:
            raise FhirInvalid(self.issues)

    def obj(self, value: Any, path: str) -> dict[str, Any] | None:
        if value is None:
            return None
        if not isinstance(value, dict):
            self.add(path, "must be a JSON object")
            return None
        return value

    def array(self, value: Any, path: str) -> list[Any]:
        if value is None:
            return []
        if not isinstance(value, list):
            self.add(path, "must be a JSON array")
            return []
        return value

    def objects(self, value: Any, path: str) -> list[tuple[str, dict[str, Any]]]:
        """The objects of an array with their paths (``path[i]``); other items are issues."""
        found = []
        for i, item in enumerate(self.array(value, path)):
            checked = self.obj(item, f"{path}[{i}]")
            if checked is not None:
                found.append((f"{path}[{i}]", checked))
        return found

    def string(self, value: Any, path: str) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str):
            self.add(path, "must be a string")
            return None
        return value

    def number(self, value: Any, path: str, *, positive: bool = False) -> float | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.add(path, "must be a number")
            return None
        if not math.isfinite(value) or value < 0 or (positive and value == 0):
            self.add(path, "must be a positive number" if positive else "must not be negative")
            return None
        if value > MAX_NUMBER:
            self.add(path, f"must be at most {MAX_NUMBER:g}")
            return None
        return float(value)

    def boolean(self, value: Any, path: str) -> bool | None:
        if value is None:
            return None
        if not isinstance(value, bool):
            self.add(path, "must be true or false")
            return None
        return value

    def date(self, value: Any, path: str) -> dt.date | None:
        """A FHIR date or dateTime's day; a partial date (``2003``, ``2003-05``) is its first day."""
        text = self.string(value, path)
        if text is None:
            return None
        match = _DATE.match(text)
        if match:
            year, month, day = (int(part) if part else 1 for part in match.groups())
            try:
                return dt.date(year, month, day)
            except ValueError:
                pass
        self.add(path, f"must be a FHIR date or dateTime (got {text[:40]!r})")
        return None
