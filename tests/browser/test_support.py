"""Support: the FAQ accordion, tickets with their threads, contact details, help pages; and
the staff view that answers them."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.support import ApiSession, check_accessibility, make_staff, shoot
from tests.support.browser_fixtures import BrowserLog
from tests.support.database import Database


def test_the_faq_opens_and_closes_from_the_keyboard(page: Page, context: BrowserContext) -> None:
    ApiSession(context)
    page.goto("/app/support")
    question = page.get_by_role("button", name="How do I connect to my RDP?")
    expect(question).to_have_attribute("aria-expanded", "false")
    answer = page.get_by_text("Use the built-in Remote Desktop Connection")
    expect(answer).to_be_hidden()
    question.focus()
    page.keyboard.press("Enter")
    expect(question).to_have_attribute("aria-expanded", "true")
    expect(answer).to_be_visible()
    expect(page.get_by_role("heading", name="Connecting", level=3)).to_be_visible()
    shoot(page, "support")
    page.keyboard.press("Space")
    expect(answer).to_be_hidden()


def test_contact_details_and_help_pages_are_ours(page: Page, context: BrowserContext) -> None:
    ApiSession(context)
    page.goto("/app/support")
    contact = page.get_by_role("region", name="Contact")
    expect(contact.get_by_role("link", name="support@nemordp.local")).to_have_attribute(
        "href", "mailto:support@nemordp.local"
    )
    help_links = page.get_by_role("region", name="Help pages").get_by_role("link")
    expect(help_links).to_have_count(6)
    page.get_by_role("link", name="Connect from a Mac or Linux").click()
    expect(page).to_have_url(re.compile(r"/help/rdp-mac-linux$"))
    expect(page.get_by_role("heading", name="Connect from a Mac or Linux", level=1)).to_be_visible()
    expect(
        page.get_by_role("navigation", name="Help topics").get_by_role(
            "link", name="Connect from a Mac or Linux"
        )
    ).to_have_attribute("aria-current", "page")
    check_accessibility(page, controls=False)
    shoot(page, "help-rdp-mac-linux")
    for path in ("/help", "/help/rdp-windows", "/help/billing", "/help/troubleshooting"):
        page.goto(path)
        expect(page.locator("h1")).to_be_visible()
        shoot(page, f"help-{path.rsplit('/', 1)[1]}")
    page.get_by_role("link", name="Back to support").click()
    expect(page.get_by_role("heading", name="Support", level=1)).to_be_visible()


def test_a_ticket_is_opened_answered_closed_and_reopened(
    page: Page, context: BrowserContext, browser_log: BrowserLog
) -> None:
    ApiSession(context)
    page.goto("/app/support")
    expect(page.get_by_text("You have no tickets.")).to_be_visible()
    form = page.get_by_role("region", name="Open a ticket")
    form.get_by_role("button", name="Send ticket").click()
    expect(form.get_by_label("Subject")).to_have_accessible_description(
        re.compile("Give the ticket a subject.")
    )
    form.get_by_label("Subject").fill("Cannot reach my desktop")
    priority = form.get_by_label("Priority")
    expect(priority).to_have_value("medium")
    priority.select_option("high")
    form.get_by_label("Message").fill("It times out.\n<b>Not bold</b> please.")
    shoot(page, "support-new-ticket")
    form.get_by_role("button", name="Send ticket").click()

    opened = form.get_by_role("status")
    expect(opened).to_contain_text(re.compile(r"Ticket #\d+ is open"))
    expect(opened).to_be_focused()
    expect(form.get_by_label("Subject")).to_have_value("")
    row = page.locator("tbody tr", has_text="Cannot reach my desktop")
    expect(row.locator(".badge")).to_have_text("Open")
    expect(row).to_contain_text("High")
    expect(page.get_by_text("1 ticket.")).to_be_visible()

    row.get_by_role("link", name="Cannot reach my desktop").click()
    expect(page.get_by_role("heading", name="Cannot reach my desktop", level=1)).to_be_focused()
    expect(page.get_by_text("High priority")).to_be_visible()
    first = page.locator(".thread .message").first
    expect(first).to_contain_text("You")
    expect(first.locator(".message-body")).to_have_text("It times out.\n<b>Not bold</b> please.")
    expect(first.locator("b")).to_have_count(0)

    page.get_by_label("Your reply").fill("It works from my phone.")
    page.get_by_role("button", name="Send reply").click()
    expect(page.locator(".thread .message")).to_have_count(2)
    expect(page.get_by_label("Your reply")).to_be_focused()
    shoot(page, "support-ticket")

    page.get_by_role("button", name="Close ticket").click()
    expect(page.locator(".page-header .badge")).to_have_text("Closed")
    expect(page.get_by_label("Your reply")).to_have_count(0)
    expect(page.get_by_text("This ticket is closed.")).to_be_visible()
    reopen = page.get_by_role("button", name="Reopen ticket")
    expect(reopen).to_be_focused()
    reopen.click()
    expect(page.locator(".page-header .badge")).to_have_text("Open")
    expect(page.get_by_label("Your reply")).to_be_visible()

    page.goto("/app/support/tickets/999999")
    expect(page.get_by_role("heading", name="Ticket not found")).to_be_visible()
    browser_log.allow(r"status of 404")


def test_staff_answer_from_their_view_and_customers_see_the_answer(
    page: Page,
    context: BrowserContext,
    new_context: Callable[[], BrowserContext],
    database: Database,
) -> None:
    customer = ApiSession(context)
    ticket = customer.post(
        "/api/support/tickets",
        {"subject": "Slow desktop", "priority": "urgent", "message": "Very slow today."},
    )
    customer.post(
        "/api/support/tickets",
        {"subject": "Invoice question", "priority": "low", "message": "Is VAT included?"},
    )

    staff_context = new_context()
    staff = ApiSession(staff_context)
    make_staff(database, staff.user_id)
    desk = staff_context.new_page()
    desk.goto("/app/support")
    nav = desk.get_by_role("navigation", name="Main")
    nav.get_by_role("link", name="Staff").click()
    expect(desk.get_by_role("heading", name="Support tickets", level=1)).to_be_focused()
    expect(desk.locator("tbody tr")).to_have_count(2)
    desk.get_by_label("Priority").select_option("urgent")
    expect(desk).to_have_url(re.compile(r"/app/staff/tickets\?priority=urgent$"))
    expect(desk.locator("tbody tr")).to_have_count(1)
    desk.get_by_label("Status").select_option("closed")
    expect(desk.get_by_text("No tickets match.")).to_be_visible()
    desk.get_by_label("Status").select_option("open")
    row = desk.locator("tbody tr", has_text="Slow desktop")
    expect(row).to_contain_text(customer.email)
    expect(row.locator("[data-priority]")).to_have_text("Urgent priority")
    check_accessibility(desk)
    shoot(desk, "staff-tickets")

    row.get_by_role("link", name="Slow desktop").click()
    expect(desk.get_by_role("heading", name="Slow desktop", level=1)).to_be_visible()
    machines = desk.get_by_role("region", name="Machines on the account")
    expect(machines).to_contain_text("No machines.")
    expect(desk.locator(".thread .message").first).to_contain_text(customer.email)
    status_after = desk.get_by_label("Status after the reply")
    expect(status_after).to_have_value("waiting_on_customer")
    status_after.select_option("in_progress")
    desk.get_by_label("Your answer").fill("We are moving it to a faster host.")
    desk.get_by_role("button", name="Send answer").click()
    expect(desk.locator(".thread .message")).to_have_count(2)
    expect(desk.locator(".thread .message").last).to_contain_text("You (staff)")
    expect(desk.locator(".page-header [data-status]")).to_have_text("In progress")

    settings = desk.get_by_role("region", name="Status and priority")
    settings.get_by_label("Priority").select_option("high")
    settings.get_by_role("button", name="Save changes").click()
    expect(desk.locator(".page-header [data-priority]")).to_have_text("High priority")
    expect(settings.get_by_role("button", name="Save changes")).to_be_focused()
    check_accessibility(desk)
    shoot(desk, "staff-ticket")

    # The customer follows the e-mailed link to the ticket and sees the answer.
    page.goto(f"/support/tickets/{ticket['id']}")
    expect(page).to_have_url(re.compile(rf"/app/support/tickets/{ticket['id']}$"))
    answer = page.locator(".thread .message").last
    expect(answer).to_contain_text("NemoRDP support")
    expect(answer).to_contain_text("We are moving it to a faster host.")
    expect(page.locator(".page-header .badge")).to_have_text("In progress")
    # The staff e-mails' links open the staff view.
    desk.goto(f"/staff/tickets/{ticket['id']}")
    expect(desk).to_have_url(re.compile(rf"/app/staff/tickets/{ticket['id']}$"))


def test_customers_are_told_the_staff_view_is_not_for_them(
    page: Page, context: BrowserContext
) -> None:
    ApiSession(context)
    page.goto("/app/instances")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Support")).to_be_visible()
    expect(nav.get_by_role("link", name="Staff")).to_be_hidden()
    for path in ("/app/staff/tickets", "/app/staff/tickets/1"):
        page.goto(path)
        expect(page.get_by_role("heading", name="Not allowed", level=1)).to_be_visible()
        expect(page.get_by_text("This page is for NemoRDP support staff")).to_be_visible()
    shoot(page, "staff-not-allowed")
    page.get_by_role("link", name="Go to Support").click()
    expect(page.get_by_role("heading", name="Support", level=1)).to_be_visible()
