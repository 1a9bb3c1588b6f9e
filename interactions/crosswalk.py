"""A site's own NDC-to-RxCUI crosswalk (NDC tables are licensed per site, so none ships here).

The file is CSV with the columns ``ndc,rxcui,source``; an NDC is kept as its digits (hyphens
dropped), so ``0406-0123-01`` and ``0406012301`` are one code. An NDC listed twice with two
different RxCUIs is refused: one code must never stand for two drugs. Each RxCUI must be one the
knowledge base knows (checked when the names are indexed, interactions/resolver.py).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from regimenguard.interactions.datafile import read_rows

COLUMNS = ("ndc", "rxcui", "source")


def ndc_digits(text: str) -> str:
    return "".join(character for character in text if character.isdigit())


def load_ndc_crosswalk(path: Path) -> tuple[dict[str, str], str]:
    """``{ndc digits: rxcui}`` and a short hash of the file (part of the site's identity)."""
    crosswalk: dict[str, str] = {}
    for row in read_rows(path, COLUMNS):
        ndc = ndc_digits(row.text("ndc"))
        rxcui = row.text("rxcui")
        row.text("source")
        if not 10 <= len(ndc) <= 11:
            raise row.error(f"ndc {row.text('ndc')!r} must have 10 or 11 digits")
        if not rxcui.isdigit():
            raise row.error(f"rxcui must be digits, not {rxcui!r}")
        if crosswalk.get(ndc, rxcui) != rxcui:
            raise row.error(f"ndc {ndc} maps to two different RxCUIs ({crosswalk[ndc]}, {rxcui})")
        crosswalk[ndc] = rxcui
    return crosswalk, hashlib.sha256(path.read_bytes()).hexdigest()[:8]
