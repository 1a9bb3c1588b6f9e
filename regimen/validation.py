"""Input that cannot be checked: every bad field, named by its path."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FieldViolation:
    field: str  # path in the request, e.g. ``medications[2].dose_mg``
    description: str


class RequestInvalid(ValueError):
    """The request cannot be checked at all; carries every violation found."""

    def __init__(
        self,
        violations: list[FieldViolation] | tuple[FieldViolation, ...],
        reason: str = "INVALID_REGIMEN",
    ):
        self.violations = tuple(violations)
        self.reason = reason
        fields = ", ".join(v.field for v in self.violations[:5])
        more = f" and {len(self.violations) - 5} more" if len(self.violations) > 5 else ""
        super().__init__(f"{len(self.violations)} invalid field(s): {fields}{more}")
