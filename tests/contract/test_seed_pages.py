"""The seed's own pages work against our API unchanged.

The seed (the product specification we started from) ships two pages, `app/settings/page.tsx`
and `app/support/page.tsx`, and backend sketches (`routers/instances.py`,
`routers/billing.py`, `security/validation.py`) that fix the request shapes and fields of
the routes those pages and their clients call. Every call here is sent as the seed sends it:
a bearer token from localStorage, `Content-Type: application/json` and a JSON body only
where the page sends one, no cookie and no CSRF token. Every check reads a field the way
the seed reads it; each cites its source as `file:line`, the line being that of the sketch
in the seed's specification text. Payments, webhooks, provisioning and jobs are real: the
local Stripe, the Vultr emulator and a Celery worker.
"""

from __future__ import annotations

import json
import time
from datetime import datetime
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.support.api import (
    Customer,
    error_of,
    pay,
    wait_for_instance_job,
    wait_for_job,
)
from tests.support.emulators import EmulatorHandle, wait_until

MONTH = 32 * 86400  # a billing period is at most 31 days


class SeedClient:
    """The seed's `fetch` calls: `Authorization: Bearer ${localStorage.getItem('token')}`
    on every one, a JSON body only when the page passes `body`, and nothing else."""

    def __init__(self, app: Flask, customer: Customer) -> None:
        token = customer.post("/api/auth/tokens", json={"name": "seed"}).get_json()["token"]
        self.client = app.test_client(use_cookies=False)
        self.headers = {"Authorization": f"Bearer {token}"}

    def fetch(self, path: str, method: str = "GET", body: Any = None) -> TestResponse:
        if body is None:
            return self.client.open(path, method=method, headers=self.headers)
        return self.client.open(
            path,
            method=method,
            headers={**self.headers, "Content-Type": "application/json"},
            data=json.dumps(body),
        )


def _ok(response: TestResponse) -> dict[str, Any]:
    """`response.ok`, then `response.json()`, as the seed's pages do."""
    assert 200 <= response.status_code < 300, (response.status_code, response.get_data())
    body: dict[str, Any] = response.get_json()
    return body


def _seed_order(seed: SeedClient, customer: Customer, plan: str = "basic") -> dict[str, Any]:
    """An order in the seed's shape, paid, provisioned: the active machine."""
    # security/validation.py:974-977: CreateInstanceRequest is {os_type, plan}, no region.
    placed = _ok(seed.fetch("/api/instances", "POST", {"os_type": "linux", "plan": plan}))
    instance_id = placed["instance"]["id"]
    assert pay(placed["checkout_url"]).status_code == 303
    job = wait_for_instance_job(customer, instance_id, "provision")
    assert wait_for_job(customer, job["id"])["state"] == "succeeded"
    instance: dict[str, Any] = _ok(seed.fetch(f"/api/instances/{instance_id}"))
    assert instance["status"] == "active"
    return instance


def test_the_settings_and_support_pages_of_a_new_account(app: Flask, client: FlaskClient) -> None:
    customer = Customer(client)
    seed = SeedClient(app, customer)

    # app/settings/page.tsx:420: fetch('/api/auth/me'); the page's UserProfile (:394-403).
    me = _ok(seed.fetch("/api/auth/me"))
    assert me["email"] == customer.email  # :484 value={userProfile?.email}
    datetime.fromisoformat(me["created_at"])  # :496 new Date(userProfile.created_at)
    assert {"email_notifications", "auto_shutdown", "default_os"} <= set(me["preferences"])
    assert me["preferences"]["default_os"] in ("windows", "linux")  # :605-606 its options

    # :430 fetch('/api/billing/subscription'); :518 status !== 'active' shows
    # "No active subscription"; routers/billing.py:231 names it.
    billing = _ok(seed.fetch("/api/billing/subscription"))
    assert billing["status"] == "no_subscription"

    # :502 "Save Changes" is updateProfileMutation.mutate({}): :439-445 PUT with
    # Content-Type: application/json and body JSON.stringify({}); :447 response.json().
    saved = _ok(seed.fetch("/api/auth/profile", "PUT", {}))
    assert saved["email"] == customer.email and saved["preferences"] == me["preferences"]

    # app/support/page.tsx:692-705: POST the form {subject, priority, message} (priority
    # 'medium' by default, or one of :782-785); :708 only response.ok is read.
    for priority in ("medium", "low", "high", "urgent"):
        form = {"subject": "Cannot connect", "priority": priority, "message": "RDP says no."}
        _ok(seed.fetch("/api/support/tickets", "POST", form))


