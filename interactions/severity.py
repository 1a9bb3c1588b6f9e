"""Finding severity, shared by the knowledge base and the rules."""

import enum


class Severity(enum.IntEnum):
    """Ordered so that ``max()`` gives the most serious."""

    INFO = 1
    WARNING = 2
    CRITICAL = 3

    @classmethod
    def parse(cls, text: str) -> "Severity":
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise ValueError(f"severity must be INFO, WARNING or CRITICAL, not {text!r}") from None
