"""Never charge for a machine nobody got: an order that ends before its machine ever
answered has its payment page closed, its subscription cancelled and every payment refunded
in full, through the real local Stripe, signed webhooks and a real worker."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import stripe
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from app.models import AuditEvent, Instance, InstanceStatus, Job, User
from tests.faults import invariants
from tests.support.api import (
    PASSWORD,
    Customer,
    order,
    pay,
    place_order,
    wait_for_job,
)
from tests.support.billing import stripe_api
from tests.support.database import Database
from tests.support.emulators import EmulatorHandle, wait_until
from tests.support.mailbox import Mailbox


@pytest.fixture()
def billing_held(app: Flask, worker: Any) -> Iterator[None]:
    """Billing tasks (webhook events, refunds) wait in their queue until the test resumes
    them; what was queued is then worked."""
    celery = app.extensions["celery"]
    celery.control.cancel_consumer("billing", reply=True, timeout=0.5)
    try:
        yield
    finally:
        celery.control.add_consumer("billing", reply=True, timeout=0.5)


def _resume_billing(app: Flask) -> None:
    app.extensions["celery"].control.add_consumer("billing", reply=True, timeout=0.5)


def _instance(database: Database, instance_id: int) -> Instance:
    found = database.get(Instance, instance_id)
    assert found is not None
    return found


def _refunds(instance: Instance) -> list[stripe.Refund]:
    """Every refund at Stripe of the order's payments."""
    api = stripe_api()
    session = api.v1.checkout.sessions.retrieve(str(instance.checkout_session_id))
    assert session.subscription is not None
    found = []
    paid = api.v1.invoices.list({"subscription": str(session.subscription), "status": "paid"})
    for invoice in paid.auto_paging_iter():
        for payment in api.v1.invoice_payments.list({"invoice": str(invoice.id)}).data:
            intent = str(payment.payment.payment_intent)
            found += api.v1.refunds.list({"payment_intent": intent}).data
    return found


def _refunded_invoice(customer: Customer) -> dict[str, Any]:
    """The customer's invoice once the history shows it refunded."""

    def refunded() -> dict[str, Any] | None:
        items = customer.get("/api/billing/invoices").get_json()["items"]
        return next((invoice for invoice in items if invoice["refunded"]), None)

    invoice: dict[str, Any] = wait_until(refunded, timeout=30)
    return invoice


def _mail(inbox: Mailbox, to: str, words: str) -> Any:
    [mail] = wait_until(
        lambda: [m for m in inbox.messages if m["To"] == to and words in str(m["Subject"])],
        timeout=30,
    )
    return mail


def test_an_order_deleted_before_payment_can_no_longer_be_paid(
    client: FlaskClient, vultr: EmulatorHandle, database: Database
) -> None:
    customer = Customer(client)
    placed = place_order(customer, os_type="linux")
    instance_id = placed["instance"]["id"]

    deleted = customer.delete(f"/api/instances/{instance_id}")
    assert wait_for_job(customer, deleted.get_json()["job"]["id"])["state"] == "succeeded"
    session_id = _instance(database, instance_id).checkout_session_id
    assert session_id is not None
    wait_until(lambda: stripe_api().v1.checkout.sessions.retrieve(session_id).status == "expired")

    assert pay(placed["checkout_url"]).status_code == 409  # the page says it has expired
    user = database.get(User, customer.id)
    assert user is not None and user.stripe_customer_id is not None
    listed = stripe_api().v1.subscriptions.list({"customer": user.stripe_customer_id})
    assert listed.data == []
    assert vultr.machines() == []
    assert invariants.undelivered_kept_nothing(database.engine, stripe_api()) == []


def test_a_payment_for_an_order_already_closed_is_refunded_in_full(
    client: FlaskClient, app: Flask, vultr: EmulatorHandle, database: Database, inbox: Mailbox
) -> None:
    customer = Customer(client)
    placed = place_order(customer, os_type="linux")
    instance_id = placed["instance"]["id"]
    with database.session() as session:  # closed while its payment page stayed open
        session.execute(
            update(Instance)
            .where(Instance.id == instance_id)
            .values(status=InstanceStatus.TERMINATED, status_reason="Cancelled by its owner.")
        )
        session.commit()

    assert pay(placed["checkout_url"]).status_code == 303

    invoice = _refunded_invoice(customer)
    assert invoice["amount_paid_cents"] == 2900 and invoice["amount_refunded_cents"] == 2900
    instance = _instance(database, instance_id)
    [refund] = _refunds(instance)
    assert refund.amount == 2900 and refund.status == "succeeded"
    assert refund.metadata.to_dict() == {"instance_id": str(instance_id)}
    subscription_id = str(instance.stripe_subscription_id)
    wait_until(lambda: stripe_api().v1.subscriptions.retrieve(subscription_id).status == "canceled")
    mail = _mail(inbox, customer.email, "refunded")
    assert "29.00 USD" in mail.get_content() and "Cancelled by its owner." in mail.get_content()
    _mail(inbox, app.config["ALERT_EMAIL"], f"order {instance_id} refunded")
    assert vultr.machines() == [] and database.count(Job) == 0

    # A retried refund task gives nothing back twice.
    app.extensions["celery"].send_task("billing.settle_undelivered", (instance_id,))
    wait_until(lambda: len(_refund_audits(database)) == 1)
    assert len(_refunds(instance)) == 1
    assert invariants.undelivered_kept_nothing(database.engine, stripe_api()) == []


