"""Back from the payment page: the machine's page says the payment arrived, then follows the
setup live; an unpaid machine offers its payment page again."""

from __future__ import annotations

import re

from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.support import ApiSession, pay, shoot
from tests.support.emulators import EmulatorHandle


def test_the_success_address_shows_the_payment_then_the_setup_live(
    page: Page, context: BrowserContext, vultr: EmulatorHandle
) -> None:
    api = ApiSession(context)
    ordered = api.place_order()
    instance_id = ordered["instance"]["id"]
    assert ordered["instance"]["status"] == "pending_payment"

    # Where Stripe sends the browser back (it may arrive before Stripe's webhook).
    page.goto(f"/instances/{instance_id}?checkout=success")
    expect(page).to_have_url(re.compile(rf"/app/instances/{instance_id}\?checkout=success$"))
    banner = page.locator(".payment-status")
    expect(banner).to_have_text("Payment received — building your desktop.")
    expect(banner).to_have_attribute("role", "status")
    shoot(page, "machine-paid")

    pay(ordered["checkout_url"])
    expect(
        page.get_by_role("heading", name=re.compile(r"^Setup (in progress|finished)$"))
    ).to_be_visible(timeout=15_000)
    expect(page.locator(".page-header .badge")).to_have_text("Active", timeout=30_000)
    expect(banner).to_have_text("Payment received — your desktop is ready.")
    expect(page.get_by_role("link", name="Download .rdp file")).to_be_visible()


def test_an_unpaid_machine_links_to_its_payment_page(
    page: Page, context: BrowserContext, vultr: EmulatorHandle
) -> None:
    api = ApiSession(context)
    ordered = api.place_order()
    instance_id = ordered["instance"]["id"]

    page.goto(f"/instances/{instance_id}?checkout=cancelled")
    banner = page.locator(".payment-status")
    expect(banner).to_contain_text("The payment was cancelled.")
    expect(page.locator(".page-header .badge")).to_have_text("Awaiting payment")
    expect(banner.get_by_role("link", name="Pay now")).to_have_attribute(
        "href", ordered["checkout_url"]
    )
    shoot(page, "machine-unpaid")
