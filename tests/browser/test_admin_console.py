"""The operator console in a real browser, at desktop and phone width: an admin signs in,
finds a customer, refunds part of an invoice, suspends the customer (their machine stops,
their sign-in is refused), lifts it, retries a failed job, approves an orphan's destruction
and reads each action in the audit log. Customers and staff are refused plainly where the
API refuses them; and the overview is photographed for the README."""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Callable
from datetime import timedelta

import httpx
import pytest
from flask import Flask
from playwright.sync_api import BrowserContext, Locator, Page, ViewportSize, expect

from app import task_names
from app.models import Invoice, Role, Subscription, SupportTicket
from app.models.base import utcnow
from app.models.instance import machine_label
from tests.browser.support import (
    DESKTOP,
    SCREENSHOTS,
    ApiSession,
    check_accessibility,
    make_staff,
    shoot,
    tab_to,
)
from tests.support.api import PASSWORD, Customer
from tests.support.browser_fixtures import BrowserLog
from tests.support.database import Database
from tests.support.emulators import EmulatorHandle, wait_until
from tests.support.factories import make_instance

PHONE_390: ViewportSize = {"width": 390, "height": 844}
WIDTHS = pytest.mark.parametrize("viewport", [DESKTOP, PHONE_390], ids=["desktop", "phone"])
REASONS = {
    "invoice_refunded": "Two days without sound, agreed on ticket 12.",
    "customer_suspended": "Card reported stolen by its holder.",
    "customer_unsuspended": "The holder confirmed the payment.",
    "job_retried": "The provider unlocked the server.",
    "finding_destroy_approved": "Left over from a deleted test account.",
}