def _refund_audits(database: Database) -> list[AuditEvent]:
    return database.scalars(select(AuditEvent).where(AuditEvent.action == "instance.refunded"))


def test_an_order_terminated_after_paying_before_its_webhook_is_refunded_once(
    client: FlaskClient, app: Flask, vultr: EmulatorHandle, database: Database, billing_held: None
) -> None:
    customer = Customer(client)
    placed = place_order(customer, os_type="linux")
    instance_id = placed["instance"]["id"]
    assert pay(placed["checkout_url"]).status_code == 303  # its webhook waits in the queue
    assert customer.get(f"/api/instances/{instance_id}").get_json()["status"] == "pending_payment"

    deleted = customer.delete(f"/api/instances/{instance_id}")
    assert wait_for_job(customer, deleted.get_json()["job"]["id"])["state"] == "succeeded"
    _resume_billing(app)

    invoice = _refunded_invoice(customer)
    assert invoice["amount_refunded_cents"] == 2900
    instance = _instance(database, instance_id)
    assert [refund.amount for refund in _refunds(instance)] == [2900]
    wait_until(lambda: not invariants.undelivered_kept_nothing(database.engine, stripe_api()))
    assert customer.get(f"/api/instances/{instance_id}").get_json()["status"] == "terminated"
    assert vultr.machines() == []


def test_a_provision_failing_everywhere_is_cancelled_refunded_and_explained(
    client: FlaskClient,
    app: Flask,
    vultr: EmulatorHandle,
    contabo: EmulatorHandle,
    database: Database,
    inbox: Mailbox,
) -> None:
    vultr.inject("create", "error_500", count=100)
    contabo.inject("create", "error_500", count=100)
    customer = Customer(client)
    ordered = order(customer, os_type="linux")
    instance_id = ordered["instance"]["id"]
    job = wait_for_job(customer, ordered["job"]["id"], timeout=60)
    assert job["state"] == "failed" and "gave up after" in job["error"]

    invoice = _refunded_invoice(customer)
    assert invoice["amount_refunded_cents"] == invoice["amount_paid_cents"] == 2900
    instance = _instance(database, instance_id)
    assert instance.status == "failed" and instance.provider == "contabo"  # both were tried
    subscription_id = str(instance.stripe_subscription_id)
    wait_until(lambda: stripe_api().v1.subscriptions.retrieve(subscription_id).status == "canceled")
    mail = _mail(inbox, customer.email, "refunded")
    assert "gave up after" in mail.get_content() and "29.00 USD" in mail.get_content()
    _mail(inbox, app.config["ALERT_EMAIL"], f"order {instance_id} refunded")
    assert invariants.undelivered_kept_nothing(database.engine, stripe_api()) == []


def test_a_provider_that_keeps_failing_is_given_up_for_another_offering_the_plan(
    client: FlaskClient, vultr: EmulatorHandle, contabo: EmulatorHandle, database: Database
) -> None:
    vultr.inject("create", "error_500", count=100)
    customer = Customer(client)
    ordered = order(customer, os_type="linux")
    assert wait_for_job(customer, ordered["job"]["id"], timeout=60)["state"] == "succeeded"

    instance = _instance(database, ordered["instance"]["id"])
    assert instance.status == "active" and instance.provider == "contabo"
    assert instance.delivered_at is not None
    assert vultr.machines() == [] and len(contabo.machines()) == 1
    items = customer.get("/api/billing/invoices").get_json()["items"]
    assert [(i["amount_paid_cents"], i["refunded"]) for i in items] == [(2900, False)]


def test_deleting_an_account_closes_its_unpaid_orders_and_erases_it_at_stripe(
    client: FlaskClient, vultr: EmulatorHandle, database: Database
) -> None:
    customer = Customer(client)
    placed = place_order(customer, os_type="linux")
    user = database.get(User, customer.id)
    assert user is not None and user.stripe_customer_id is not None
    customer_id = user.stripe_customer_id
    assert stripe_api().v1.customers.retrieve(customer_id).email == customer.email

    assert customer.post("/api/account/delete", json={"password": PASSWORD}).status_code == 202

    wait_until(lambda: not stripe_api().v1.customers.retrieve(customer_id).email, timeout=30)
    assert not stripe_api().v1.customers.retrieve(customer_id).name
    assert pay(placed["checkout_url"]).status_code == 409
    assert stripe_api().v1.subscriptions.list({"customer": customer_id}).data == []
    assert invariants.undelivered_kept_nothing(database.engine, stripe_api()) == []
