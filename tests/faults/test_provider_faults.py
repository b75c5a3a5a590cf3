"""Provider failures during a plan change (the resize PATCH, after Stripe was paid) and
during termination. Provisioning and the power actions are covered by
tests/tasks/test_provisioning_faults.py."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from tests.faults.machines import active_machine, paid_invoices, subscription_of
from tests.support.api import Customer, wait_for_job
from tests.support.billing import stripe_api
from tests.support.database import Database
from tests.support.emulators import EmulatorHandle, wait_until
from tests.support.mailbox import Mailbox


def _upgrade(customer: Customer, instance_id: int) -> dict[str, Any]:
    response = customer.post(
        "/api/billing/upgrade-plan", json={"instance_id": instance_id, "new_plan": "performance"}
    )
    assert response.status_code == 202, response.get_json()
    return wait_for_job(customer, response.get_json()["job"]["id"], timeout=60)


def _stripe_price(database: Database, instance_id: int) -> str:
    subscription = subscription_of(database, instance_id)
    remote = stripe_api().v1.subscriptions.retrieve(subscription.stripe_subscription_id)
    return str(remote["items"].data[0].price.id)


# One of each transient fault, in turn, on the same call: the job's retry budget in tests
# (PROVIDER_RETRY_MAX=4) is five attempts, the fifth gets through.
RESIZE_FAULTS = [
    {"kind": "error_500"},
    {"kind": "rate_limit_429", "retry_after": 1},
    {"kind": "timeout"},
    {"kind": "lost_response"},  # resized, but the answer never arrives
]
DELETE_FAULTS = [
    {"kind": "error_500"},
    {"kind": "rate_limit_429", "retry_after": 1},
    {"kind": "timeout"},
    {"kind": "reset"},
]


def test_transient_faults_at_the_resize_are_retried_and_charged_once(
    client: FlaskClient, vultr: EmulatorHandle, database: Database
) -> None:
    customer = Customer(client)
    instance = active_machine(customer)
    for fault in RESIZE_FAULTS:
        vultr.inject("resize", **fault)

    job = _upgrade(customer, instance["id"])

    assert job["state"] == "succeeded", job
    assert job["attempts"] == 1 + len(RESIZE_FAULTS)
    assert vultr.calls()["resize"] == 1 + len(RESIZE_FAULTS)
    after = customer.get(f"/api/instances/{instance['id']}").get_json()
    assert after["plan"] == "performance" and after["status"] == "active"
    [machine] = vultr.machines()
    assert machine["plan"] == "vc2-4c-8gb"
    assert subscription_of(database, instance["id"]).amount_cents == 5900
    assert len(paid_invoices(database)) == 2  # the order, and the difference: once


def test_a_resize_refused_after_payment_gives_the_money_back_and_alerts(
    client: FlaskClient, vultr: EmulatorHandle, database: Database, inbox: Mailbox
) -> None:
    customer = Customer(client)
    instance = active_machine(customer)
    old_price = _stripe_price(database, instance["id"])
    vultr.inject("resize", "permanent", status=400, message="Plan is not available here")

    job = _upgrade(customer, instance["id"])

    assert job["state"] == "failed" and "Plan is not available here" in job["error"]
    after = customer.get(f"/api/instances/{instance['id']}").get_json()
    assert after["plan"] == "basic" and after["status"] == "active"
    assert "Plan is not available here" in after["status_reason"]
    assert vultr.machines()[0]["plan"] == "vc2-2c-4gb"
    assert _stripe_price(database, instance["id"]) == old_price
    wait_until(lambda: subscription_of(database, instance["id"]).amount_cents == 2900)
    alert = inbox.wait_for("ops@nemordp.local")
    assert f"job {job['id']} failed" in str(alert["Subject"])


def test_a_resize_that_never_gets_through_gives_the_money_back(
    client: FlaskClient, vultr: EmulatorHandle, database: Database, inbox: Mailbox
) -> None:
    customer = Customer(client)
    instance = active_machine(customer)
    old_price = _stripe_price(database, instance["id"])
    vultr.inject("resize", "error_500", count=50)

    job = _upgrade(customer, instance["id"])

    assert job["state"] == "failed" and "gave up after" in job["error"]
    after = customer.get(f"/api/instances/{instance['id']}").get_json()
    assert after["plan"] == "basic" and after["status"] == "active"
    assert vultr.machines()[0]["plan"] == "vc2-2c-4gb"
    assert _stripe_price(database, instance["id"]) == old_price
    inbox.wait_for("ops@nemordp.local")


def test_transient_faults_during_termination_are_retried(
    client: FlaskClient, vultr: EmulatorHandle, database: Database
) -> None:
    customer = Customer(client)
    instance = active_machine(customer)
    for fault in DELETE_FAULTS:
        vultr.inject("delete", **fault)
    vultr.inject("list", "error_500", count=2)  # the look-up that confirms it is gone

    response = customer.delete(f"/api/instances/{instance['id']}")
    job = wait_for_job(customer, response.get_json()["job"]["id"], timeout=60)

    assert job["state"] == "succeeded", job
    assert job["attempts"] == 1 + len(DELETE_FAULTS)
    assert customer.get(f"/api/instances/{instance['id']}").get_json()["status"] == "terminated"
    assert vultr.machines() == []
    wait_until(lambda: subscription_of(database, instance["id"]).status == "canceled")


def test_a_refused_termination_keeps_the_machine_billed_and_alerts(
    client: FlaskClient, vultr: EmulatorHandle, database: Database, inbox: Mailbox
) -> None:
    customer = Customer(client)
    instance = active_machine(customer)
    vultr.inject("delete", "permanent", status=400, message="Server is locked")

    response = customer.delete(f"/api/instances/{instance['id']}")
    job = wait_for_job(customer, response.get_json()["job"]["id"])

    assert job["state"] == "failed" and "Server is locked" in job["error"]
    after = customer.get(f"/api/instances/{instance['id']}").get_json()
    assert after["status"] == "active" and "Server is locked" in after["status_reason"]
    assert len(vultr.machines()) == 1  # still running, so still paid for
    assert subscription_of(database, instance["id"]).status == "active"
    inbox.wait_for("ops@nemordp.local")
