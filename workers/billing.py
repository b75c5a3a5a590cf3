"""The Stripe side of billing jobs: plan changes, cancellations, refunds of orders never
delivered and the mirror's sync. Called by tasks in `tasks.billing`; Stripe's
failures surface as `TransientError` (retry) or `PermanentError` (the job fails), like a
cloud provider's, so the same retry and failure paths serve both.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import stripe
from flask import current_app
from sqlalchemy import select

from app import task_names
from app.extensions import db
from app.models import (
    Instance,
    InstanceStatus,
    Invoice,
    Job,
    Plan,
    Subscription,
    User,
    WebhookEvent,
)
from app.models.base import utcnow
from app.services import alerts, audit, billing_mirror, lifecycle
from app.services.stripe_gateway import client, idempotency_key, stripe_errors
from app.services.tasks import enqueue
from workers import machines
from workers.outside_errors import OutsideError, PermanentError, TransientError

logger = logging.getLogger(__name__)

S = InstanceStatus


def _subscription_of(instance: Instance) -> Subscription:
    subscription = db.session.scalar(
        select(Subscription).where(Subscription.instance_id == instance.id)
    )
    if subscription is None:
        raise PermanentError(f"instance {instance.id} has no subscription")
    return subscription


# -- plan changes ------------------------------------------------------------------------
def change_plan(job: Job) -> None:
    """Invoice the change, then resize the machine at its provider."""
    bill_plan_change(job)
    machines.perform(job)


def refund_plan_change(job: Job, error: OutsideError) -> bool:
    """A plan change that failed for good: the price goes back to the machine's plan if it
    was paid (or may have been, when Stripe kept failing). Never starts the job over."""
    if job.step == "billed" or isinstance(error, TransientError):
        revert_plan_change(job)
    return False


def bill_plan_change(job: Job) -> None:
    """Move the subscription to the new price and invoice the difference at once.

    Done once per job (step ``billed``); a declined payment puts the old price back and
    fails the job, so the machine is never resized unpaid.
    """
    if job.step in ("billed", "called"):
        return
    assert job.instance is not None
    subscription = _subscription_of(job.instance)
    plan = db.session.scalar(select(Plan).where(Plan.code == job.context["plan"]))
    assert plan is not None and plan.stripe_price_id is not None
    with stripe_errors():
        updated = _change_price(subscription, plan.stripe_price_id, idempotency_key("plan", job))
        invoice = client().v1.invoices.retrieve(str(updated.latest_invoice))
    billing_mirror.subscription(updated.to_dict(), int(utcnow().timestamp()))
    billing_mirror.invoice(invoice.to_dict())
    if invoice.status != "paid":
        # Declined: nothing is owed for a change that will not happen.
        with stripe_errors():
            voided = client().v1.invoices.void_invoice(str(invoice.id))
        billing_mirror.invoice(voided.to_dict())
        revert_plan_change(job, credit=False)
        raise PermanentError("the payment for the plan change was declined")
    job.step = "billed"
    audit.record(
        "instance.plan_changed",
        job.user_id,
        instance_id=job.instance.id,
        to_plan=plan.code,
        invoice=invoice.id,
    )
    db.session.commit()


def revert_plan_change(job: Job, *, credit: bool = True) -> None:
    """Put the subscription back on the machine's current price; ``credit`` gives back
    what the change was paid (Stripe prorates the way back)."""
    assert job.instance is not None
    subscription = _subscription_of(job.instance)
    price = job.instance.plan.stripe_price_id
    if price is None:
        return
    with stripe_errors():
        updated = _change_price(
            subscription, price, idempotency_key("plan-revert", job), credit=credit
        )
    billing_mirror.subscription(updated.to_dict(), int(utcnow().timestamp()))
    db.session.commit()


def _change_price(
    subscription: Subscription, price: str, key: str, *, credit: bool = True
) -> stripe.Subscription:
    stripe_client = client()
    remote = stripe_client.v1.subscriptions.retrieve(subscription.stripe_subscription_id)
    item = remote["items"].data[0]
    if item.price.id == price:  # already there (a repeated attempt): nothing to change
        return remote
    return stripe_client.v1.subscriptions.update(
        subscription.stripe_subscription_id,
        {
            "items": [{"id": item.id, "price": price}],
            "proration_behavior": "always_invoice" if credit else "none",
        },
        {"idempotency_key": key},
    )


# -- cancelling --------------------------------------------------------------------------
def cancel_at_period_end(job: Job) -> None:
    assert job.instance is not None
    subscription = _subscription_of(job.instance)
    with stripe_errors():
        updated = client().v1.subscriptions.update(
            subscription.stripe_subscription_id,
            {"cancel_at_period_end": True},
            {"idempotency_key": idempotency_key("cancel", job)},
        )
    billing_mirror.subscription(updated.to_dict(), int(utcnow().timestamp()))
    lifecycle.finish_job(job)


def end_subscription(instance: Instance) -> None:
    """Cancel the machine's subscription now (it was terminated); idempotent."""
    subscription_id = instance.stripe_subscription_id
    if subscription_id is None:
        return
    with stripe_errors():
        try:
            ended = client().v1.subscriptions.cancel(subscription_id)
        except stripe.InvalidRequestError:
            ended = client().v1.subscriptions.retrieve(subscription_id)
            if ended.status != "canceled":
                raise
    billing_mirror.subscription(ended.to_dict(), int(utcnow().timestamp()))
    db.session.commit()


