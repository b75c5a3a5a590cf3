"""The one place that builds the official Stripe client from our settings.

Bounded network retries (the library retries connection errors and 409/429/5xx with
idempotency keys), explicit timeouts, and a mapping of Stripe's errors onto ours.
"""

from __future__ import annotations

import stripe
from flask import current_app

from app.models import Instance, Job, User


class StripeUnavailable(Exception):
    """Stripe could not be reached or failed on its side; try again later."""


def client() -> stripe.StripeClient:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    cached: stripe.StripeClient | None = app.extensions.get("stripe")
    if cached is None:
        config = app.config
        base = config["STRIPE_API_BASE"]
        cached = stripe.StripeClient(
            config["STRIPE_SECRET_KEY"],
            base_addresses={"api": base} if base else None,
            max_network_retries=config["STRIPE_MAX_NETWORK_RETRIES"],
            http_client=stripe.HTTPXClient(
                timeout=config["STRIPE_TIMEOUT"], allow_sync_methods=True
            ),
        )
        app.extensions["stripe"] = cached
    return cached


TRANSIENT_ERRORS = (
    stripe.APIConnectionError,
    stripe.RateLimitError,
    stripe.APIError,  # 5xx on Stripe's side
)


def idempotency_key(action: str, row: Instance | Job | User) -> str:
    """A key for one Stripe write about one of our rows: ids alone can repeat when a
    database is rebuilt against the same Stripe account, their creation time does not."""
    return f"{action}-{row.id}-{row.created_at:%Y%m%d%H%M%S%f}"
