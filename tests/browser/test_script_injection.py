"""Markup typed by a customer or by staff is shown as text on every dashboard page that
shows it, in a real Chromium: no element is made from it and no script of it runs (the
Content-Security-Policy would refuse one, which the page fixture counts as a console
error). Part of the hostile-input checks of tests/security, here for the browser fixtures.
"""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.support import ApiSession, make_staff
from tests.support.database import Database

IMAGE = "<img src=x onerror=\"document.title='pwned'\">"
SCRIPT = "<script>document.title='pwned'</script>"


def _shows_as_text(page: Page, path: str, *texts: str) -> None:
    page.goto(path)
    for text in texts:
        expect(page.get_by_text(text, exact=False).first).to_be_visible()
    assert page.locator("img[src='x'], main script").count() == 0
    assert page.title() != "pwned"


def test_markup_in_names_tokens_tickets_and_answers_stays_text(
    page: Page, new_context: Callable[[], BrowserContext], database: Database
) -> None:
    customer = ApiSession(page.context)
    named = page.context.request.put(
        "/api/auth/profile", data={"full_name": IMAGE}, headers={"X-CSRF-Token": customer.csrf}
    )
    assert named.ok, named.text()
    customer.post("/api/auth/tokens", {"name": SCRIPT})
    ticket = customer.post(
        "/api/support/tickets", {"subject": IMAGE, "priority": "high", "message": SCRIPT}
    )

    staff_page = new_context().new_page()
    staff = ApiSession(staff_page.context)
    make_staff(database, staff.user_id)
    staff.post(f"/api/support/staff/tickets/{ticket['id']}/replies", {"message": IMAGE})

    # The customer's name is in the frame of every page, next to what the page shows.
    _shows_as_text(page, f"/app/support/tickets/{ticket['id']}", IMAGE, SCRIPT)
    _shows_as_text(page, "/app/support", IMAGE)
    _shows_as_text(page, "/app/settings/security", IMAGE, SCRIPT)
    _shows_as_text(staff_page, "/app/staff/tickets", IMAGE)
    _shows_as_text(staff_page, f"/app/staff/tickets/{ticket['id']}", IMAGE, SCRIPT)