# -- orders that never had a machine ------------------------------------------------------


def settle_undelivered(instance: Instance) -> None:
    """An order that ended before its machine ever answered keeps nothing: its payment page
    is expired, its subscription cancelled now and every payment refunded in full, the
    customer told and ops alerted. Safe to run again: each step looks before it acts, and
    each refund's idempotency key names the order and the payment."""
    if instance.delivered_at is not None:
        return  # a delivered machine ends by the cancellation rules
    subscription_id = _close_payment_page(instance)
    if subscription_id is None:
        return  # never paid: nothing to give back
    if instance.stripe_subscription_id is None:
        instance.stripe_subscription_id = subscription_id
        db.session.commit()
    end_subscription(instance)
    refunded = _refund_payments(instance, subscription_id)
    if refunded:
        reason = instance.status_reason or f"the order ended while {instance.status}"
        audit.record(
            "instance.refunded", instance.user_id, instance_id=instance.id, amount=refunded
        )
        db.session.commit()
        enqueue(task_names.SEND_REFUND, instance.id)
        alerts.raise_alert(
            alerts.Alert(
                f"refund:{instance.id}",
                f"order {instance.id} refunded",
                f"Order {instance.id} ({instance.plan.code}, {instance.region}, provider "
                f"{instance.provider}) ended without a machine and {refunded} cents were "
                f"refunded. Reason: {reason}",
            )
        )


def _close_payment_page(instance: Instance) -> str | None:
    """Expire the order's Checkout Session if it is still open; the subscription it paid
    for, if it was paid (perhaps a moment ago, its webhook not yet handled)."""
    session_id = instance.checkout_session_id
    if session_id is None:
        return instance.stripe_subscription_id
    sessions = client().v1.checkout.sessions
    with stripe_errors():
        session = sessions.retrieve(session_id)
        if session.status == "open":
            try:
                session = sessions.expire(session_id)
            except stripe.InvalidRequestError:
                session = sessions.retrieve(session_id)  # paid meanwhile
    instance.checkout_url = None
    db.session.commit()
    paid_for = session.subscription if session.status == "complete" else None
    return str(paid_for) if paid_for else instance.stripe_subscription_id


def _refund_payments(instance: Instance, subscription_id: str) -> int:
    """Refund every paid invoice of the subscription in full; the cents refunded now."""
    stripe_client = client()
    refunded = 0
    with stripe_errors():
        paid = stripe_client.v1.invoices.list(
            {"subscription": subscription_id, "status": "paid", "limit": 100}
        )
        for remote in paid.auto_paging_iter():
            invoice = billing_mirror.invoice(remote.to_dict())
            if invoice is None or not remote.amount_paid:
                continue
            payments = stripe_client.v1.invoice_payments.list(
                {"invoice": str(remote.id), "status": "paid"}
            )
            for payment in payments.auto_paging_iter():
                intent = payment.payment.payment_intent
                if payment.payment.type == "payment_intent" and intent:
                    refunded += _refund_in_full(instance, invoice, str(intent))
    db.session.commit()
    return refunded