def _sign_in(page: Page, email: str) -> None:
    page.goto("/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def _go(page: Page, section: str) -> None:
    """Open a section of the console from its own navigation, as a person would."""
    page.get_by_role("navigation", name="Console").get_by_role("link", name=section).click()
    expect(page.get_by_role("heading", name=section, level=1)).to_be_visible()


def _no_sideways_scroll(page: Page) -> None:
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{page.url} scrolls sideways by {overflow}px"


def _act(page: Page, button: Locator, dialog_name: str, confirm: str, **inputs: str) -> None:
    """Open an action's dialog, fill its inputs (by label) and confirm it."""
    button.click()
    dialog = page.get_by_role("dialog", name=dialog_name)
    expect(dialog).to_be_visible()
    for label, value in inputs.items():
        dialog.get_by_label(label.replace("_", " "), exact=True).fill(value)
    dialog.get_by_role("button", name=confirm, exact=True).click()
    expect(dialog).to_be_hidden(timeout=15_000)


def _orphan_at_vultr(vultr: EmulatorHandle, label: str) -> str:
    """A machine of ours at the Vultr emulator that no instance owns; its id."""
    response = httpx.post(
        f"{vultr.base_url}/v2/instances",
        headers={"Authorization": "Bearer test-vultr-key"},
        json={"region": "ewr", "plan": "vc2-2c-4gb", "os_id": 1743, "label": label},
    )
    response.raise_for_status()
    machine_id: str = response.json()["instance"]["id"]
    wait_until(lambda: any(m["id"] == machine_id for m in vultr.machines()), timeout=10)
    return machine_id


def _reconcile(app: Flask) -> None:
    """One reconciliation pass with Vultr, run by the worker."""
    celery = app.extensions["celery"]
    task = celery.send_task(task_names.RECONCILE_PROVIDER, args=["vultr"], ignore_result=False)
    task.get(timeout=60)


@WIDTHS
def test_an_admin_runs_the_business_from_the_console(
    viewport: ViewportSize,
    app: Flask,
    page: Page,
    context: BrowserContext,
    new_context: Callable[[], BrowserContext],
    browser_log: BrowserLog,
    vultr: EmulatorHandle,
    stripe_server: str,
    database: Database,
) -> None:
    phone = viewport == PHONE_390
    # A customer with a paid machine, whose restart the provider refused once.
    customer_context = new_context()
    customer = ApiSession(customer_context)
    ordered = customer.order(os_type="linux")
    assert customer.wait_for_job(ordered["job"]["id"])["state"] == "succeeded"
    instance_id, name = ordered["instance"]["id"], ordered["instance"]["name"]
    invoice = wait_until(lambda: customer.get("/api/billing/invoices")["items"], timeout=15)[0]
    vultr.inject("reboot", "permanent", status=400, message="The server is locked")
    failed = customer.post(f"/api/instances/{instance_id}/restart")["job"]
    assert customer.wait_for_job(failed["id"])["state"] == "failed"
    wait_until(lambda: customer.get(f"/api/instances/{instance_id}")["status"] == "active")
    # A machine labelled by this install for an instance newer than the database: the
    # reconciliation pass keeps it for an operator instead of destroying it.
    orphan_label = machine_label(os.environ["INSTALL_ID"], instance_id + 1000)
    orphan_id = _orphan_at_vultr(vultr, orphan_label)
    _reconcile(app)

    admin = ApiSession(context)
    make_staff(database, admin.user_id, Role.ADMIN)
    admin.logout()
    browser_log.allow(r"status of 401")  # the suspended customer's refused sign-ins

    # The admin signs in and opens the console from the dashboard's navigation.
    page.set_viewport_size(viewport)
    _sign_in(page, admin.email)
    expect(page).to_have_url(re.compile(r"/app/instances$"))
    nav = page.get_by_role("navigation", name="Main")
    if phone:
        page.get_by_role("button", name="Menu").click()
    nav.get_by_role("link", name="Console").click()
    expect(page.get_by_role("heading", name="Overview", level=1)).to_be_visible()
    console_link = page.locator('.primary-nav a[href="/app/admin"]')  # hidden on a phone now
    expect(console_link).to_have_attribute("aria-current", "page")
    machines = page.get_by_role("region", name="Machines")
    expect(machines.get_by_role("table", name="Machines by status")).to_contain_text("Active")
    page.get_by_text("Revenue: the figures").click()
    expect(page.get_by_role("table", name="Revenue, per day")).to_contain_text("$29.00")
    if phone:
        _no_sideways_scroll(page)
    else:
        check_accessibility(page)
        shoot(page, "admin-overview")

    # Find the customer.
    _go(page, "Customers")
    page.get_by_label("E-mail, name or id").fill(customer.email.upper())
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("status").filter(has_text="account")).to_have_text("1 account.")
    page.get_by_role("link", name=customer.email).click()
    expect(page.get_by_role("heading", name=customer.email, level=1)).to_be_visible()
    machine_row = page.locator("tr", has=page.get_by_role("link", name=name))
    expect(machine_row.locator(".badge")).to_have_text("Active")
    if not phone:
        check_accessibility(page)
        shoot(page, "admin-customer")

    # Refund part of the invoice: shown here and on the customer's invoice history.
    invoice_row = page.locator(f'tr[data-invoice="{invoice["id"]}"]')
    _act(
        page,
        invoice_row.get_by_role("button", name=f"Refund invoice {invoice['id']}"),
        f"Refund invoice {invoice['id']}?",
        "Refund",
        **{"Amount (USD)": "10.00", "Reason": REASONS["invoice_refunded"]},
    )
    expect(
        page.locator("main").get_by_text(f"Invoice {invoice['id']} refunded: $10.00 given back")
    ).to_be_visible()
    expect(invoice_row.locator(".badge")).to_have_text("Partly refunded")
    expect(invoice_row.locator('[data-label="Refunded"]')).to_have_text("$10.00")
    history = customer.get("/api/billing/invoices")["items"][0]
    assert history["amount_refunded_cents"] == 1000 and history["refunded"] is False

    # Suspend, with the keyboard alone: the machine stops, the customer is signed out and
    # cannot sign in.
    suspend = page.get_by_role("button", name="Suspend…")
    tab_to(page, suspend, backwards=True)
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name=f"Suspend {customer.email}?")
    expect(dialog.get_by_label("Reason")).to_be_focused()
    page.keyboard.type(REASONS["customer_suspended"])
    page.keyboard.press("Enter")
    expect(dialog).to_be_hidden(timeout=15_000)
    expect(
        page.locator("main").get_by_text("The account is suspended; 1 machine(s) stopping.")
    ).to_be_visible()
    expect(page.locator(".fact", has_text="Standing").locator(".badge")).to_have_text("Suspended")
    expect(machine_row.locator(".badge")).to_have_text("Stopped", timeout=30_000)
    refused = customer_context.new_page()
    refused.set_viewport_size(viewport)
    refused.goto("/app/instances")
    expect(refused).to_have_url(re.compile(r"/login\?"))
    _sign_in(refused, customer.email)
    expect(refused.get_by_role("alert")).to_contain_text("Wrong e-mail or password.")
    if phone:
        _no_sideways_scroll(page)

    # Unsuspend: the machine the suspension stopped starts again; the customer signs in.
    _act(
        page,
        page.get_by_role("button", name="Unsuspend…"),
        f"Unsuspend {customer.email}?",
        "Unsuspend",
        Reason=REASONS["customer_unsuspended"],
    )
    expect(
        page.locator("main").get_by_text(
            "The account is no longer suspended; 1 machine(s) starting."
        )
    ).to_be_visible()
    expect(machine_row.locator(".badge")).to_have_text("Active", timeout=30_000)
    _sign_in(refused, customer.email)
    expect(refused).to_have_url(re.compile(r"/app/instances$"))

    # Retry the failed restart: a new job, which the worker finishes.
    _go(page, "Jobs")
    job_row = page.locator(f'tr[data-job-id="{failed["id"]}"]')
    expect(job_row).to_contain_text("The server is locked")
    _act(
        page,
        job_row.get_by_role("button", name=f"Retry job #{failed['id']}"),
        f"Retry job #{failed['id']}?",
        "Retry",
        Reason=REASONS["job_retried"],
    )
    retried = page.locator("main").get_by_text(
        re.compile(rf"Job #{failed['id']} retried as job #(\d+)\.")
    )
    expect(retried).to_be_visible()
    expect(page.get_by_text("No failed job waits.")).to_be_visible()
    found = re.search(r"job #(\d+)\.", retried.inner_text())
    assert found
    retry_id = int(found.group(1))
    if phone:
        _no_sideways_scroll(page)
    page.goto(f"/app/admin/machines/{instance_id}")
    retry_row = page.locator(f'tr[data-job-id="{retry_id}"]')
    expect(retry_row.locator(".badge")).to_have_text("Succeeded", timeout=30_000)
    expect(page.locator(f'tr[data-job-id="{failed["id"]}"]')).to_contain_text(
        "The server is locked"
    )
    if not phone:
        shoot(page, "admin-machine")

    # Approve the orphan's destruction; the next pass destroys it.
    _go(page, "Reconciliation")
    finding = page.locator("tr", has_text=orphan_label)
    expect(finding).to_contain_text("newer than the database")
    _act(
        page,
        finding.get_by_role("button", name=f"Approve the destruction of {orphan_label}"),
        f"Approve the destruction of {orphan_label}?",
        "Approve destruction",
        Reason=REASONS["finding_destroy_approved"],
    )
    expect(finding.locator(".badge")).to_have_text("To be destroyed")
    if phone:
        _no_sideways_scroll(page)
    else:
        shoot(page, "admin-reconciliation")
    _reconcile(app)
    assert orphan_id not in {m["id"] for m in vultr.machines()}
    page.get_by_label("Show settled findings too").check()
    expect(finding.locator(".badge")).to_have_text("Settled")
    expect(finding).to_contain_text("destroyed")

    # Every action is in the audit log, with its reason; the CSV says the same.
    _go(page, "Audit log")
    page.get_by_label("Action").fill("admin.*")
    page.get_by_role("button", name="Filter").click()
    rows = page.locator("tbody tr[data-action]")
    expect(rows).to_have_count(len(REASONS))
    for action, reason in REASONS.items():
        expect(page.locator(f'tr[data-action="admin.{action}"]')).to_contain_text(reason)
    expect(page.locator('tr[data-action="admin.invoice_refunded"]')).to_contain_text(
        "amount_refunded_cents: 0 → 1000"
    )
    if phone:
        _no_sideways_scroll(page)
    else:
        check_accessibility(page)
        shoot(page, "admin-audit")
    export = page.get_by_role("link", name="Export as CSV")
    href = export.get_attribute("href") or ""
    assert href.startswith("/api/admin/audit/export?")
    exported = context.request.get(href)
    assert exported.ok and exported.headers["content-type"].startswith("text/csv")
    listed = list(csv.DictReader(io.StringIO(exported.text())))
    assert {row["action"]: row["reason"] for row in listed} == {
        f"admin.{action}": reason for action, reason in REASONS.items()
    }


