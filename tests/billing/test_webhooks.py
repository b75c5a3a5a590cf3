"""Stripe's webhook: signatures, duplicates, strangers' objects and events out of order."""

from __future__ import annotations

import json
import time
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.models import Instance, InstanceStatus, Job, Subscription, User, WebhookEvent
from app.services import billing_events
from tests.support.api import Customer
from tests.support.billing import deliver, event, signature
from tests.support.database import Database
from tests.support.factories import make_instance


def _stripe_customer(database: Database, user_id: int, customer_id: str) -> None:
    with database.session() as session:
        user = session.get(User, user_id)
        assert user is not None
        user.stripe_customer_id = customer_id
        session.commit()


def _subscription_object(
    sub_id: str, customer: str, instance_id: int, status: str = "active", **extra: Any
) -> dict[str, Any]:
    now = int(time.time())
    return {
        "id": sub_id,
        "object": "subscription",
        "customer": customer,
        "status": status,
        "metadata": {"instance_id": str(instance_id)},
        "current_period_start": now,
        "current_period_end": now + 30 * 86400,
        "cancel_at_period_end": False,
        "items": {
            "data": [
                {
                    "id": "si_1",
                    "price": {"id": "price_unknown", "unit_amount": 2900, "currency": "usd"},
                }
            ]
        },
        **extra,
    }


def test_a_missing_or_forged_signature_is_400_and_nothing_is_stored(
    app: Flask, database: Database
) -> None:
    client = app.test_client()
    payload = json.dumps(event("invoice.paid", {"id": "in_1", "customer": "cus_x"})).encode()
    cases = [
        {},
        {"Stripe-Signature": "garbage"},
        {"Stripe-Signature": signature(payload, secret="whsec_someone_else")},
        {"Stripe-Signature": signature(payload, at=int(time.time()) - 3600)},  # replayed late
    ]
    for headers in cases:
        response = client.post(
            "/api/billing/webhook", data=payload, content_type="application/json", headers=headers
        )
        assert response.status_code == 400, headers
        error = response.get_json()["error"]
        assert "Stripe-Signature" in error["fields"], error
    assert database.count(WebhookEvent) == 0


def test_an_event_is_stored_once_however_often_it_arrives(app: Flask, database: Database) -> None:
    client = app.test_client()
    sent = event("invoice.paid", {"id": "in_1", "customer": "cus_unknown"})
    first = deliver(client, sent)
    second = deliver(client, sent)
    assert first.get_json() == {"received": True, "duplicate": False}
    assert second.get_json() == {"received": True, "duplicate": True}
    stored = database.scalars(
        select(WebhookEvent).where(WebhookEvent.stripe_event_id == sent["id"])
    )
    assert len(stored) == 1


def test_events_for_objects_that_are_not_ours_change_nothing(
    app: Flask, client: FlaskClient, database: Database
) -> None:
    victim = Customer(client)
    attacker = Customer(app.test_client())
    _stripe_customer(database, victim.id, "cus_victim")
    _stripe_customer(database, attacker.id, "cus_attacker")
    target = make_instance(database, victim.id, status=InstanceStatus.PENDING_PAYMENT)
    with database.session() as session:
        row = session.get(Instance, target.id)
        assert row is not None
        row.checkout_session_id = "cs_test_victim"
        session.commit()
    # The attacker's own paid session, pointing its metadata at the victim's order.
    session_obj = {
        "id": "cs_test_attacker",
        "object": "checkout.session",
        "customer": "cus_attacker",
        "subscription": "sub_attacker",
        "metadata": {"instance_id": str(target.id)},
    }
    stranger_sub = _subscription_object("sub_attacker", "cus_attacker", target.id)
    events = [
        event("checkout.session.completed", session_obj),
        event("customer.subscription.created", stranger_sub),
        event("customer.subscription.deleted", {**stranger_sub, "status": "canceled"}),
        event("invoice.payment_failed", {"id": "in_x", "customer": "cus_nobody"}),
    ]
    for sent in events:
        assert deliver(app.test_client(), sent).status_code == 200
    mine = WebhookEvent.stripe_event_id.in_([e["id"] for e in events])
    with app.app_context():
        for row_id in database.scalars(select(WebhookEvent.id).where(mine)):
            billing_events.process(row_id)
    processed = database.scalars(select(WebhookEvent).where(mine))
    assert len(processed) == len(events)
    assert all(e.processed_at is not None and e.error for e in processed)
    instance = database.get(Instance, target.id)
    assert instance is not None and instance.status == InstanceStatus.PENDING_PAYMENT
    assert database.count(Job) == 0 and database.count(Subscription) == 0


def test_an_older_subscription_event_arriving_late_never_wins(
    app: Flask, client: FlaskClient, database: Database
) -> None:
    owner = Customer(client)
    _stripe_customer(database, owner.id, "cus_owner")
    instance = make_instance(database, owner.id)
    now = int(time.time())
    newer = event(
        "customer.subscription.updated",
        _subscription_object("sub_1", "cus_owner", instance.id, cancel_at_period_end=True),
        created=now,
    )
    older = event(
        "customer.subscription.updated",
        _subscription_object("sub_1", "cus_owner", instance.id, status="past_due"),
        created=now - 60,
    )
    for sent in (newer, older):  # delivered out of order
        assert deliver(app.test_client(), sent).status_code == 200
    mine = WebhookEvent.stripe_event_id.in_([newer["id"], older["id"]])
    with app.app_context():
        for row_id in database.scalars(
            select(WebhookEvent.id).where(mine).order_by(WebhookEvent.id)
        ):
            billing_events.process(row_id)
            billing_events.process(row_id)  # a redelivered task does nothing more
    subscription = database.scalar(select(Subscription))
    assert subscription is not None
    assert subscription.status == "active" and subscription.cancel_at_period_end is True
    assert subscription.stripe_updated == now
