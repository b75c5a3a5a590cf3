"""Money and machines together, end to end: the API, the local Stripe through the official
library, signed webhooks delivered to the running app, a real worker and the provider
emulators."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from app.models import Instance, Invoice, Job, Subscription, User, WebhookEvent
from app.models.base import utcnow
from devtools.stack.stand_ins import LocalStripe
from tests.support.api import (
    Customer,
    error_of,
    order,
    pay,
    place_order,
    wait_for_instance_job,
    wait_for_job,
)
from tests.support.billing import renew, set_card, stripe_api
from tests.support.database import Database
from tests.support.emulators import EmulatorHandle, wait_until
from tests.support.mailbox import Mailbox


def _active_machine(customer: Customer, plan: str = "basic") -> dict[str, Any]:
    ordered = order(customer, plan=plan, os_type="linux", region="us-east")
    assert wait_for_job(customer, ordered["job"]["id"])["state"] == "succeeded"
    instance: dict[str, Any] = customer.get(
        f"/api/instances/{ordered['instance']['id']}"
    ).get_json()
    assert instance["status"] == "active"
    return instance


def _subscription(database: Database, instance_id: int) -> Subscription:
    found = database.scalar(select(Subscription).where(Subscription.instance_id == instance_id))
    assert found is not None
    return found


def _status(customer: Customer, instance_id: int) -> str:
    return str(customer.get(f"/api/instances/{instance_id}").get_json()["status"])


def test_a_paid_order_is_provisioned_and_mirrored(
    client: FlaskClient, vultr: EmulatorHandle, database: Database
) -> None:
    customer = Customer(client)
    placed = place_order(customer, plan="basic", os_type="linux")
    instance_id = placed["instance"]["id"]
    assert database.count(Job) == 0 and vultr.machines() == []

    answer = pay(placed["checkout_url"])
    assert answer.status_code == 303
    assert answer.headers["location"].endswith(f"/instances/{instance_id}?checkout=success")
    job = wait_for_instance_job(customer, instance_id, "provision")
    assert wait_for_job(customer, job["id"])["state"] == "succeeded"
    assert len(vultr.machines()) == 1

    summary = client.get("/api/billing/subscription").get_json()
    assert summary["status"] == "active" and summary["plan_name"] == "Basic"
    assert summary["amount_cents"] == 2900 and summary["currency"] == "usd"
    assert summary["cancel_at_period_end"] is False
    assert summary["current_period_end"] > summary["current_period_start"]
    [listed] = summary["subscriptions"]
    assert listed["instance_id"] == instance_id and listed["id"] == summary["subscription_id"]
    invoices = wait_until(lambda: client.get("/api/billing/invoices").get_json()["items"])
    assert invoices[0]["status"] == "paid" and invoices[0]["amount_paid_cents"] == 2900
    instance = client.get(f"/api/instances/{instance_id}").get_json()
    assert instance["checkout_url"] is None


def test_an_unpaid_order_builds_nothing_and_closes_when_its_page_expires(
    client: FlaskClient, vultr: EmulatorHandle, database: Database
) -> None:
    customer = Customer(client)
    placed = place_order(customer)
    instance = database.get(Instance, placed["instance"]["id"])
    assert instance is not None and instance.checkout_session_id is not None
    declined = pay(placed["checkout_url"], card="pm_card_chargeDeclined")
    assert declined.status_code == 402

    stripe_api().v1.checkout.sessions.expire(instance.checkout_session_id)

    wait_until(lambda: _status(customer, instance.id) == "terminated")
    assert database.count(Job) == 0 and vultr.machines() == []


def test_stripe_unreachable_at_order_time_is_a_clear_503_and_leaves_nothing(
    client: FlaskClient, app: Flask, database: Database, stripe_server: str
) -> None:
    customer = Customer(client)
    app.config["STRIPE_API_BASE"] = "http://127.0.0.1:9"  # nothing listens there
    app.extensions.pop("stripe", None)
    try:
        response = customer.post(
            "/api/instances", json={"plan": "basic", "os_type": "linux", "region": "us-east"}
        )
    finally:
        app.config["STRIPE_API_BASE"] = stripe_server
        app.extensions.pop("stripe", None)
    assert response.status_code == 503
    assert "Payments are unavailable" in error_of(response)["message"]
    assert database.count(Instance) == 0 and database.count(Job) == 0


def test_a_plan_upgrade_is_invoiced_then_the_machine_is_resized(
    client: FlaskClient, vultr: EmulatorHandle, database: Database
) -> None:
    customer = Customer(client)
    instance = _active_machine(customer)
    preview = client.get(
        f"/api/billing/upgrade-preview?instance_id={instance['id']}&new_plan=performance"
    ).get_json()
    assert 0 < preview["amount_due_cents"] <= 5900 - 2900 and preview["currency"] == "usd"

    response = customer.post(
        "/api/billing/upgrade-plan", json={"instance_id": instance["id"], "new_plan": "performance"}
    )
    assert response.status_code == 202, response.get_json()
    assert response.get_json()["proration"]["amount_due_cents"] > 0
    job = wait_for_job(customer, response.get_json()["job"]["id"])
    assert job["state"] == "succeeded", job

    after = client.get(f"/api/instances/{instance['id']}").get_json()
    assert after["plan"] == "performance" and after["status"] == "active"
    [machine] = vultr.machines()
    assert machine["plan"] == "vc2-4c-8gb"
    subscription = _subscription(database, instance["id"])
    assert subscription.amount_cents == 5900
    invoices = database.scalars(select(Invoice).order_by(Invoice.created))
    assert len(invoices) == 2 and invoices[-1].status == "paid"
    assert 0 < invoices[-1].amount_paid <= 5900 - 2900


def test_plan_changes_the_provider_cannot_do_are_refused_up_front(
    client: FlaskClient, vultr: EmulatorHandle, contabo: EmulatorHandle, database: Database
) -> None:
    customer = Customer(client)
    big = _active_machine(customer, plan="performance")
    cases = [
        ({"instance_id": big["id"], "new_plan": "basic"}, 409, "cannot shrink a disk"),
        ({"instance_id": big["id"], "new_plan": "performance"}, 409, "already on"),
        ({"instance_id": big["id"], "new_plan": "platinum"}, 422, "new_plan"),
        ({"instance_id": 999999, "new_plan": "gpu"}, 404, "not found"),
    ]
    for body, status, words in cases:
        response = customer.post("/api/billing/upgrade-plan", json=body)
        assert response.status_code == status, (body, response.get_json())
        error = error_of(response)
        assert words in error["message"].lower() or words in error.get("fields", {}), error
    ordered = order(customer, plan="basic", os_type="linux", region="australia")
    assert wait_for_job(customer, ordered["job"]["id"])["state"] == "succeeded"
    refused = customer.post(
        "/api/billing/upgrade-plan",
        json={"instance_id": ordered["instance"]["id"], "new_plan": "performance"},
    )
    assert refused.status_code == 409 and "Contabo" in error_of(refused)["message"]
    assert database.count(Invoice) == 2  # the two first payments, nothing else


def test_a_failed_payment_suspends_the_machine_and_paying_resumes_it(
    client: FlaskClient,
    app: Flask,
    vultr: EmulatorHandle,
    database: Database,
    inbox: Mailbox,
) -> None:
    customer = Customer(client)
    instance = _active_machine(customer)
    subscription = _subscription(database, instance["id"])
    user = database.get(User, customer.id)
    assert user is not None and user.stripe_customer_id is not None

    set_card(user.stripe_customer_id, "pm_card_chargeCustomerFail")
    unpaid = renew(subscription.stripe_subscription_id, user.stripe_customer_id, 2900)
    assert unpaid.status == "open"
    wait_until(lambda: _subscription(database, instance["id"]).past_due_since is not None)
    [mail] = wait_until(
        lambda: [m for m in inbox.messages if "did not go through" in str(m["Subject"])]
    )
    assert mail["To"] == customer.email and "29.00 USD" in mail.get_content()
    assert _status(customer, instance["id"]) == "active"  # still within the grace period

    with database.session() as session:  # the grace period has passed
        session.execute(
            update(Subscription)
            .where(Subscription.id == subscription.id)
            .values(past_due_since=utcnow() - timedelta(days=30))
        )
        session.commit()
    app.extensions["celery"].send_task("billing.suspend_overdue")
    wait_until(lambda: _status(customer, instance["id"]) == "suspended", timeout=30)
    assert vultr.machines()[0]["power_status"] == "stopped"
    refused = customer.post(f"/api/instances/{instance['id']}/start")
    assert refused.status_code == 409

    set_card(user.stripe_customer_id, "pm_card_visa")
    assert stripe_api().v1.invoices.pay(str(unpaid.id)).status == "paid"
    resume = wait_for_instance_job(customer, instance["id"], "start")
    assert wait_for_job(customer, resume["id"])["state"] == "succeeded"
    assert _status(customer, instance["id"]) == "active"
    assert _subscription(database, instance["id"]).past_due_since is None


def test_cancelling_keeps_the_machine_until_the_period_ends_then_terminates_it(
    client: FlaskClient, vultr: EmulatorHandle, database: Database
) -> None:
    customer = Customer(client)
    instance = _active_machine(customer)
    response = customer.post(
        "/api/billing/cancel-subscription", json={"instance_id": instance["id"]}
    )
    assert response.status_code == 202
    [job] = response.get_json()["jobs"]
    assert wait_for_job(customer, job["id"])["state"] == "succeeded"
    summary = client.get("/api/billing/subscription").get_json()
    assert summary["cancel_at_period_end"] is True
    again = customer.post("/api/billing/cancel-subscription", json={"instance_id": instance["id"]})
    assert again.status_code == 409
    assert _status(customer, instance["id"]) == "active" and len(vultr.machines()) == 1

    # The period ends: Stripe deletes the subscription.
    stripe_api().v1.subscriptions.cancel(summary["subscription_id"])

    wait_until(lambda: _status(customer, instance["id"]) == "terminated", timeout=30)
    assert vultr.machines() == []
    assert _subscription(database, instance["id"]).status == "canceled"


def test_terminating_a_machine_cancels_its_subscription(
    client: FlaskClient, vultr: EmulatorHandle, database: Database
) -> None:
    customer = Customer(client)
    instance = _active_machine(customer)
    response = customer.delete(f"/api/instances/{instance['id']}")
    assert wait_for_job(customer, response.get_json()["job"]["id"])["state"] == "succeeded"
    subscription_id = _subscription(database, instance["id"]).stripe_subscription_id

    wait_until(lambda: stripe_api().v1.subscriptions.retrieve(subscription_id).status == "canceled")
    wait_until(lambda: _subscription(database, instance["id"]).status == "canceled")
    summary = client.get("/api/billing/subscription").get_json()
    assert summary["status"] == "no_active_subscription"


def test_replayed_webhooks_change_nothing_twice(
    client: FlaskClient, app: Flask, vultr: EmulatorHandle, database: Database
) -> None:
    from tests.support.billing import deliver

    customer = Customer(client)
    instance = _active_machine(customer)
    stored = database.scalars(select(WebhookEvent))
    completed = [e for e in stored if e.type == "checkout.session.completed"]
    assert len(completed) == 1
    for _ in range(2):
        answer = deliver(app.test_client(), completed[0].payload)
        assert answer.status_code == 200 and answer.get_json()["duplicate"] is True
    assert database.count(WebhookEvent) == len(stored)
    kinds = [j.kind for j in database.scalars(select(Job).where(Job.instance_id == instance["id"]))]
    assert kinds == ["provision"]


def test_while_stripe_is_down_pages_load_and_a_cancel_waits_for_it_to_return(
    client: FlaskClient, vultr: EmulatorHandle, database: Database, local_stripe: LocalStripe
) -> None:
    customer = Customer(client)
    instance = _active_machine(customer)
    subscription_id = _subscription(database, instance["id"]).stripe_subscription_id
    local_stripe.stop()
    try:
        assert client.get("/api/billing/subscription").get_json()["status"] == "active"
        assert client.get("/api/billing/invoices").get_json()["total"] == 1
        response = customer.delete(f"/api/instances/{instance['id']}")
        assert wait_for_job(customer, response.get_json()["job"]["id"])["state"] == "succeeded"
        assert vultr.machines() == []
        time.sleep(2)  # the subscription's cancel is being retried meanwhile
        assert _subscription(database, instance["id"]).status == "active"
    finally:
        local_stripe.start()
    wait_until(lambda: stripe_api().v1.subscriptions.retrieve(subscription_id).status == "canceled")
    wait_until(lambda: _subscription(database, instance["id"]).status == "canceled")


def test_a_declined_upgrade_changes_nothing_and_owes_nothing(
    client: FlaskClient, vultr: EmulatorHandle, database: Database
) -> None:
    customer = Customer(client)
    instance = _active_machine(customer)
    user = database.get(User, customer.id)
    assert user is not None and user.stripe_customer_id is not None
    set_card(user.stripe_customer_id, "pm_card_chargeCustomerFail")

    response = customer.post(
        "/api/billing/upgrade-plan", json={"instance_id": instance["id"], "new_plan": "performance"}
    )
    job = wait_for_job(customer, response.get_json()["job"]["id"])

    assert job["state"] == "failed" and "declined" in job["error"]
    after = client.get(f"/api/instances/{instance['id']}").get_json()
    assert after["plan"] == "basic" and after["status"] == "active"
    assert vultr.machines()[0]["plan"] == "vc2-2c-4gb"
    subscription = _subscription(database, instance["id"])
    remote = stripe_api().v1.subscriptions.retrieve(subscription.stripe_subscription_id)
    assert remote["items"].data[0].price.id == subscription.stripe_price_id
    assert remote.status == "active"
    wait_until(lambda: {i.status for i in database.scalars(select(Invoice))} == {"paid", "void"})
    time.sleep(2)  # every webhook of the attempt has been delivered and processed
    assert _subscription(database, instance["id"]).past_due_since is None
    assert _subscription(database, instance["id"]).amount_cents == 2900
