"""Refunds and prices through the local Stripe: part of an invoice and then the rest, shown
on the customer's invoice history; a new price for new orders only."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from app.models import Invoice, Plan, Subscription
from tests.admin.console import audited, patch
from tests.support.api import Customer, error_of, order
from tests.support.billing import stripe_api
from tests.support.database import Database
from tests.support.emulators import EmulatorHandle, wait_until

REASON = {"reason": "Two days of outage in eu-west."}


def _paid_invoice(database: Database, customer: Customer) -> Invoice:
    def paid() -> Invoice | None:
        found: Invoice | None = database.scalar(
            select(Invoice).where(Invoice.user_id == customer.id, Invoice.status == "paid")
        )
        return found

    invoice: Invoice = wait_until(paid)
    return invoice


def _history(customer: Customer) -> dict[str, Any]:
    [invoice] = customer.get("/api/billing/invoices").get_json()["items"]
    return invoice  # type: ignore[no-any-return]


def test_an_invoice_is_refunded_in_part_then_in_full(
    admin: Customer, staff: Customer, customer: Customer, database: Database, vultr: EmulatorHandle
) -> None:
    order(customer, os_type="linux")
    invoice = _paid_invoice(database, customer)
    path = f"/api/admin/billing/invoices/{invoice.id}/refund"
    assert staff.post(path, json={"amount_cents": 500, **REASON}).status_code == 403

    part = admin.post(path, json={"amount_cents": 500, **REASON})
    assert part.status_code == 200, part.get_json()
    assert part.get_json()["amount_refunded_cents"] == 500
    shown = _history(customer)
    assert shown["amount_refunded_cents"] == 500 and shown["refunded"] is False
    too_much = admin.post(path, json={"amount_cents": invoice.amount_paid, **REASON})
    assert too_much.status_code == 422
    assert f"At most {invoice.amount_paid - 500}" in error_of(too_much)["fields"]["amount_cents"][0]

    rest = admin.post(path, json=REASON)
    assert rest.get_json()["amount_refunded_cents"] == invoice.amount_paid
    assert _history(customer)["refunded"] is True
    assert admin.post(path, json=REASON).status_code == 409
    intent = database.scalar(select(Invoice.stripe_payment_intent_id))
    refunds = stripe_api().v1.refunds.list({"payment_intent": intent}).data
    assert sorted(r.amount for r in refunds) == sorted([500, invoice.amount_paid - 500])
    events = audited(database, "invoice_refunded")
    assert [e["after"]["refunded_now_cents"] for e in events] == [500, invoice.amount_paid - 500]
    assert events[0]["before"] == {"amount_refunded_cents": 0}
    assert events[0]["customer_id"] == customer.id and events[0]["reason"] == REASON["reason"]


@pytest.mark.usefixtures("catalogue_restored")
def test_a_new_price_applies_to_new_orders_only(
    app: Flask, admin: Customer, customer: Customer, database: Database, vultr: EmulatorHandle
) -> None:
    order(customer, os_type="linux")
    plan = database.scalar(select(Plan).where(Plan.code == "basic"))
    subscription = wait_until(lambda: database.scalar(select(Subscription)))
    old_price = plan.stripe_price_id
    assert subscription.stripe_price_id == old_price

    answer = patch(admin, f"/api/admin/catalogue/plans/{plan.id}", {"price_cents": 3400, **REASON})
    assert answer.status_code == 200, answer.get_json()
    changed = answer.get_json()
    assert changed["price_cents"] == 3400 and changed["stripe_price_id"] != old_price
    price = stripe_api().v1.prices.retrieve(changed["stripe_price_id"])
    assert price.unit_amount == 3400
    public = {p["code"]: p for p in customer.get("/api/plans").get_json()["plans"]}
    assert public["basic"]["price_cents"] == 3400
    remote = stripe_api().v1.subscriptions.retrieve(subscription.stripe_subscription_id)
    assert remote["items"].data[0].price.id == old_price  # the subscription keeps its price
    with app.app_context():
        from app.services import catalog

        catalog.load()  # a deployment loads the file again: the price stays the operator's
    assert database.scalar(select(Plan.price_cents).where(Plan.code == "basic")) == 3400
    [event] = audited(database, "plan_changed")
    assert event["before"]["price_cents"] == plan.price_cents
    assert event["after"]["stripe_price_id"] == changed["stripe_price_id"]
