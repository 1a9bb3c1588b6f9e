"""report.html of the population review: its numbers, and Debian's Chromium drawing it offline.

The screenshot goes to tests/artifacts/review/ (git-ignored). Without /usr/bin/chromium the
browser test is skipped with the reason shown (apt-get install chromium).
"""

from __future__ import annotations

import functools
import shutil
import subprocess
from pathlib import Path

import pytest

from regimenguard.review.report import summarize, write_report
from tests import review_helpers as rh

ARTIFACTS = Path(__file__).resolve().parent / "artifacts" / "review"
CHROMIUM = shutil.which("chromium") or (
    "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
)
OFFLINE_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    # any network request would go to a closed port: the page must need none
    "--proxy-server=http://127.0.0.1:9",
    "--proxy-bypass-list=<-loopback>",
    "--window-size=1400,1800",
    "--virtual-time-budget=15000",
]


@functools.cache
def report() -> Path:
    out, _ = rh.local_review()
    return write_report(out, rh.AS_OF, "local")


def test_report_numbers_match_the_tables() -> None:
    out, totals = rh.local_review()
    numbers = summarize(out)
    assert numbers["patients"] == totals["patients"] == rh.PATIENTS
    assert sum(numbers["verdicts"].values()) == totals["verdicts"]
    assert sum(row["findings"] for row in numbers["rules"]) == totals["findings"]
    assert sum(bin_["patients"] for bin_ in numbers["mme"]) == totals["verdicts"]
    assert sum(bin_["patients"] for bin_ in numbers["acetaminophen"]) == totals["verdicts"]
    assert numbers["pairs"] and all(" + " in row["pair"] for row in numbers["pairs"])
    critical = [row["critical_findings"] for row in numbers["most_critical"]]
    assert critical == sorted(critical, reverse=True) and critical[0] >= 2
    page = report().read_text(encoding="utf-8")
    assert f"{rh.PATIENTS:,}" in page
    assert "<script src=" not in page  # everything inline


@pytest.mark.skipif(CHROMIUM is None, reason="no /usr/bin/chromium (apt-get install chromium)")
def test_chromium_draws_the_report_offline() -> None:
    page = report()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    screenshot = ARTIFACTS / "report.png"
    screenshot.unlink(missing_ok=True)
    url = page.as_uri()
    shot = subprocess.run(
        [CHROMIUM, *OFFLINE_FLAGS, f"--screenshot={screenshot}", url],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert screenshot.exists(), shot.stderr[-2000:]
    assert screenshot.stat().st_size > 20_000  # a drawn page, not a blank one
    dom = subprocess.run(
        [CHROMIUM, *OFFLINE_FLAGS, "--dump-dom", url], capture_output=True, text=True, timeout=120
    ).stdout
    # vega-embed ran (inline, offline) and drew the charts; the counts table is there
    assert "vega-embed" in dom and 'aria-roledescription="visualization"' in dom, dom[-2000:]
    assert "<svg" in dom and "Patients by verdict" in dom
    assert "patients in the input" in dom