def test_customers_and_staff_are_refused_plainly_where_the_api_refuses_them(
    page: Page,
    context: BrowserContext,
    new_context: Callable[[], BrowserContext],
    browser_log: BrowserLog,
    database: Database,
) -> None:
    browser_log.allow(r"status of 403")
    ApiSession(context)
    page.goto("/app/instances")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Instances")).to_be_visible()
    expect(nav.get_by_role("link", name="Console")).to_be_hidden()
    for path, said in (
        ("/app/admin", "You may not do that."),
        ("/app/admin/customers/1", "You may not do that."),
        ("/app/admin/audit", "Only an admin may do that."),
    ):
        page.goto(path)
        expect(page.get_by_role("heading", name="Not allowed", level=1)).to_be_visible()
        expect(page.get_by_text(said)).to_be_visible()
        expect(page.get_by_role("navigation", name="Console")).to_have_count(0)

    staff_context = new_context()
    staff = ApiSession(staff_context)
    make_staff(database, staff.user_id)
    desk = staff_context.new_page()
    desk.goto("/app/instances")
    desk.get_by_role("navigation", name="Main").get_by_role("link", name="Console").click()
    expect(desk.get_by_role("heading", name="Overview", level=1)).to_be_visible()
    console = desk.get_by_role("navigation", name="Console")
    expect(console.get_by_role("link")).to_have_text(
        ["Overview", "Customers", "Machines", "Jobs", "Billing", "Catalogue"]
    )
    desk.goto("/app/admin/audit")
    expect(desk.get_by_role("heading", name="Not allowed", level=1)).to_be_visible()
    expect(desk.get_by_text("Only an admin may do that.")).to_be_visible()
    desk.goto(f"/app/admin/customers/{staff.user_id}")
    expect(desk.get_by_role("heading", name=staff.email, level=1)).to_be_visible()
    expect(desk.get_by_role("button", name="Suspend…")).to_have_count(0)  # admins only


