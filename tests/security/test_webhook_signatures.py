"""A Stripe signature is valid only within the tolerance around our clock, either side:
one dated in the future could otherwise be replayed for as long as its date lies ahead."""

from __future__ import annotations

import json
import time

from flask.testing import FlaskClient

from app.models import WebhookEvent
from tests.support.billing import event, signature
from tests.support.database import Database


def _post(client: FlaskClient, at: int, event_id: str) -> int:
    payload = json.dumps({**event("charge.refunded", {"id": "ch_1"}), "id": event_id}).encode()
    response = client.post(
        "/api/billing/webhook",
        data=payload,
        content_type="application/json",
        headers={"Stripe-Signature": signature(payload, at=at)},
    )
    return response.status_code


def test_a_signature_dated_beyond_the_tolerance_ahead_is_refused(
    client: FlaskClient, database: Database
) -> None:
    now = int(time.time())
    assert _post(client, now + 3600, "evt_from_the_future") == 400
    assert _post(client, now + 301 + 5, "evt_just_too_far_ahead") == 400
    assert database.count(WebhookEvent) == 0
    # A sender's clock a little ahead of ours is still fine.
    assert _post(client, now + 60, "evt_clock_skew") == 200
    assert database.count(WebhookEvent) == 1
