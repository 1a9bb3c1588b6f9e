"""CallFailed: a call that produced no answer. Its own module, so that the command line can catch
it without importing gRPC and the service layer for a command that needs neither (``serve``)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class CallFailed(Exception):
    """A call that produced no answer: the status code name, message and bad fields."""

    code: str
    message: str
    violations: list[tuple[str, str]] = field(default_factory=list)

    @property
    def is_input_error(self) -> bool:
        return self.code in ("INVALID_ARGUMENT", "RESOURCE_EXHAUSTED", "OUT_OF_RANGE")

    def __str__(self) -> str:
        fields = "; ".join(f"{path}: {description}" for path, description in self.violations)
        return f"{self.code}: {fields or self.message}"
