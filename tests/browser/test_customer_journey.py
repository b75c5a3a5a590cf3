"""A customer's whole day in the dashboard: sign up, order, connect, restart, stop, start,
change a preference, open a ticket that support answers, cancel the subscription,
terminate, log out and back in — in a real browser against the real server and worker."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.support import ApiSession, make_staff, new_email, shoot
from tests.support.api import PASSWORD
from tests.support.browser_fixtures import BrowserLog
from tests.support.database import Database
from tests.support.emulators import EmulatorHandle

MACHINE_URL = re.compile(r"/app/instances/(\d+)(\?checkout=success)?$")


def test_a_customer_runs_a_machine_from_signup_to_termination(
    page: Page,
    vultr: EmulatorHandle,
    browser_log: BrowserLog,
    stripe_server: str,
    new_context: Callable[[], BrowserContext],
    database: Database,
) -> None:
    email = new_email()

    # Sign up.
    page.goto("/signup")
    expect(page.get_by_role("heading", name="Create your account")).to_be_visible()
    shoot(page, "signup")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(re.compile(r"/app/instances$"))
    expect(page.get_by_role("heading", name="No machines yet")).to_be_visible()
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Instances")).to_have_attribute("aria-current", "page")
    shoot(page, "instances-empty")

    # Order: plans with price and specs, regions only where the plan is offered.
    page.get_by_role("link", name="Order your first machine").click()
    expect(page.get_by_role("heading", name="New machine", level=1)).to_be_visible()
    expect(page.get_by_text("$29.00 / month", exact=True)).to_be_visible()
    expect(page.get_by_text("4 GB RAM").first).to_be_visible()
    region = page.get_by_label("Region")
    page.get_by_role("radio", name=re.compile(r"^GPU")).check()
    expect(region.locator("option")).to_have_text(["US East", "EU Central"])
    page.get_by_role("radio", name=re.compile(r"^Basic")).check()
    expect(region.locator("option")).to_have_count(7)
    page.get_by_role("radio", name="Windows").check()
    region.select_option("us-east")
    expect(page.get_by_text("Basic with Windows in US East: $29.00 / month.")).to_be_visible()
    shoot(page, "new-machine")
    browser_log.allow_host(stripe_server)
    browser_log.allow(r"favicon\.ico")  # the payment page has none
    page.get_by_role("button", name="Order machine").click()

    # Payment on Stripe's page, then back to the machine.
    expect(page).to_have_url(re.compile(rf"^{re.escape(stripe_server)}/checkout/cs_test_"))
    expect(page.get_by_text("Visa ending 4242: succeeds")).to_be_visible()
    shoot(page, "checkout")
    page.get_by_role("button", name="Pay with test card").click()
    expect(page).to_have_url(MACHINE_URL)
    match = MACHINE_URL.search(page.url)
    assert match
    instance_id = int(match.group(1))
    name = f"nemordp-{instance_id}"
    expect(page.get_by_role("heading", name=name, level=1)).to_be_visible()
    expect(page.locator(".job-panel")).to_be_visible()
    expect(
        page.get_by_role("heading", name=re.compile(r"^Setup (in progress|finished)$"))
    ).to_be_visible()
    shoot(page, "machine-provisioning")
    status = page.locator(".page-header .badge")
    expect(status).to_have_text("Active", timeout=30_000)
    expect(page.get_by_role("heading", name="Setup finished")).to_be_visible()
    expect(page.locator(".facts").first).to_contain_text("127.31.")

    # The .rdp file, from the API route.
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download .rdp file").click()
    download = download_info.value
    assert download.suggested_filename == f"nemordp-{instance_id}.rdp"
    with open(download.path(), encoding="utf-8", newline="") as rdp:
        content = rdp.read()
    assert "full address:s:127.31." in content
    assert "username:s:Administrator\r\n" in content
    assert "password" not in content.lower()

    # Credentials, revealed and copied.
    page.get_by_role("button", name="Show credentials").click()
    expect(page.get_by_label("Username", exact=True)).to_have_value("Administrator")
    password = page.get_by_label("Password", exact=True).input_value()
    assert len(password) >= 16
    page.get_by_role("button", name="Copy password").click()
    expect(page.get_by_role("button", name="Copy password")).to_have_text("Copied")
    assert page.evaluate("() => navigator.clipboard.readText()") == password
    expect(page.get_by_role("button", name="Hide credentials")).to_have_attribute(
        "aria-expanded", "true"
    )
    shoot(page, "machine-active")

    # Restart, with its progress, back to active.
    page.get_by_role("button", name="Restart").click()
    expect(
        page.get_by_role("heading", name=re.compile(r"^Restart (in progress|finished)$"))
    ).to_be_visible()
    expect(page.locator(".job-panel .steps")).to_contain_text("Restarting the machine")
    expect(page.get_by_role("heading", name="Restart finished")).to_be_visible(timeout=30_000)
    expect(status).to_have_text("Active", timeout=15_000)

    # Stop, then start.
    page.get_by_role("button", name="Stop").click()
    expect(page.get_by_role("heading", name="Stop finished")).to_be_visible(timeout=30_000)
    expect(status).to_have_text("Stopped")
    expect(page.get_by_role("link", name="Download .rdp file")).to_be_hidden()
    shoot(page, "machine-stopped")
    page.get_by_role("button", name="Start", exact=True).click()
    expect(page.get_by_role("heading", name="Start finished")).to_be_visible(timeout=30_000)
    expect(status).to_have_text("Active", timeout=15_000)

    # A preference: idle machines are shut down, and that is remembered.
    nav.get_by_role("link", name="Settings").click()
    page.get_by_role("tab", name="Preferences").click()
    shutdown = page.get_by_role("switch", name="Shut down idle machines")
    expect(shutdown).not_to_be_checked()
    shutdown.check()
    page.get_by_role("button", name="Save preferences").click()
    expect(page.get_by_text("Preferences saved.")).to_be_visible()
    page.reload()
    expect(shutdown).to_be_checked()

    # A ticket about the machine, answered by support, and the customer's reply.
    nav.get_by_role("link", name="Support").click()
    form = page.get_by_role("region", name="Open a ticket")
    form.get_by_label("Subject").fill(f"Sound on {name}")
    form.get_by_label("Priority").select_option("high")
    form.get_by_label("Message").fill("No sound over Remote Desktop.")
    form.get_by_role("button", name="Send ticket").click()
    expect(form.get_by_role("status")).to_contain_text(re.compile(r"Ticket #\d+ is open"))

    staff_context = new_context()
    make_staff(database, ApiSession(staff_context).user_id)
    desk = staff_context.new_page()
    desk.goto("/app/staff/tickets")
    desk.get_by_role("link", name=f"Sound on {name}").click()
    desk.get_by_label("Your answer").fill("Tick 'Play on this computer' in the .rdp file.")
    desk.get_by_role("button", name="Send answer").click()
    expect(desk.locator(".thread .message")).to_have_count(2)

    page.get_by_role("link", name=f"Sound on {name}").click()
    answer = page.locator(".thread .message").last
    expect(answer).to_contain_text("NemoRDP support")
    expect(answer).to_contain_text("Play on this computer")
    page.get_by_label("Your reply").fill("That fixed it, thank you.")
    page.get_by_role("button", name="Send reply").click()
    expect(page.locator(".thread .message")).to_have_count(3)
    shoot(page, "journey-ticket")

    # Cancel the subscription: the machine keeps running until the period ends.
    nav.get_by_role("link", name="Billing").click()
    subscription = page.locator("tbody tr", has=page.get_by_role("link", name=name))
    subscription.get_by_role("button", name=f"Cancel the subscription of {name}").click()
    page.get_by_role("dialog").get_by_role("button", name="Cancel at period end").click()
    expect(subscription.locator(".badge")).to_have_text("Not renewing", timeout=30_000)

    # The list shows the machine, live.
    nav.get_by_role("link", name="Instances").click()
    row = page.locator("tbody tr", has=page.get_by_role("link", name=name))
    expect(row.locator(".badge")).to_have_text("Active")
    shoot(page, "instances-list")
    row.get_by_role("link", name=name).click()

    # Terminate: the confirmation names the machine and wants it typed.
    page.get_by_role("button", name="Terminate…").click()
    dialog = page.get_by_role("dialog", name=f"Terminate {name}?")
    expect(dialog).to_be_visible()
    confirm = dialog.get_by_role("button", name=f"Terminate {name}")
    expect(confirm).to_be_disabled()
    typed = dialog.get_by_label(f"Type {name} to confirm")
    typed.fill("nemordp-0")
    expect(confirm).to_be_disabled()
    typed.fill(name)
    expect(confirm).to_be_enabled()
    shoot(page, "terminate-dialog")
    confirm.click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("heading", name="Termination finished")).to_be_visible(timeout=30_000)
    expect(status).to_have_text("Terminated")
    expect(page.get_by_role("button", name="Restart")).to_be_hidden()
    assert vultr.machines() == []
    shoot(page, "machine-terminated")

    # Log out, log back in.
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/login\?logged_out=1$"))
    expect(page.get_by_text("You have logged out.")).to_be_visible()
    shoot(page, "login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/app/instances$"))
    expect(page.locator("tbody tr .badge")).to_have_text(["Terminated"])
