"""Paying for an order: the one Stripe call made inside a request.

Production sends the customer to Stripe Checkout, so card data never reaches us; locally the
same calls go to the local Stripe server, which serves its own payment page.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import current_app

from app.errors import ServiceUnavailable
from app.extensions import db
from app.models import Instance, User
from app.services.stripe_gateway import client, idempotency_key, stripe_errors
from workers.outside_errors import OutsideError

logger = logging.getLogger(__name__)


def open_checkout(user: User, instance: Instance) -> None:
    """Open Stripe's payment page for a new order; the webhook of the paid session starts
    provisioning. Idempotency keys come from our ids, so a retried request makes nothing
    twice. Raises ServiceUnavailable when Stripe cannot be reached."""
    plan = instance.plan
    if plan.stripe_price_id is None:
        raise ServiceUnavailable("This plan cannot be ordered yet: its price is not set up.")
    base_url = current_app.config["PUBLIC_BASE_URL"]
    try:
        with stripe_errors():
            customer_id = _ensure_customer(user)
            session = client().v1.checkout.sessions.create(
                {
                    "mode": "subscription",
                    "customer": customer_id,
                    "line_items": [{"price": plan.stripe_price_id, "quantity": 1}],
                    "success_url": f"{base_url}/instances/{instance.id}?checkout=success",
                    "cancel_url": f"{base_url}/instances/{instance.id}?checkout=cancelled",
                    "client_reference_id": str(instance.id),
                    # Closed with the order: the sweep of unpaid orders expires it as well.
                    "expires_at": int(
                        (
                            instance.created_at
                            + timedelta(minutes=current_app.config["UNPAID_ORDER_MINUTES"])
                        ).timestamp()
                    ),
                    "metadata": {"instance_id": str(instance.id)},
                    "subscription_data": {
                        "description": f"NemoRDP {plan.name} desktop {instance.name}",
                        "metadata": {"instance_id": str(instance.id), "user_id": str(user.id)},
                    },
                },
                {"idempotency_key": idempotency_key("checkout", instance)},
            )
    except OutsideError as error:
        logger.error("could not open a payment page: %s", error.message)
        raise ServiceUnavailable("Payments are unavailable right now; please try again.") from None
    instance.checkout_session_id = session.id
    instance.checkout_url = session.url


def _ensure_customer(user: User) -> str:
    if user.stripe_customer_id is None:
        customer = client().v1.customers.create(
            {"email": user.email, "metadata": {"user_id": str(user.id)}},
            {"idempotency_key": idempotency_key("customer", user)},
        )
        user.stripe_customer_id = customer.id
        db.session.commit()  # kept even if the payment page then fails to open
    return user.stripe_customer_id
