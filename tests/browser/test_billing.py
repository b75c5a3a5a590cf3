"""Billing: subscriptions with their next payment, a plan change with the price difference
shown first, cancelling at the end of the period, and the invoice history."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.support import ApiSession, check_accessibility, shoot
from tests.support.emulators import EmulatorHandle

MONEY = r"\$\d+\.\d\d"


def test_an_account_without_machines_has_nothing_to_bill(
    page: Page, context: BrowserContext
) -> None:
    ApiSession(context)
    page.goto("/app/billing")
    expect(page.get_by_text("You have no subscriptions.")).to_be_visible()
    expect(page.get_by_text("No invoices yet.")).to_be_visible()
    expect(page.get_by_role("link", name="Order a machine")).to_be_visible()
    page.get_by_role("link", name="Billing and payments").click()
    expect(page.get_by_role("heading", name="Billing and payments", level=1)).to_be_visible()


def test_a_subscription_changes_plan_and_is_cancelled_at_period_end(
    page: Page, context: BrowserContext, vultr: EmulatorHandle, stripe_server: str
) -> None:
    api = ApiSession(context)
    ordered = api.order()
    assert api.wait_for_job(ordered["job"]["id"])["state"] == "succeeded"
    name = ordered["instance"]["name"]

    page.goto("/app/billing")
    row = page.locator("tbody tr", has=page.get_by_role("link", name=name))
    expect(row).to_contain_text("Basic", timeout=15_000)
    expect(row).to_contain_text("$29.00 a month")
    expect(row.locator(".badge")).to_have_text("Active")
    expect(row.locator("time")).to_have_count(1)
    expect(page.get_by_text("$29.00 for 1 machine")).to_be_visible()
    invoices = page.get_by_role("region", name="Invoice history")
    expect(invoices.locator("tbody tr").first).to_contain_text("$29.00", timeout=15_000)
    expect(invoices.locator("tbody tr").first.locator(".badge")).to_have_text("Paid")
    # The invoice's PDF and hosted page, as Stripe serves them.
    pdf = invoices.get_by_role("link", name="PDF")
    document_url = rf"^{re.escape(stripe_server)}/invoice/in_\w+"
    expect(pdf).to_have_attribute("href", re.compile(document_url + "/pdf$"))
    expect(invoices.get_by_role("link", name="View online")).to_have_attribute(
        "href", re.compile(document_url + "$")
    )
    document = httpx.get(pdf.get_attribute("href") or "")
    assert document.headers["content-type"] == "application/pdf"
    assert document.content.startswith(b"%PDF-") and b"(Total: 29.00 USD) Tj" in document.content
    check_accessibility(page)
    shoot(page, "billing")

    # A plan change shows what it costs before it is confirmed.
    row.get_by_role("button", name=f"Change the plan of {name}").click()
    dialog = page.get_by_role("dialog", name=f"Change the plan of {name}")
    choice = dialog.get_by_label("New plan")
    expect(choice.locator("option")).not_to_contain_text(["Basic"])
    choice.select_option("performance")
    quote = dialog.locator(".price-change")
    expect(quote).to_have_text(
        re.compile(rf"^You pay {MONEY} now for the rest of this period, then \$59\.00 a month\.$")
    )
    check_accessibility(page, "dialog")
    shoot(page, "billing-change-plan")
    dialog.get_by_role("button", name="Change plan").click()
    expect(dialog).to_be_hidden()
    notice = page.locator(".page-header + .alert")
    expect(notice).to_have_text(
        re.compile(rf"^{name} is now on the Performance plan; {MONEY} is invoiced\.$"),
        timeout=30_000,
    )
    expect(row).to_contain_text("$59.00 a month")
    instance = api.get(f"/api/instances/{ordered['instance']['id']}")
    assert instance["plan"] == "performance"

    # Cancelling keeps the machine until the period ends.
    row.get_by_role("button", name=f"Cancel the subscription of {name}").click()
    dialog = page.get_by_role("dialog", name=f"Cancel the subscription of {name}?")
    expect(dialog).to_contain_text("keeps running until")
    dialog.get_by_role("button", name="Cancel at period end").click()
    expect(notice).to_have_text(
        f"The subscription of {name} ends at the end of its period.", timeout=30_000
    )
    expect(row.locator(".badge")).to_have_text("Not renewing")
    expect(row).to_contain_text("None; it ends")
    expect(row.get_by_role("button")).to_have_count(0)
    expect(page.get_by_text("Renewing each month")).to_be_visible()
    shoot(page, "billing-cancelled")
    assert api.get(f"/api/instances/{ordered['instance']['id']}")["status"] == "active"
