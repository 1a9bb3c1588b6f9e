"""Amounts and frequencies as people say them: ``every 8 h``, ``twice a day``, ``1,000 mg``."""

from __future__ import annotations

_TIMES = {1: "once a day", 2: "twice a day"}
_TOLERANCE = 1e-9


def number(value: float) -> str:
    """``1,000``, ``7.5``, ``0.025``: thousands separated, no trailing zeros."""
    if value == int(value):
        return f"{int(value):,}"
    return f"{value:,.3f}".rstrip("0").rstrip(".")


def frequency_words(doses_per_day: float, interval_hours: float | None = None) -> str:
    """How often, as written on a label: ``every 8 h``, ``3 times a day``, ``once a week``."""
    if doses_per_day <= 0:
        return "no frequency"
    if interval_hours:
        return f"every {number(interval_hours)} h"
    whole = round(doses_per_day)
    if abs(doses_per_day - whole) < _TOLERANCE and whole >= 1:
        return _TIMES.get(whole, f"{whole} times a day")
    per_week = doses_per_day * 7
    if abs(per_week - round(per_week)) < 1e-6 and round(per_week) >= 1:
        weekly = round(per_week)
        return "once a week" if weekly == 1 else f"{weekly} times a week"
    hours = 24 / doses_per_day
    if abs(hours - round(hours)) < 1e-6:
        return f"every {round(hours)} h"
    return f"{number(round(doses_per_day, 3))} times a day"


def plural(count: float, unit: str) -> str:
    """``1 tab``, ``2 tabs``, ``1 patch``, ``2 patches``, ``0.5 tab``."""
    if count <= 1:
        return f"{number(count)} {unit}"
    suffix = "es" if unit.endswith(("ch", "sh", "s", "x")) else "s"
    return f"{number(count)} {unit}{suffix}"