# The README's picture: a small business of three months, with revenue and machines each day.
README_CUSTOMERS = [
    "Ada Lovelace",
    "Grace Hopper",
    "Alan Turing",
    "Edsger Dijkstra",
    "Barbara Liskov",
]


def test_the_overview_for_the_readme(
    app: Flask,
    page: Page,
    context: BrowserContext,
    vultr: EmulatorHandle,
    contabo: EmulatorHandle,
    stripe_server: str,
    database: Database,
) -> None:
    admin = ApiSession(context)
    make_staff(database, admin.user_id, Role.ADMIN)
    named = context.request.put(
        "/api/auth/profile",
        data={"full_name": "Margaret Hamilton"},
        headers={"X-CSRF-Token": admin.csrf},
    )
    assert named.ok, named.text()
    owners = [Customer(app.test_client()).id for _ in README_CUSTOMERS]
    now = utcnow()
    rows: list[object] = []
    for day in range(89, -1, -1):
        when = now - timedelta(days=day, hours=2)
        owner = owners[day % len(owners)]
        if day % 3 == 0 or (day < 30 and day % 2 == 0):
            plan = ("basic", "performance", "basic", "gpu")[day % 4]
            price = {"basic": 2900, "performance": 5900, "gpu": 14900}[plan]
            instance = make_instance(
                database,
                owner,
                plan=plan,
                region=("us-east", "eu-central", "uk", "us-west")[day % 4],
                provider="contabo" if day % 5 == 0 else "vultr",
                provider_id=f"readme-{day}",
                created_at=when,
                delivered_at=when,
                status="stopped" if day % 7 == 0 else "active",
            )
            rows += [
                Subscription(
                    user_id=owner,
                    instance_id=instance.id,
                    plan_id=instance.plan_id,
                    stripe_subscription_id=f"sub_readme_{day}",
                    status="active",
                    amount_cents=price,
                    currency="usd",
                ),
                Invoice(
                    user_id=owner,
                    stripe_invoice_id=f"in_readme_{day}",
                    status="paid",
                    amount_due=price,
                    amount_paid=price,
                    currency="usd",
                    created=when,
                ),
            ]
    rows += [
        SupportTicket(user_id=owners[0], subject="Sound over Remote Desktop", priority="high"),
        SupportTicket(user_id=owners[1], subject="Invoice address", priority="low"),
    ]
    database.add(*rows)

    page.set_viewport_size({"width": 1280, "height": 1000})
    page.goto("/app/admin")
    expect(page.get_by_role("heading", name="Overview", level=1)).to_be_visible()
    expect(page.locator(".trend-svg")).to_have_count(2)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "readme-admin-overview.png")


