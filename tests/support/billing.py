"""Driving the local Stripe as Stripe itself would: its API, and signed webhook deliveries."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import time
from typing import Any

import stripe
from flask.testing import FlaskClient
from werkzeug.test import TestResponse


def stripe_api() -> stripe.StripeClient:
    """The official client on the local Stripe, for what Stripe does on its own (renewals,
    period ends, a customer changing cards)."""
    return stripe.StripeClient(
        "sk_test_local", base_addresses={"api": os.environ["STRIPE_API_BASE"]}
    )


def signature(payload: bytes, secret: str | None = None, at: int | None = None) -> str:
    """A ``Stripe-Signature`` header, computed the way Stripe signs its deliveries."""
    timestamp = at if at is not None else int(time.time())
    key = (secret or os.environ["STRIPE_WEBHOOK_SECRET"]).encode()
    digest = hmac.new(key, f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def deliver(client: FlaskClient, event: dict[str, Any], secret: str | None = None) -> TestResponse:
    payload = json.dumps(event).encode()
    return client.post(
        "/api/billing/webhook",
        data=payload,
        content_type="application/json",
        headers={"Stripe-Signature": signature(payload, secret)},
    )


def event(event_type: str, obj: dict[str, Any], created: int | None = None) -> dict[str, Any]:
    return {
        "id": f"evt_test_{time.time_ns()}",
        "object": "event",
        "type": event_type,
        "created": created if created is not None else int(time.time()),
        "data": {"object": obj},
        "livemode": False,
        "api_version": "2024-06-20",
    }


def set_card(customer_id: str, card: str) -> None:
    """Make ``card`` (a test payment method) the customer's card for future invoices."""
    api = stripe_api()
    method = api.v1.payment_methods.attach(card, {"customer": customer_id})
    api.v1.customers.update(
        customer_id, {"invoice_settings": {"default_payment_method": method.id}}
    )


def renew(subscription_id: str, customer_id: str, amount: int) -> stripe.Invoice:
    """What Stripe does at a renewal: invoice the subscription and charge the card."""
    api = stripe_api()
    api.v1.invoice_items.create(
        {
            "customer": customer_id,
            "subscription": subscription_id,
            "amount": amount,
            "currency": "usd",
            "description": "Renewal",
        }
    )
    invoice = api.v1.invoices.create(
        {
            "customer": customer_id,
            "subscription": subscription_id,
            "pending_invoice_items_behavior": "include",
        }
    )
    api.v1.invoices.finalize_invoice(str(invoice.id))
    try:
        return api.v1.invoices.pay(str(invoice.id))
    except stripe.CardError:
        return api.v1.invoices.retrieve(str(invoice.id))
