"""Keeping Stripe's products and prices in step with our plan catalogue.

Each plan is a Stripe product with our own id (``nemordp-<code>``) and a monthly price found
again by its lookup key, which names the amount: a price change makes a new price and
moves the key, and running the sync twice changes nothing.
"""

from __future__ import annotations

import logging

import stripe

from app.extensions import db
from app.models import Plan
from app.services import catalog
from app.services.stripe_gateway import client

logger = logging.getLogger(__name__)


def product_id(plan: Plan) -> str:
    return f"nemordp-{plan.code}"


def lookup_key(plan: Plan) -> str:
    return f"nemordp-{plan.code}-{plan.price_cents}-{plan.currency}-monthly"


def sync() -> list[Plan]:
    """Create or update the product and price of every active plan."""
    stripe_client = client()
    plans = catalog.active_plans()
    for plan in plans:
        _sync_product(stripe_client, plan)
        _sync_price(stripe_client, plan)
    db.session.commit()
    return plans


def sync_plan(plan: Plan) -> None:
    """Give one plan its product and the price of its current amount (a new price when
    the amount changed: subscriptions keep the price they have); the caller commits."""
    stripe_client = client()
    _sync_product(stripe_client, plan)
    _sync_price(stripe_client, plan)


def _sync_product(stripe_client: stripe.StripeClient, plan: Plan) -> None:
    description = f"{plan.vcpu} vCPU, {plan.ram_mb // 1024} GB RAM, {plan.disk_gb} GB disk"
    try:
        stripe_client.v1.products.retrieve(product_id(plan))
        stripe_client.v1.products.update(
            product_id(plan), {"name": f"NemoRDP {plan.name}", "description": description}
        )
    except stripe.InvalidRequestError:
        stripe_client.v1.products.create(
            {"id": product_id(plan), "name": f"NemoRDP {plan.name}", "description": description},
            {"idempotency_key": f"product-{product_id(plan)}"},
        )
    plan.stripe_product_id = product_id(plan)


def _sync_price(stripe_client: stripe.StripeClient, plan: Plan) -> None:
    key = lookup_key(plan)
    found = stripe_client.v1.prices.list({"lookup_keys": [key], "active": True, "limit": 1})
    if found.data:
        price = found.data[0]
    else:
        price = stripe_client.v1.prices.create(
            {
                "product": product_id(plan),
                "unit_amount": plan.price_cents,
                "currency": plan.currency,
                "recurring": {"interval": "month"},
                "lookup_key": key,
                "nickname": plan.name,
                "metadata": {"plan": plan.code},
            },
            {"idempotency_key": f"price-{key}"},
        )
        logger.info("created Stripe price for plan %s", plan.code)
    plan.stripe_price_id = price.id
