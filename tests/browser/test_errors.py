"""When something fails, the page says what the API said."""

from __future__ import annotations

import re

from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.support import ApiSession, shoot
from tests.support.api import PASSWORD
from tests.support.browser_fixtures import BrowserLog
from tests.support.emulators import EmulatorHandle


def test_a_wrong_password_shows_the_api_message(
    page: Page, context: BrowserContext, browser_log: BrowserLog
) -> None:
    browser_log.allow(r"status of 401")
    api = ApiSession(context)
    api.logout()
    page.goto("/login")
    page.get_by_label("E-mail").fill(api.email)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_have_text("Wrong e-mail or password.")
    expect(page.get_by_label("Password")).to_be_focused()
    expect(page).to_have_url(re.compile(r"/login$"))


def test_signing_up_with_a_taken_email_marks_the_field(
    page: Page, context: BrowserContext, browser_log: BrowserLog
) -> None:
    browser_log.allow(r"status of 409")
    api = ApiSession(context)
    api.logout()
    page.goto("/signup")
    page.get_by_label("E-mail").fill(api.email.upper())
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    email = page.get_by_label("E-mail")
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(email).to_have_accessible_description("Taken.")
    expect(page.get_by_role("alert").last).to_have_text(
        "An account with this e-mail already exists."
    )
    shoot(page, "signup-error")


def test_a_refused_restart_shows_the_job_error_and_the_status_reason(
    page: Page, context: BrowserContext, vultr: EmulatorHandle
) -> None:
    api = ApiSession(context)
    ordered = api.order()
    assert api.wait_for_job(ordered["job"]["id"])["state"] == "succeeded"
    vultr.inject("reboot", "permanent", status=400, message="Server is locked")

    page.goto(f"/app/instances/{ordered['instance']['id']}")
    page.get_by_role("button", name="Restart").click()
    expect(page.get_by_role("heading", name="Restart failed")).to_be_visible(timeout=30_000)
    panel = page.locator(".job-panel")
    expect(panel.get_by_role("alert")).to_contain_text("Server is locked")
    expect(page.locator(".page-header .badge")).to_have_text("Active")
    expect(page.locator(".alert-warning")).to_contain_text("restart failed")
    expect(page.get_by_role("button", name="Restart")).to_be_enabled()
    shoot(page, "machine-restart-failed")


def test_an_action_the_api_refuses_shows_its_message(
    page: Page, context: BrowserContext, vultr: EmulatorHandle, browser_log: BrowserLog
) -> None:
    browser_log.allow(r"status of 409")
    api = ApiSession(context)
    ordered = api.order()
    assert api.wait_for_job(ordered["job"]["id"])["state"] == "succeeded"
    instance_id = ordered["instance"]["id"]
    page.goto(f"/app/instances/{instance_id}")
    expect(page.locator(".page-header .badge")).to_have_text("Active")

    api.post(f"/api/instances/{instance_id}/stop")  # elsewhere, before the page's next poll
    page.get_by_role("button", name="Restart").click()
    expect(page.locator(".card").get_by_role("alert")).to_contain_text(
        re.compile(r"Cannot restart an instance that is (stopping|stopped)\.")
    )
    expect(page.locator(".page-header .badge")).to_have_text("Stopped", timeout=30_000)


def test_signed_out_visitors_log_in_and_land_where_they_were_going(
    page: Page, context: BrowserContext, browser_log: BrowserLog
) -> None:
    browser_log.allow(r"status of 401")
    api = ApiSession(context)
    api.logout()
    page.goto("/app/settings")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fapp%2Fsettings$"))
    page.get_by_label("E-mail").fill(api.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/app/settings$"))
    expect(page.get_by_role("heading", name="Settings", level=1)).to_be_visible()

    # The session ends behind the page's back: its next poll sends it to log in.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Instances").click()
    expect(page.get_by_text("You have no machines.")).to_be_visible()
    context.clear_cookies()
    expect(page).to_have_url(
        re.compile(r"/login\?expired=1&next=%2Fapp%2Finstances$"), timeout=12_000
    )
    expect(
        page.locator("main").get_by_text("Your session has ended; log in again.")
    ).to_be_visible()
