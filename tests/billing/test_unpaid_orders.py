"""Unpaid orders are bounded: a few per account at once, and each closes with its payment
page once it has waited too long; a double-clicked cancel makes one job."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from app.models import Instance, Job
from app.models.base import utcnow
from tests.support.api import Customer, error_of, order, pay, place_order, wait_for_job
from tests.support.billing import stripe_api
from tests.support.database import Database
from tests.support.emulators import EmulatorHandle, wait_until


def test_open_unpaid_orders_are_capped_per_account(
    client: FlaskClient, app: Flask, database: Database, vultr: EmulatorHandle
) -> None:
    customer = Customer(client)
    cap = app.config["UNPAID_ORDERS_MAX"]
    assert cap == 3
    for _ in range(cap):
        place_order(customer, plan="gpu", os_type="linux")

    refused = customer.post(
        "/api/instances", json={"plan": "gpu", "os_type": "linux", "region": "us-east"}
    )

    assert refused.status_code == 409
    assert "at most 3 may wait for payment" in error_of(refused)["message"]
    assert database.count(Instance) == cap
    # Paying one makes room for another.
    first = database.scalars(select(Instance).order_by(Instance.id))[0]
    assert pay(str(first.checkout_url)).status_code == 303
    wait_until(lambda: database.get(Instance, first.id).status != "pending_payment")  # type: ignore[union-attr]
    place_order(customer, plan="gpu", os_type="linux")


def test_an_unpaid_order_expires_with_its_payment_page(
    client: FlaskClient, app: Flask, database: Database, worker: Any
) -> None:
    customer = Customer(client)
    stale = place_order(customer, os_type="linux")
    fresh = place_order(customer, os_type="linux")
    minutes = app.config["UNPAID_ORDER_MINUTES"]
    with database.session() as session:
        session.execute(
            update(Instance)
            .where(Instance.id == stale["instance"]["id"])
            .values(created_at=utcnow() - timedelta(minutes=minutes + 1))
        )
        session.commit()

    app.extensions["celery"].send_task("billing.expire_unpaid_orders")

    def status(placed: dict[str, Any]) -> str:
        return str(customer.get(f"/api/instances/{placed['instance']['id']}").get_json()["status"])

    wait_until(lambda: status(stale) == "terminated")
    expired = database.get(Instance, stale["instance"]["id"])
    assert expired is not None and expired.status_reason == "The order was not paid in time."
    session_id = str(expired.checkout_session_id)
    wait_until(lambda: stripe_api().v1.checkout.sessions.retrieve(session_id).status == "expired")
    assert pay(stale["checkout_url"]).status_code == 409
    assert status(fresh) == "pending_payment"
    remote = stripe_api().v1.checkout.sessions.retrieve(
        str(database.get(Instance, fresh["instance"]["id"]).checkout_session_id)  # type: ignore[union-attr]
    )
    assert remote.status == "open" and remote.expires_at - remote.created <= minutes * 60 + 5


def test_a_double_clicked_cancel_makes_one_job(
    client: FlaskClient, app: Flask, vultr: EmulatorHandle, database: Database
) -> None:
    customer = Customer(client)
    ordered = order(customer, os_type="linux")
    assert wait_for_job(customer, ordered["job"]["id"])["state"] == "succeeded"
    instance_id = ordered["instance"]["id"]
    celery = app.extensions["celery"]
    celery.control.cancel_consumer("billing", reply=True, timeout=0.5)
    try:
        first = customer.post("/api/billing/cancel-subscription", json={"instance_id": instance_id})
        second = customer.post(
            "/api/billing/cancel-subscription", json={"instance_id": instance_id}
        )
        every = customer.post("/api/billing/cancel-subscription", json={"all": True})
    finally:
        celery.control.add_consumer("billing", reply=True, timeout=0.5)

    assert first.status_code == second.status_code == every.status_code == 202
    [job] = first.get_json()["jobs"]
    assert second.get_json()["jobs"] == [job] and every.get_json()["jobs"] == [job]
    assert wait_for_job(customer, job["id"])["state"] == "succeeded"
    cancels = database.scalars(select(Job).where(Job.kind == "cancel_subscription"))
    assert len(cancels) == 1
    assert client.get("/api/billing/subscription").get_json()["cancel_at_period_end"] is True