def test_the_settings_page_and_the_seeds_calls_for_one_machine(
    app: Flask, client: FlaskClient, vultr: EmulatorHandle
) -> None:
    customer = Customer(client)
    seed = SeedClient(app, customer)
    plans = {plan["code"]: plan for plan in _ok(seed.fetch("/api/plans"))["plans"]}
    instance = _seed_order(seed, customer)
    # An order naming no region runs in the plan's default region.
    assert instance["region"] == plans["basic"]["default_region"] == "us-east"
    assert [machine["region"] for machine in vultr.machines()] == ["ewr"]
    instance_id = instance["id"]

    # app/settings/page.tsx:430 fetch('/api/billing/subscription'), read at :518-550.
    now = time.time()
    billing = _ok(seed.fetch("/api/billing/subscription"))
    assert billing["status"] == "active"  # :518
    assert billing["plan_name"] == "Basic"  # :523
    # :527 `${billingInfo.amount}/month`, dollars: routers/billing.py:251 unit_amount / 100.
    assert f"${billing['amount']:g}/month" == "$29/month"
    assert isinstance(billing["amount"], int | float) and billing["currency"] == "usd"  # :252
    # :532 new Date(billingInfo.current_period_end * 1000): Unix seconds (:248-249).
    assert isinstance(billing["current_period_end"], int)
    assert now < billing["current_period_end"] < now + MONTH
    assert isinstance(billing["current_period_start"], int)
    assert now - MONTH < billing["current_period_start"] <= now + 1
    assert billing["cancel_at_period_end"] is False  # :538 'Active', :550 'Cancel Subscription'
    assert billing["subscription_id"].startswith("sub_")  # :247, BillingInfo (:407)

    # routers/billing.py:293-316: the invoices, each {id, amount_paid / 100, currency,
    # status, created (Unix seconds), invoice_pdf}.
    invoices = wait_until(lambda: _ok(seed.fetch("/api/billing/invoices"))["items"])
    [invoice] = invoices
    assert invoice["id"].startswith("in_") and invoice["status"] == "paid"
    assert invoice["amount_paid"] == 29 and invoice["currency"] == "usd"
    assert isinstance(invoice["created"], int) and now - 600 < invoice["created"] <= now + 1
    assert invoice["invoice_pdf"]

    # routers/instances.py:23-32: the caller's machines, newest first.
    listed = _ok(seed.fetch("/api/instances"))["instances"]
    assert [machine["id"] for machine in listed] == [instance_id]

    # routers/instances.py:107-177: a .rdp file naming the address and the user.
    rdp = seed.fetch(f"/api/instances/{instance_id}/rdp-file")
    assert rdp.status_code == 200
    assert f"nemordp-{instance_id}.rdp" in rdp.headers["Content-Disposition"]
    text = rdp.get_data(as_text=True)
    assert f"full address:s:{instance['ip_address']}" in text  # :146
    assert f"username:s:{instance['username']}" in text  # :169

    # routers/instances.py:180-205: uptime, status, created_at, last_accessed, transfer.
    usage = _ok(seed.fetch(f"/api/instances/{instance_id}/usage"))
    assert usage["uptime_hours"] >= 0 and usage["status"] == "active"
    datetime.fromisoformat(usage["created_at"])
    assert "last_accessed" in usage and usage["data_transfer_gb"] >= 0

    # routers/instances.py:35-38: POST …/restart, no body.
    restarted = _ok(seed.fetch(f"/api/instances/{instance_id}/restart", "POST"))
    assert wait_for_job(customer, restarted["job"]["id"])["state"] == "succeeded"

    # routers/billing.py:324-326: upgrade_plan(new_plan: str) takes new_plan in the query
    # string, with no body; the customer's one subscription is the one changed (:343-352).
    upgraded = _ok(seed.fetch("/api/billing/upgrade-plan?new_plan=performance", "POST"))
    assert wait_for_job(customer, upgraded["job"]["id"])["state"] == "succeeded"
    assert _ok(seed.fetch(f"/api/instances/{instance_id}"))["plan"] == "performance"
    assert vultr.machines()[0]["plan"] == "vc2-4c-8gb"
    billing = _ok(seed.fetch("/api/billing/subscription"))
    assert billing["plan_name"] == "Performance"  # :523
    assert f"${billing['amount']:g}/month" == "$59/month"  # :527

    # app/settings/page.tsx:453-455: "Cancel Subscription" POSTs with no body and no
    # Content-Type; :547 cancelSubscriptionMutation.mutate().
    cancelled = _ok(seed.fetch("/api/billing/cancel-subscription", "POST"))
    [job] = cancelled["jobs"]
    assert wait_for_job(customer, job["id"])["state"] == "succeeded"
    billing = _ok(seed.fetch("/api/billing/subscription"))
    assert billing["status"] == "active"  # it runs to the end of its period (:277-280)
    assert billing["cancel_at_period_end"] is True  # :538 'Cancelling', :548-550 'Cancelled'

    # routers/instances.py:67-70: DELETE the machine.
    terminated = _ok(seed.fetch(f"/api/instances/{instance_id}", "DELETE"))
    assert wait_for_job(customer, terminated["job"]["id"])["state"] == "succeeded"
    assert vultr.machines() == []


