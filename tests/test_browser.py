"""The prescribing page in a real browser: Debian's Chromium driven by Playwright.

The page is served by the HTTP door on loopback (port 0). Chromium comes from Debian's package
(`/usr/bin/chromium`); when it is missing, the set-up installs it with apt-get, and where that
is impossible every test here is skipped with a message saying so (`pytest -ra` lists it).
A JavaScript error or console error on the page fails the test. Each state is saved as a
screenshot in build/screenshots/ (git-ignored).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from regimenguard.regimen.service import RegimenService
from regimenguard.server.http.app import create_http_app
from regimenguard.server.http.auth import CdsSecurity
from regimenguard.server.http.server import HttpServer

pytestmark = pytest.mark.e2e
playwright_api = pytest.importorskip(
    "playwright.sync_api", reason="the playwright package is not installed"
)
expect = playwright_api.expect

SCREENSHOTS = Path(__file__).resolve().parents[1] / "build" / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WAIT_MS = 15_000


def _chromium() -> str | None:
    for candidate in (shutil.which("chromium"), "/usr/bin/chromium"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def _install_chromium() -> str:
    """Why Chromium could not be installed ('' when it now is)."""
    apt = shutil.which("apt-get")
    if apt is None:
        return "no apt-get on this machine"
    if os.geteuid() != 0:
        return "apt-get needs root"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in ([apt, "update", "-qq"], [apt, "install", "-y", "-qq", "chromium"]):
        try:
            done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
        except (OSError, subprocess.TimeoutExpired) as error:
            return f"{' '.join(command[1:2])} failed: {error}"
        if done.returncode != 0:
            return f"apt-get {command[1]} failed: {done.stderr.strip()[-200:]}"
    return ""


@pytest.fixture(scope="module")
def chromium_path() -> str:
    path = _chromium()
    if path is None:
        reason = _install_chromium()
        path = _chromium()
        if path is None:
            pytest.skip(
                f"browser tests skipped: Chromium is not installed and could not be ({reason})"
            )
    return path


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    service = RegimenService.from_config(None)
    app = create_http_app(
        service, security=CdsSecurity(verify_tokens=False), today=lambda: dt.date(2026, 11, 23)
    )
    server = HttpServer(app, host="127.0.0.1", port=0, grace_seconds=2)
    port = server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser(chromium_path):  # type: ignore[no-untyped-def]
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser, base_url):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(f"page error: {error}"))
    page.on("console", lambda msg: _console(msg, errors))
    page.goto(base_url + "/")
    yield page
    context.close()
    assert errors == [], errors


def _console(message, errors: list[str]) -> None:  # type: ignore[no-untyped-def]
    """Console errors fail the test, except the browser's note of an API refusal (a sig that
    cannot be read is answered 400 by design, and the page shows why)."""
    if message.type != "error":
        return
    if "status of 400" in message.text:
        return
    errors.append(f"console: {message.text}")


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def add_order(page, text: str):  # type: ignore[no-untyped-def]
    """Types ``text`` into the last empty order (adding one when needed); its list item."""
    empty = page.locator("li.order .sig-text").last
    if empty.input_value():
        page.get_by_role("button", name="Add an order").click()
        empty = page.locator("li.order .sig-text").last
    empty.fill(text)
    return page.locator("li.order").last


def test_an_order_is_read_as_it_is_typed(page):
    order = add_order(page, "Norco 10/325 1-2 tabs q4-6h prn")
    reading = order.locator(".reading")
    expect(reading).to_contain_text("Read as: Norco 10/325", timeout=WAIT_MS)
    expect(reading).to_contain_text('counted "1-2 tabs" at 2 tabs')
    # 2 tablets of 325 mg up to 6 times a day: 3,900 mg of acetaminophen
    expect(page.locator("#verdict")).to_contain_text("REJECT", timeout=WAIT_MS)
    shot(page, "1-order-read")
    bad = add_order(page, "ibuprofen 400 mg xyz bid")
    expect(bad.locator(".reading")).to_contain_text("Cannot read this order", timeout=WAIT_MS)
    expect(bad.locator(".reading")).to_contain_text("xyz")


def test_cyclobenzaprine_joining_duloxetine_is_serotonergic_and_acknowledging_changes_the_verdict(
    page,
):
    add_order(page, "duloxetine 60 mg daily")
    expect(page.locator("#verdict")).to_contain_text("ACCEPT", timeout=WAIT_MS)
    add_order(page, "start cyclobenzaprine 5 mg tid prn")
    finding = page.locator('li.finding[data-rule="SEROTONERGIC_COMBINATION"]')
    expect(finding).to_be_visible(timeout=WAIT_MS)
    expect(finding).to_contain_text("2 serotonergic drugs together: cyclobenzaprine and duloxetine")
    expect(finding).to_have_class("finding warning")
    expect(page.locator("#verdict")).to_contain_text("REVIEW")
    expect(page.locator("#total-serotonergic")).to_have_text("2")
    shot(page, "2-serotonergic-warning")
    # acknowledge every warning, with a reason typed and Enter pressed (keyboard only)
    for _ in range(5):
        pending = page.locator("li.finding.warning .ack input")
        left = pending.count()
        if left == 0:
            break
        pending.first.fill("Short course, patient counselled on serotonin syndrome signs")
        pending.first.press("Enter")
        expect(pending).to_have_count(left - 1, timeout=WAIT_MS)
    expect(page.locator("#verdict")).to_contain_text("ACCEPT", timeout=WAIT_MS)
    expect(finding).to_contain_text("Acknowledged")
    shot(page, "3-acknowledged-accept")


def test_too_much_acetaminophen_for_an_older_adult_is_rejected(page):
    page.get_by_label("Age (years)").fill("72")
    add_order(page, "Tylenol 500 mg 2 tabs q6h")
    expect(page.locator("#verdict")).to_contain_text("REJECT", timeout=WAIT_MS)
    finding = page.locator('li.finding[data-rule="ACETAMINOPHEN_DAILY_MAX"]')
    expect(finding).to_have_class("finding critical")
    expect(finding).to_contain_text("Acetaminophen 4,000 mg/day is over the 2,000 mg/day limit")
    expect(page.locator("#total-apap")).to_have_text("4,000 of 2,000 mg/day")
    expect(finding.locator(".ack")).to_have_count(0)  # a CRITICAL finding is not acknowledged
    shot(page, "4-acetaminophen-reject")


def test_orders_can_be_picked_by_fields_and_the_page_works_by_keyboard(page):
    page.get_by_role("button", name="Add an order").focus()
    page.keyboard.press("Enter")
    expect(page.locator("li.order")).to_have_count(2)
    second = page.locator("li.order").nth(1)
    expect(second.locator(".sig-text")).to_be_focused()
    second.get_by_label("Pick fields").check()
    second.get_by_label("Drug").fill("ibuprofen")
    second.get_by_label("mg per dose").fill("400")
    second.get_by_label("Doses a day").fill("3")
    expect(page.locator("#verdict")).to_contain_text("ACCEPT", timeout=WAIT_MS)
    # every form control has a label
    unlabeled = page.evaluate(
        """() => [...document.querySelectorAll('input, select')]
             .filter(el => !el.closest('template') && !el.labels?.length && !el.getAttribute('aria-label'))
             .map(el => el.outerHTML)"""
    )
    assert unlabeled == []
    shot(page, "5-fields")
