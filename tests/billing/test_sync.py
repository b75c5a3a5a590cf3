"""The invoice sync heals the mirror from Stripe when webhooks were missed or work was lost."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, select, update

from app.models import Instance, InstanceStatus, Invoice, Subscription, WebhookEvent
from app.models.base import utcnow
from tests.support.api import Customer, order, wait_for_job
from tests.support.billing import stripe_api
from tests.support.database import Database
from tests.support.emulators import EmulatorHandle, wait_until


def _run_sync(app: Flask) -> None:
    app.extensions["celery"].send_task("billing.sync_invoices")


def test_the_sync_restores_lost_rows_and_cancels_billing_of_terminated_machines(
    client: FlaskClient, app: Flask, vultr: EmulatorHandle, database: Database
) -> None:
    customer = Customer(client)
    ordered = order(customer, os_type="linux")
    assert wait_for_job(customer, ordered["job"]["id"])["state"] == "succeeded"
    instance_id = ordered["instance"]["id"]
    subscription_id = wait_until(
        lambda: database.scalar(
            select(Subscription.stripe_subscription_id).where(
                Subscription.instance_id == instance_id
            )
        )
    )
    wait_until(lambda: database.count(Invoice) == 1)
    wait_until(
        lambda: all(e.processed_at for e in database.scalars(select(WebhookEvent))), timeout=15
    )
    with database.session() as session:
        # Missed webhooks: the invoice is gone and the subscription looks stale...
        session.execute(delete(Invoice))
        session.execute(update(Subscription).values(status="incomplete", stripe_updated=0))
        # ...one event was stored but its task never ran...
        session.execute(
            update(WebhookEvent)
            .where(WebhookEvent.type == "invoice.paid")
            .values(processed_at=None, received_at=utcnow() - timedelta(hours=1))
        )
        # ...and the machine was terminated while the cancel at Stripe was lost.
        session.execute(
            update(Instance)
            .where(Instance.id == instance_id)
            .values(status=InstanceStatus.TERMINATED, terminated_at=utcnow())
        )
        session.commit()

    _run_sync(app)

    wait_until(lambda: database.count(Invoice) == 1)
    invoice = database.scalar(select(Invoice))
    assert invoice is not None and invoice.status == "paid" and invoice.amount_paid == 2900
    wait_until(lambda: stripe_api().v1.subscriptions.retrieve(subscription_id).status == "canceled")
    wait_until(
        lambda: (
            database.scalar(select(Subscription.status)) == "canceled"
            and all(e.processed_at for e in database.scalars(select(WebhookEvent)))
        )
    )
