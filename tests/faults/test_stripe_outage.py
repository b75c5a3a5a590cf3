"""Stripe unreachable, and Stripe's events processed out of order.

While the local Stripe is stopped, billing pages load from our mirror and plan changes and
cancellations wait (their jobs retry) until it is back, then complete. A termination while
Stripe is down is in tests/billing/test_billing_flow.py, hand-made late, replayed and
foreign events in tests/billing/test_webhooks.py.
"""

from __future__ import annotations

import time

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.models import WebhookEvent
from devtools.stack.stand_ins import LocalStripe
from tests.faults import invariants
from tests.faults.conftest import KillableWorker
from tests.faults.machines import active_machine, paid_invoices, subscription_of
from tests.support.api import Customer, wait_for_job
from tests.support.billing import stripe_api
from tests.support.database import Database
from tests.support.emulators import EmulatorHandle, wait_until


@pytest.fixture(scope="module")
def worker_env() -> dict[str, str]:
    """Jobs keep retrying through the outage (the session's budget is about five seconds)."""
    return {"PROVIDER_RETRY_MAX": "100"}


def _job_state(customer: Customer, job_id: int) -> str:
    return str(customer.get(f"/api/jobs/{job_id}").get_json()["state"])


def test_while_stripe_is_down_pages_load_and_changes_wait_for_it(
    client: FlaskClient,
    own_worker: KillableWorker,
    emptied_vultr: EmulatorHandle,
    database: Database,
    local_stripe: LocalStripe,
) -> None:
    customer = Customer(client)
    instance = active_machine(customer)
    path = f"/api/instances/{instance['id']}"

    local_stripe.stop()
    try:
        assert customer.get("/api/billing/subscription").get_json()["status"] == "active"
        assert customer.get("/api/billing/invoices").get_json()["total"] == 1
        assert customer.get(path).get_json()["status"] == "active"
        preview = customer.get(
            f"/api/billing/upgrade-preview?instance_id={instance['id']}&new_plan=performance"
        )
        assert preview.status_code == 200
        response = customer.post(
            "/api/billing/upgrade-plan",
            json={"instance_id": instance["id"], "new_plan": "performance"},
        )
        assert response.status_code == 202
        upgrade = response.get_json()["job"]["id"]
        wait_until(lambda: _job_state(customer, upgrade) == "retrying")
        time.sleep(2)  # still waiting: nothing is resized before it is paid
        # Between two attempts, or in one (each tries Stripe again): never finished.
        assert _job_state(customer, upgrade) in ("retrying", "running")
        assert emptied_vultr.machines()[0]["plan"] == "vc2-2c-4gb"
    finally:
        local_stripe.start()
    job = wait_for_job(customer, upgrade, timeout=60)
    assert job["state"] == "succeeded", job
    assert emptied_vultr.machines()[0]["plan"] == "vc2-4c-8gb"
    assert len(paid_invoices(database)) == 2

    local_stripe.stop()
    try:
        response = customer.post(
            "/api/billing/cancel-subscription", json={"instance_id": instance["id"]}
        )
        assert response.status_code == 202
        [cancel] = response.get_json()["jobs"]
        wait_until(lambda: _job_state(customer, cancel["id"]) == "retrying")
        time.sleep(2)
        assert not subscription_of(database, instance["id"]).cancel_at_period_end
    finally:
        local_stripe.start()
    assert wait_for_job(customer, cancel["id"], timeout=60)["state"] == "succeeded"
    subscription = subscription_of(database, instance["id"])
    assert subscription.cancel_at_period_end and subscription.amount_cents == 5900
    remote = stripe_api().v1.subscriptions.retrieve(subscription.stripe_subscription_id)
    assert remote.cancel_at_period_end
    assert invariants.charges(database.engine, stripe_api()) == []


def test_real_events_processed_in_reverse_order_leave_the_mirror_as_stripe_has_it(
    app: Flask,
    client: FlaskClient,
    own_worker: KillableWorker,
    emptied_vultr: EmulatorHandle,
    database: Database,
) -> None:
    customer = Customer(client)
    instance = active_machine(customer)
    subscription_id = subscription_of(database, instance["id"]).stripe_subscription_id
    celery = app.extensions["celery"]
    redis = celery.connection_for_write().default_channel.client
    before = database.count(WebhookEvent)

    # Stripe changes the subscription three times; its events queue up unprocessed.
    celery.control.cancel_consumer("billing", reply=True, timeout=1)
    try:
        api = stripe_api()
        for cancel in (True, False, True):
            api.v1.subscriptions.update(subscription_id, {"cancel_at_period_end": cancel})
            time.sleep(1.1)  # Stripe dates its events to the second
        api.v1.subscriptions.update(subscription_id, {"metadata": {"note": "last"}})
        wait_until(lambda: database.count(WebhookEvent) >= before + 4)
        time.sleep(1.5)  # any straggler delivered
        queued = redis.lrange("billing", 0, -1)
        assert len(queued) >= 4
        # Kombu pops from the right: reversing the list runs the newest first.
        with redis.pipeline() as pipe:
            pipe.delete("billing")
            pipe.rpush("billing", *reversed(queued))
            pipe.execute()
    finally:
        celery.control.add_consumer("billing", reply=True, timeout=1)

    def all_processed() -> bool:
        rows = database.scalars(select(WebhookEvent).where(WebhookEvent.processed_at.is_(None)))
        return not rows

    wait_until(all_processed, timeout=30)
    remote = stripe_api().v1.subscriptions.retrieve(subscription_id)
    mirrored = subscription_of(database, instance["id"])
    assert remote.cancel_at_period_end is True
    assert mirrored.cancel_at_period_end is True and mirrored.status == remote.status
    assert customer.get(f"/api/instances/{instance['id']}").get_json()["status"] == "active"
    assert invariants.settled(database.engine) == []
