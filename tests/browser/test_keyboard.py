"""The dashboard works with the keyboard alone: log in, reach a machine, act on it."""

from __future__ import annotations

import re

from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.support import PHONE, ApiSession, is_focused, tab_to
from tests.support.api import PASSWORD
from tests.support.emulators import EmulatorHandle


def test_keyboard_alone_logs_in_and_restarts_a_machine(
    page: Page, context: BrowserContext, vultr: EmulatorHandle
) -> None:
    api = ApiSession(context)
    ordered = api.order()
    assert api.wait_for_job(ordered["job"]["id"])["state"] == "succeeded"
    name = ordered["instance"]["name"]
    api.logout()

    page.goto("/login")
    page.keyboard.press("Tab")
    assert is_focused(page.get_by_role("link", name="Skip to main content"))
    tab_to(page, page.get_by_label("E-mail"))
    page.keyboard.type(api.email)
    page.keyboard.press("Tab")
    assert is_focused(page.get_by_label("Password"))
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(r"/app/instances$"))
    expect(page.get_by_role("heading", name="Instances", level=1)).to_be_focused()
    machine = page.get_by_role("link", name=name)
    expect(machine).to_be_visible()
    tab_to(page, machine)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name=name, level=1)).to_be_focused()

    # The terminate dialog opens on its input, Escape closes it, focus comes back.
    terminate = page.get_by_role("button", name="Terminate…")
    tab_to(page, terminate)
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name=f"Terminate {name}?")
    expect(dialog.get_by_label(f"Type {name} to confirm")).to_be_focused()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(terminate).to_be_focused()

    restart = page.get_by_role("button", name="Restart")
    tab_to(page, restart, backwards=True)
    page.keyboard.press("Enter")
    progress = page.get_by_role("heading", name=re.compile(r"^Restart (in progress|finished)$"))
    expect(progress).to_be_focused()
    expect(page.get_by_role("heading", name="Restart finished")).to_be_visible(timeout=30_000)
    expect(page.locator(".page-header .badge")).to_have_text("Active", timeout=15_000)


def test_the_phone_menu_opens_and_navigates_from_the_keyboard(
    page: Page, context: BrowserContext
) -> None:
    ApiSession(context)
    page.set_viewport_size(PHONE)
    page.goto("/app/instances")
    expect(page.get_by_role("heading", name="Instances", level=1)).to_be_visible()
    settings = page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings")
    expect(settings).to_be_hidden()

    menu = page.get_by_role("button", name="Menu")
    tab_to(page, menu)
    page.keyboard.press("Enter")
    expect(menu).to_have_attribute("aria-expanded", "true")
    tab_to(page, settings)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Settings", level=1)).to_be_focused()
    expect(menu).to_have_attribute("aria-expanded", "false")


def test_keyboard_alone_opens_a_ticket_with_its_priority(
    page: Page, context: BrowserContext
) -> None:
    ApiSession(context)
    page.goto("/app/support")
    expect(page.get_by_role("heading", name="Support", level=1)).to_be_visible()
    form = page.get_by_role("region", name="Open a ticket")
    tab_to(page, form.get_by_label("Subject"), limit=60)
    page.keyboard.type("Sound does not play")
    page.keyboard.press("Tab")
    assert is_focused(form.get_by_label("Priority"))
    page.keyboard.press("ArrowDown")  # medium → high
    expect(form.get_by_label("Priority")).to_have_value("high")
    page.keyboard.press("Tab")
    page.keyboard.type("No audio over RDP.")
    page.keyboard.press("Tab")
    assert is_focused(form.get_by_role("button", name="Send ticket"))
    page.keyboard.press("Enter")
    expect(form.get_by_role("status")).to_be_focused()
    row = page.locator("tbody tr", has_text="Sound does not play")
    expect(row).to_contain_text("High")
