"""The console page in Chromium under the strict CSP: the machine's login screen (a real
xrdp) is drawn on the canvas, typed keys come back drawn by the server, and the keyboard
can always leave the canvas."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from playwright.sync_api import BrowserContext, Page, expect

from app.models import Instance
from tests.browser.support import ApiSession, check_accessibility, shoot
from tests.support.browser_fixtures import BrowserLog

DISTINCT_COLOURS = """canvas => {
  const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  const seen = new Set();
  for (let i = 0; i < pixels.length; i += 4) {
    seen.add((pixels[i] << 16) | (pixels[i + 1] << 8) | pixels[i + 2]);
  }
  return seen.size;
}"""
CANCEL = (624, 524)
PIXELS_HASH = """canvas => {
  const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let hash = 0;
  for (let i = 0; i < pixels.length; i += 1) hash = (hash * 31 + pixels[i]) | 0;
  return hash;
}"""


@pytest.fixture()
def console_url(app: Flask, gateway: str, browser_log: BrowserLog) -> Iterator[str]:
    """The app sends browsers to the test gateway (another port: the CSP must allow it)."""
    app.config["CONSOLE_URL"] = gateway
    browser_log.allow_host(gateway.replace("ws://", "http://"))
    yield gateway
    app.config["CONSOLE_URL"] = "/console/"


def _settled(page: Page, quiet_seconds: float = 1.0, limit: float = 15.0) -> int:
    """The number of regions drawn once none has arrived for `quiet_seconds`."""
    canvas = page.locator("canvas.console-screen")
    count, since, deadline = -1, time.monotonic(), time.monotonic() + limit
    while time.monotonic() < deadline:
        now = int(canvas.get_attribute("data-regions") or 0)
        if now != count:
            count, since = now, time.monotonic()
        elif now and time.monotonic() - since >= quiet_seconds:
            return now
        time.sleep(0.1)
    raise AssertionError(f"the screen did not settle ({count} regions)")


def test_the_console_shows_the_login_screen_and_sends_typed_keys(
    page: Page,
    context: BrowserContext,
    console_url: str,
    desktop_machine: Callable[..., Instance],
) -> None:
    api = ApiSession(context)
    machine = desktop_machine(api.user_id)
    page.goto(f"/app/instances/{machine.id}")
    page.get_by_role("link", name="Console").click()
    expect(page).to_have_url(f"/app/instances/{machine.id}/console")
    expect(page.locator("main[data-console='open']")).to_be_visible(timeout=15_000)
    expect(page.locator(".console-status")).to_have_text("Connected.")

    canvas = page.locator("canvas.console-screen")
    drawn = _settled(page)
    assert canvas.evaluate(DISTINCT_COLOURS) > 10  # the login dialog, not a blank canvas
    before = canvas.evaluate(PIXELS_HASH)
    shoot(page, "console-login-screen")

    canvas.focus()
    page.keyboard.type("xyz")
    assert _settled(page) > drawn, "the server drew nothing after the keys"
    assert canvas.evaluate(PIXELS_HASH) != before
    check_accessibility(page, "main")

    # Every key goes to the desktop, Tab too; Escape twice hands the keyboard back.
    page.keyboard.press("Tab")
    expect(canvas).to_be_focused()
    page.keyboard.press("Escape")
    page.keyboard.press("Escape")
    expect(page.get_by_role("button", name="Disconnect")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("main[data-console='closed']")).to_be_attached()


def test_the_console_of_a_stopped_machine_says_why_it_cannot_open(
    page: Page,
    context: BrowserContext,
    console_url: str,
    desktop_machine: Callable[..., Instance],
    browser_log: BrowserLog,
) -> None:
    api = ApiSession(context)
    machine = desktop_machine(api.user_id, status="stopped")
    browser_log.allow("409")
    page.goto(f"/app/instances/{machine.id}/console")
    expect(page.get_by_role("alert")).to_contain_text("once the instance is active")


def test_a_click_reaches_the_machine(
    page: Page,
    context: BrowserContext,
    console_url: str,
    desktop_machine: Callable[..., Instance],
) -> None:
    api = ApiSession(context)
    machine = desktop_machine(api.user_id)
    page.goto(f"/app/instances/{machine.id}/console")
    expect(page.locator("main[data-console='open']")).to_be_visible(timeout=15_000)
    drawn = _settled(page)
    canvas = page.locator("canvas.console-screen")
    before = canvas.evaluate(PIXELS_HASH)
    box = canvas.bounding_box()
    assert box is not None
    scale = box["width"] / 1024
    # The login dialog's Cancel button (xrdp's layout at 1024x768) takes the focus: the
    # server draws its focus frame, and takes the caret out of the password field.
    canvas.click(position={"x": CANCEL[0] * scale, "y": CANCEL[1] * scale})
    assert _settled(page) > drawn, "the server drew nothing after the click"
    assert canvas.evaluate(PIXELS_HASH) != before
