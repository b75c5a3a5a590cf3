"""Stripe webhooks: received and stored once by the web side, acted on by a task.

What each event does to our machines:
- ``checkout.session.completed``: the order is paid, provisioning starts;
- ``checkout.session.expired``: the unpaid order is closed, no machine is made;
- ``invoice.paid`` / ``invoice.payment_succeeded`` / ``invoice.voided``: once nothing is
  left open, dunning ends and a suspended machine resumes;
- ``invoice.payment_failed``: the subscription is past due and the owner is told; the
  machine is suspended once ``PAYMENT_GRACE_SECONDS`` pass (`billing.suspend_overdue`);
- ``customer.subscription.deleted``: the machine is terminated;
- ``charge.refunded``: the refunded invoice shows what was given back;
- every subscription and invoice event refreshes the mirror.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import stripe
from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app import metrics, task_names
from app.errors import AppError
from app.extensions import db
from app.models import (
    Instance,
    InstanceStatus,
    Invoice,
    Subscription,
    User,
    WebhookEvent,
)
from app.models.base import utcnow
from app.services import alerts, billing_mirror, lifecycle
from app.services.lifecycle import JobKind
from app.services.stripe_gateway import client, stripe_errors
from app.services.tasks import enqueue, enqueue_after_commit

logger = logging.getLogger(__name__)

S = InstanceStatus
StripeObject = dict[str, Any]
UNVERIFIED = "unverified"  # the type label of an event whose signature did not verify


class WebhookSignatureInvalid(AppError):
    code = "invalid_signature"
    message = "Invalid Stripe signature."


# -- receiving ---------------------------------------------------------------------------
def receive(payload: bytes, signature: str | None, remote_addr: str | None) -> bool:
    """Verify and store an event; True when it is new (and its task enqueued).

    An event that does not verify is refused, counted and alerted (one mail per window):
    forged, replayed, or signed with a secret that no longer matches ours."""
    secret = current_app.config["STRIPE_WEBHOOK_SECRET"]
    try:
        event = stripe.Webhook.construct_event(payload, signature or "", secret)
        _refuse_future_timestamp(signature or "")
    except (stripe.SignatureVerificationError, ValueError):
        logger.warning("webhook refused: bad or missing signature")
        metrics.webhook_events.labels(UNVERIFIED, "invalid_signature").inc()
        alerts.webhook_signature_failed(remote_addr)
        raise WebhookSignatureInvalid(
            fields={"Stripe-Signature": ["Missing, malformed, expired or wrong signature."]}
        ) from None
    row = WebhookEvent(
        stripe_event_id=event.id,
        type=event.type,
        stripe_created=int(event.created),
        payload=json.loads(payload),
    )
    db.session.add(row)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        logger.info("webhook %s already received", event.id)
        metrics.webhook_events.labels(event.type, "duplicate").inc()
        return False
    enqueue(task_names.PROCESS_STRIPE_EVENT, row.id)
    return True


def _refuse_future_timestamp(signature: str) -> None:
    """Stripe's library refuses a signature older than its tolerance, never one from the
    future: a timestamp ahead of our clock by more than the tolerance is refused too."""
    stamps = [part[2:] for part in signature.split(",") if part.startswith("t=")]
    signed_at = int(stamps[0])  # construct_event has checked there is one
    if signed_at > time.time() + stripe.Webhook.DEFAULT_TOLERANCE:
        raise stripe.SignatureVerificationError("Timestamp in the future", signature)


# -- acting ------------------------------------------------------------------------------
def process(event_row_id: int) -> None:
    """Act on a stored event once; a redelivered task finds it processed."""
    row = db.session.scalar(
        select(WebhookEvent).where(WebhookEvent.id == event_row_id).with_for_update()
    )
    if row is None or row.processed_at is not None:
        db.session.rollback()
        return
    obj: StripeObject = row.payload["data"]["object"]
    _serialise_per_customer(obj)
    handler = HANDLERS.get(row.type.split(".")[0] if row.type.startswith("invoice.") else row.type)
    if handler:
        handler(obj, row)  # the jobs it starts are sent once this commits
    row.processed_at = utcnow()
    db.session.commit()
    metrics.webhook_events.labels(row.type, "processed" if handler else "ignored").inc()


def _serialise_per_customer(obj: StripeObject) -> None:
    """Hold the customer's row: Stripe sends several events about one subscription at
    once, and they must be applied one after the other, never racing to insert it.

    ``FOR NO KEY UPDATE``: it still serialises the events, but leaves alone the key-share
    locks that inserting the customer's rows (a new order) takes on it; ``FOR UPDATE``
    deadlocked with an order placed at the same time."""
    customer = obj.get("customer")
    if isinstance(customer, str):
        db.session.scalar(
            select(User.id)
            .where(User.stripe_customer_id == customer)
            .with_for_update(key_share=True)
        )


def _paid_session(session: StripeObject, row: WebhookEvent) -> None:
    instance = billing_mirror.instance_for(session)
    if instance is None or instance.checkout_session_id != session["id"]:
        row.error = "checkout session for nothing of ours"
        return
    _lock(instance)
    subscription_id = session["subscription"]
    with stripe_errors():
        remote = client().v1.subscriptions.retrieve(subscription_id)
    billing_mirror.subscription(remote.to_dict(), int(remote.created))
    instance.stripe_subscription_id = subscription_id
    instance.checkout_url = None
    if instance.status != S.PENDING_PAYMENT:
        # Paid for an order already closed: nothing is kept for a machine nobody got.
        row.error = f"paid order {instance.id} is {instance.status}: refunded"
        enqueue_after_commit(task_names.SETTLE_UNDELIVERED, instance.id)
        return
    lifecycle.pay(instance)


def _expired_session(session: StripeObject, row: WebhookEvent) -> None:
    instance = billing_mirror.instance_for(session)
    if instance is None or instance.checkout_session_id != session["id"]:
        return
    _lock(instance)
    if instance.status == S.PENDING_PAYMENT:
        lifecycle.close_unpaid(instance)


def _subscription_changed(obj: StripeObject, row: WebhookEvent) -> None:
    if billing_mirror.subscription(obj, row.stripe_created) is None:
        row.error = "subscription for nothing of ours"
    if obj.get("status") == "canceled":
        _subscription_ended(obj, row)


def _subscription_ended(obj: StripeObject, row: WebhookEvent) -> None:
    mirrored = billing_mirror.subscription(obj, row.stripe_created)
    if mirrored is None:
        row.error = "subscription for nothing of ours"
        return
    instance = mirrored.instance
    _lock(instance)
    if instance.status in (S.TERMINATING, S.TERMINATED, S.FAILED, S.PENDING_PAYMENT):
        return
    lifecycle.start_job(
        instance,
        JobKind.TERMINATE,
        audit_as="instance.terminate_requested",
        actor=None,
        details={"by": "billing"},
        reason="The subscription ended.",
    )


def _invoice_event(obj: StripeObject, row: WebhookEvent) -> None:
    invoice = billing_mirror.invoice(obj)
    if invoice is None:
        row.error = "invoice for a customer we do not know"
        return
    subscription = _subscription_by_stripe_id(invoice.stripe_subscription_id)
    if subscription is None:
        return
    if row.type == "invoice.payment_failed" and invoice.status == "open":
        _payment_failed(subscription, invoice.id)
        return
    if row.type in SETTLING_EVENTS and invoice.status in ("paid", "void"):
        still_open = db.session.scalar(
            select(Invoice.id).where(
                Invoice.stripe_subscription_id == invoice.stripe_subscription_id,
                Invoice.status == "open",
            )
        )
        if still_open is None:
            _payment_settled(subscription)


# Events after which the subscription may owe nothing any more.
SETTLING_EVENTS = ("invoice.paid", "invoice.payment_succeeded", "invoice.voided")


def _payment_failed(subscription: Subscription, invoice_id: int) -> None:
    if subscription.past_due_since is None:
        subscription.past_due_since = utcnow()
        subscription.status = "past_due"
        enqueue_after_commit(task_names.SEND_PAYMENT_FAILED, invoice_id)


def _payment_settled(subscription: Subscription) -> None:
    subscription.past_due_since = None
    if subscription.status in ("past_due", "unpaid", "incomplete"):
        subscription.status = "active"
    instance = subscription.instance
    _lock(instance)
    if instance.status == S.SUSPENDED:
        lifecycle.start_job(
            instance, JobKind.START, audit_as="instance.resumed", actor=instance.user_id
        )


def _charge_refunded(charge: StripeObject, row: WebhookEvent) -> None:
    """Show on the invoice what was given back of its payment (ours or Stripe's own)."""
    intent = charge.get("payment_intent")
    invoice = (
        db.session.scalar(
            select(Invoice).where(Invoice.stripe_payment_intent_id == intent).with_for_update()
        )
        if isinstance(intent, str)
        else None
    )
    if invoice is None and isinstance(intent, str):
        invoice = _invoice_paid_by(intent)
    if invoice is None:
        row.error = "refund of no invoice of ours"
        return
    invoice.amount_refunded = max(invoice.amount_refunded, int(charge.get("amount_refunded") or 0))


def _invoice_paid_by(payment_intent: str) -> Invoice | None:
    """Ask Stripe which invoice a payment paid (a refund made outside our refund task)."""
    with stripe_errors():
        found = client().v1.invoice_payments.list(
            {"payment": {"type": "payment_intent", "payment_intent": payment_intent}, "limit": 1}
        )
        if not found.data:
            return None
        remote = client().v1.invoices.retrieve(str(found.data[0].invoice))
    invoice = billing_mirror.invoice(remote.to_dict())
    if invoice is not None:
        invoice.stripe_payment_intent_id = payment_intent
    return invoice


def _subscription_by_stripe_id(stripe_id: str | None) -> Subscription | None:
    if stripe_id is None:
        return None
    return db.session.scalar(
        select(Subscription).where(Subscription.stripe_subscription_id == stripe_id)
    )


def _lock(instance: Instance) -> None:
    db.session.refresh(instance, with_for_update=True)


HANDLERS = {
    "checkout.session.completed": _paid_session,
    "checkout.session.expired": _expired_session,
    "customer.subscription.created": _subscription_changed,
    "customer.subscription.updated": _subscription_changed,
    "customer.subscription.deleted": _subscription_ended,
    "invoice": _invoice_event,
    "charge.refunded": _charge_refunded,
}