def test_with_several_machines_the_seeds_calls_are_told_to_name_one(
    app: Flask, client: FlaskClient, vultr: EmulatorHandle
) -> None:
    customer = Customer(client)
    seed = SeedClient(app, customer)
    first, second = _seed_order(seed, customer), _seed_order(seed, customer)

    # The seed's calls name no machine (routers/billing.py:324-326, settings/page.tsx:453):
    # with two subscriptions, the answer says which field to add, and nothing changes.
    for path in (
        "/api/billing/upgrade-plan?new_plan=performance",
        "/api/billing/cancel-subscription",
    ):
        refused = seed.fetch(path, "POST")
        assert refused.status_code == 422, refused.get_json()
        assert list(error_of(refused)["fields"]) == ["instance_id"]
    mismatched = seed.fetch(
        "/api/billing/upgrade-plan?new_plan=performance",
        "POST",
        {"instance_id": first["id"], "new_plan": "gpu"},
    )
    assert mismatched.status_code == 422 and list(error_of(mismatched)["fields"]) == ["new_plan"]
    both = seed.fetch("/api/billing/cancel-subscription", "POST", {"instance_id": 1, "all": True})
    assert both.status_code == 422 and list(error_of(both)["fields"]) == ["all"]
    billing = _ok(seed.fetch("/api/billing/subscription"))
    assert billing["cancel_at_period_end"] is False
    assert {s["plan"] for s in billing["subscriptions"]} == {"basic"}

    # Naming it works in the seed's form (the query string) and in ours (a JSON body).
    upgraded = _ok(
        seed.fetch(
            f"/api/billing/upgrade-plan?new_plan=performance&instance_id={first['id']}", "POST"
        )
    )
    assert upgraded["job"]["instance_id"] == first["id"]
    cancelled = _ok(
        seed.fetch("/api/billing/cancel-subscription", "POST", {"instance_id": second["id"]})
    )
    assert [job["instance_id"] for job in cancelled["jobs"]] == [second["id"]]
    for job in (upgraded["job"], *cancelled["jobs"]):
        assert wait_for_job(customer, job["id"])["state"] == "succeeded"
    plans = {
        s["instance_id"]: s for s in _ok(seed.fetch("/api/billing/subscription"))["subscriptions"]
    }
    assert plans[first["id"]]["plan"] == "performance"
    assert plans[first["id"]]["cancel_at_period_end"] is False
    assert plans[second["id"]]["cancel_at_period_end"] is True
