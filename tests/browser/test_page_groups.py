"""Chromium runs one bundled module per page group and the code they share, all from the
build: the customer and sign-in pages the ``app`` bundle, the operator console ``admin`` on
top of it, fetched only when a console page opens (preloaded when one is opened directly)."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from app.models import Role
from tests.browser.support import ApiSession, make_staff
from tests.support.browser_fixtures import BrowserLog
from tests.support.database import Database


def _modules(log: BrowserLog, since: int = 0) -> list[str]:
    return [url for url in log.requests[since:] if url.endswith(".js")]


def test_each_page_group_runs_its_own_bundle_beside_the_shared_one(
    page: Page, browser_log: BrowserLog, database: Database
) -> None:
    admin = ApiSession(page.context)
    make_staff(database, admin.user_id, Role.ADMIN)

    page.goto("/app/instances")
    expect(page.get_by_role("heading", name="Instances", level=1)).to_be_visible()
    customer = _modules(browser_log)
    assert len(customer) == 2, customer  # the page group's bundle and the shared chunk
    assert all("/static/build/" in url for url in customer), customer
    assert not any("/admin-" in url for url in customer), customer

    since = len(browser_log.requests)
    page.get_by_role("link", name="Console").click()
    expect(page.get_by_role("heading", name="Overview", level=1)).to_be_visible()
    (console,) = _modules(browser_log, since)
    assert "/static/build/admin-" in console

    opened = page.context.new_page()
    since = len(browser_log.requests)
    opened.goto("/app/admin/jobs")
    expect(opened.get_by_role("heading", name="Jobs", level=1)).to_be_visible()
    direct = _modules(browser_log, since)
    assert sorted(direct) == sorted([*customer, console]), direct