def test_machines_billing_and_the_catalogue_pages(
    app: Flask, page: Page, context: BrowserContext, browser_log: BrowserLog, database: Database
) -> None:
    browser_log.allow(r"status of 422")  # the owner filter given a name, not an id
    admin = ApiSession(context)
    make_staff(database, admin.user_id, Role.ADMIN)
    owner = Customer(app.test_client())
    running = make_instance(database, owner.id, provider_id="p-running")
    late = make_instance(database, owner.id, status="stopped", provider_id="p-late")
    database.add(
        Subscription(
            user_id=owner.id,
            instance_id=late.id,
            plan_id=late.plan_id,
            stripe_subscription_id="sub_late",
            status="past_due",
            amount_cents=2900,
            currency="usd",
            past_due_since=utcnow() - timedelta(days=1),
        )
    )

    page.goto("/app/admin/machines")
    expect(page.get_by_text("2 machines.")).to_be_visible()
    page.get_by_label("Status").select_option("stopped")
    expect(page.get_by_text("1 machine.")).to_be_visible()
    expect(page.get_by_role("link", name=late.name)).to_be_visible()
    expect(page.get_by_role("link", name=running.name)).to_have_count(0)
    expect(page).to_have_url(re.compile(r"/app/admin/machines\?status=stopped$"))
    page.get_by_label("Owner (account id)").fill("me")
    page.get_by_role("button", name="Filter").click()
    owner_filter = page.get_by_label("Owner (account id)")
    expect(owner_filter).to_have_attribute("aria-invalid", "true")
    expect(page.locator(".field-error:not([hidden])")).to_have_text("Not a valid integer.")
    shoot(page, "admin-machines")

    _go(page, "Billing")
    overdue = page.get_by_role("region", name="Failed payments").locator("tbody tr")
    expect(overdue).to_have_count(1)
    expect(overdue).to_contain_text(owner.email)
    expect(overdue.get_by_role("button", name=re.compile("^Cancel now"))).to_be_visible()
    shoot(page, "admin-billing")

    _go(page, "Catalogue")
    expect(page.get_by_text("existing subscriptions keep")).to_be_visible()
    basic = page.locator('tr[data-plan="basic"]')
    for action, state in (("Close", "Closed"), ("Open", "Open")):
        _act(
            page,
            basic.get_by_role("button", name=f"{action} Basic to new orders"),
            f"{action} Basic to new orders?",
            f"{action} to new orders",
            Reason="Checking the console.",
        )
        expect(basic.locator(".badge")).to_have_text(state)
        if state == "Closed":
            shoot(page, "admin-catalogue")
            plans = context.request.get("/api/plans").json()["plans"]
            assert "basic" not in {plan["code"] for plan in plans}
