"""The one place that builds the official Stripe client from our settings, and the one
place Stripe's exceptions are mapped onto the outside-service error pair.

Bounded network retries (the library retries connection errors and 409/429/5xx with
idempotency keys) and explicit timeouts; what still fails leaves `stripe_errors` as a
`TransientError` (try again later) or a `PermanentError` (Stripe refused).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import stripe
from flask import current_app

from app.models import Instance, Job, User
from workers.outside_errors import PermanentError, TransientError


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


_TRANSIENT = (
    stripe.APIConnectionError,
    stripe.RateLimitError,
    stripe.APIError,  # 5xx on Stripe's side
)


@contextmanager
def stripe_errors() -> Iterator[None]:
    """Raise Stripe's exceptions in the block as `TransientError` or `PermanentError`.

    Code that expects one particular refusal (a resource already gone) catches
    ``stripe.InvalidRequestError`` inside the block, before it is mapped.
    """
    try:
        yield
    except _TRANSIENT as error:
        raise TransientError(
            f"Stripe unavailable: {type(error).__name__}", error.http_status
        ) from None
    except stripe.StripeError as error:
        raise PermanentError(
            f"Stripe refused: {error.user_message or error}", error.http_status
        ) from None


def idempotency_key(action: str, row: Instance | Job | User) -> str:
    """A key for one Stripe write about one of our rows: ids alone can repeat when a
    database is rebuilt against the same Stripe account, their creation time does not."""
    return f"{action}-{row.id}-{row.created_at:%Y%m%d%H%M%S%f}"
