"""Fixtures of the tests that drive the dashboard in a real headless Chromium against the
real app server (`tests/browser`, the console page), registered once for the whole suite
by `tests/conftest.py`: one Playwright and one Chromium serve every directory.

The app runs on werkzeug's threaded server in a background thread of the test process, so
it shares the test database and Redis; tests that order machines also take the `vultr`
fixture for the provider emulator and the Celery worker.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Playwright,
    Request,
    sync_playwright,
)

from devtools import build_assets
from tests.browser.support import CHROMIUM, CHROMIUM_ARGS, DESKTOP


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (make test does it)")
    stale = build_assets.stale_files()
    if stale:
        pytest.fail(
            f"{build_assets.BUILD} is not what the sources build ({', '.join(stale)}): "
            "rebuild it with `make install`"
        )
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
    )
    yield browser
    browser.close()


@dataclass
class BrowserLog:
    """What the pages said and asked for: console errors, page errors, every request."""

    origin: str
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    allowed: list[re.Pattern[str]] = field(default_factory=list)
    other_hosts: set[str] = field(default_factory=set)

    def allow(self, pattern: str) -> None:
        """Accept console errors matching `pattern` (an expected 401 or 409 answer)."""
        self.allowed.append(re.compile(pattern))

    def allow_host(self, url: str) -> None:
        """Accept requests to the host of `url`: Stripe's payment page, which the customer
        is sent to on purpose. Our own pages still never ask another host for anything."""
        self.other_hosts.add(urlsplit(url).netloc)

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            where = message.location.get("url", "")
            self.errors.append(f"{message.text} [{where}]")

    def on_page_error(self, error: Exception) -> None:
        self.errors.append(f"uncaught: {error}")

    def on_request(self, request: Request) -> None:
        self.requests.append(request.url)

    def foreign_requests(self) -> list[str]:
        own = urlsplit(self.origin).netloc
        return [
            url
            for url in self.requests
            if urlsplit(url).scheme not in ("data", "blob")
            and urlsplit(url).netloc not in {own, *self.other_hosts}
        ]

    def unexpected_errors(self) -> list[str]:
        return [e for e in self.errors if not any(p.search(e) for p in self.allowed)]


@pytest.fixture()
def browser_log(live_server: str) -> BrowserLog:
    return BrowserLog(live_server)


@pytest.fixture()
def new_context(
    browser: Browser, live_server: str, browser_log: BrowserLog
) -> Iterator[Callable[[], BrowserContext]]:
    """Make browser contexts (separate cookie jars: another person) logged to `browser_log`."""
    made: list[BrowserContext] = []

    def make() -> BrowserContext:
        context = browser.new_context(
            base_url=live_server,
            viewport=DESKTOP,
            accept_downloads=True,
            locale="en-US",
            timezone_id="UTC",
            reduced_motion="reduce",
        )
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server)
        context.set_default_timeout(10_000)
        context.on("console", browser_log.on_console)
        context.on("weberror", lambda web_error: browser_log.on_page_error(web_error.error))
        context.on("request", browser_log.on_request)
        made.append(context)
        return context

    yield make
    for context in made:
        context.close()


@pytest.fixture()
def context(new_context: Callable[[], BrowserContext]) -> BrowserContext:
    return new_context()


@pytest.fixture()
def page(context: BrowserContext, browser_log: BrowserLog) -> Iterator[Page]:
    """A page whose test fails on any console error or any request to another host."""
    page = context.new_page()
    yield page
    assert browser_log.unexpected_errors() == [], "errors in the browser console"
    assert browser_log.foreign_requests() == [], "requests to hosts other than ours"
    assert browser_log.requests, "the page made no requests at all"
