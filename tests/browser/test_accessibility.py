"""Every page: each control has an accessible name and text meets WCAG AA contrast, at
desktop and phone width."""

from __future__ import annotations

from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.support import ApiSession, check_accessibility, shoot
from tests.support.emulators import EmulatorHandle


def test_every_page_names_its_controls_and_has_readable_contrast(
    page: Page, context: BrowserContext, vultr: EmulatorHandle
) -> None:
    for path, heading in (("/signup", "Create your account"), ("/login", "Log in")):
        page.goto(path)
        expect(page.get_by_role("heading", name=heading, level=1)).to_be_visible()
        check_accessibility(page)

    api = ApiSession(context)
    ordered = api.order(os_type="linux")
    assert api.wait_for_job(ordered["job"]["id"])["state"] == "succeeded"
    name = ordered["instance"]["name"]

    page.goto("/app/instances")
    expect(page.get_by_role("link", name=name)).to_be_visible()
    check_accessibility(page)

    page.goto("/app/instances/new")
    expect(page.get_by_label("Region")).to_be_visible()
    check_accessibility(page)

    page.goto(f"/app/instances/{ordered['instance']['id']}")
    page.get_by_role("button", name="Show credentials").click()
    expect(page.get_by_label("Password", exact=True)).to_be_visible()
    check_accessibility(page)
    page.get_by_role("button", name="Terminate…").click()
    expect(page.get_by_role("dialog")).to_be_visible()
    check_accessibility(page, "dialog")
    page.keyboard.press("Escape")

    page.goto("/app/settings/security")
    page.get_by_label("Token name").fill("ci")
    page.get_by_role("button", name="Create token").click()
    expect(page.get_by_label("Token", exact=True)).to_be_visible()
    check_accessibility(page)

    for tab in ("Billing", "Preferences", "Profile"):
        page.get_by_role("tab", name=tab).click()
        expect(page.get_by_role("tabpanel", name=tab)).to_be_visible()
        check_accessibility(page)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Support").click()
    expect(page.get_by_role("heading", name="Support", level=1)).to_be_focused()
    page.get_by_role("button", name="Can I get a refund?").click()
    check_accessibility(page)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Billing").click()
    expect(page.get_by_role("heading", name="Billing", level=1)).to_be_focused()
    check_accessibility(page)
    shoot(page, "billing")

    page.goto("/app/no-such-page")
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    check_accessibility(page)