def _refund_in_full(instance: Instance, invoice: Invoice, payment_intent: str) -> int:
    """Refund what is left of one payment; the cents refunded now (0 if nothing was left)."""
    stripe_client = client()
    invoice.stripe_payment_intent_id = payment_intent
    given_back = sum(
        refund.amount
        for refund in stripe_client.v1.refunds.list(
            {"payment_intent": payment_intent, "limit": 100}
        ).auto_paging_iter()
        if refund.status in ("pending", "succeeded")
    )
    left = invoice.amount_paid - given_back
    if left > 0:
        stripe_client.v1.refunds.create(
            {
                "payment_intent": payment_intent,
                "amount": left,
                "reason": "requested_by_customer",
                "metadata": {"instance_id": str(instance.id)},
            },
            {"idempotency_key": f"{idempotency_key('refund', instance)}-{payment_intent}"},
        )
    invoice.amount_refunded = max(invoice.amount_refunded, invoice.amount_paid)
    return max(left, 0)


def erase_customer(user: User) -> None:
    """Erase the person's details held at Stripe (e-mail and name); the customer and its
    invoices stay, as bookkeeping requires."""
    if user.stripe_customer_id is None:
        return
    with stripe_errors():
        client().v1.customers.update(
            user.stripe_customer_id,
            {"email": "", "name": "", "phone": "", "description": ""},
            {"idempotency_key": idempotency_key("erase", user)},
        )


# -- healing the mirror ------------------------------------------------------------------
def sync_recent(days: int) -> dict[str, int]:
    """Pull recent invoices and every subscription from Stripe, resend
    events whose task never ran, and cancel subscriptions of terminated machines."""
    since = int((utcnow() - timedelta(days=days)).timestamp())
    counts = {"invoices": 0, "subscriptions": 0, "events": 0, "cancelled": 0}
    stripe_client = client()
    with stripe_errors():
        invoices = stripe_client.v1.invoices.list({"created": {"gte": since}, "limit": 100})
        for invoice in invoices.auto_paging_iter():
            if billing_mirror.invoice(invoice.to_dict()) is not None:
                counts["invoices"] += 1
        subscriptions = stripe_client.v1.subscriptions.list({"status": "all", "limit": 100})
        for subscription in subscriptions.auto_paging_iter():
            if billing_mirror.subscription(subscription.to_dict(), int(utcnow().timestamp())):
                counts["subscriptions"] += 1
    db.session.commit()
    counts["events"] = _resend_unprocessed_events()
    counts["cancelled"] = _end_orphaned_subscriptions()
    return counts


def _resend_unprocessed_events() -> int:
    stale = db.session.scalars(
        select(WebhookEvent.id).where(
            WebhookEvent.processed_at.is_(None),
            WebhookEvent.received_at
            < utcnow() - timedelta(seconds=current_app.config["WEBHOOK_RESEND_AFTER_SECONDS"]),
        )
    ).all()
    for event_id in stale:
        enqueue(task_names.PROCESS_STRIPE_EVENT, event_id)
    return len(stale)


def _end_orphaned_subscriptions() -> int:
    """Subscriptions still charging for a terminated machine, or for an order that failed
    before its machine answered (a cancel or refund that was lost)."""
    orphans = db.session.execute(
        select(Subscription.instance_id, Instance.delivered_at)
        .join(Instance, Instance.id == Subscription.instance_id)
        .where(
            (Instance.status == S.TERMINATED)
            | ((Instance.status == S.FAILED) & Instance.delivered_at.is_(None)),
            Subscription.status.in_(("active", "trialing", "past_due", "unpaid")),
        )
    ).all()
    for instance_id, delivered_at in orphans:
        logger.error("instance %s has ended but is still billed; cancelling", instance_id)
        enqueue(
            task_names.END_SUBSCRIPTION if delivered_at else task_names.SETTLE_UNDELIVERED,
            instance_id,
        )
    return len(orphans)
