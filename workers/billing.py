"""The Stripe side of billing jobs: plan changes, cancellations, the mirror's sync and
dunning. Called by tasks in `tasks.billing`; Stripe's failures surface as
`TransientProviderError` (retry) or `PermanentProviderError` (the job fails), like a cloud
provider's, so the same retry and failure paths serve both.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import stripe
from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.models import Instance, InstanceStatus, Job, Plan, Subscription, WebhookEvent
from app.models.base import utcnow
from app.services import audit, billing_mirror, jobs
from app.services.stripe_gateway import TRANSIENT_ERRORS, client, idempotency_key
from app.services.tasks import enqueue
from workers.providers.base import PermanentProviderError, TransientProviderError

logger = logging.getLogger(__name__)

S = InstanceStatus


@contextmanager
def stripe_errors() -> Iterator[None]:
    """Translate Stripe's exceptions into our transient/permanent pair."""
    try:
        yield
    except TRANSIENT_ERRORS as error:
        raise TransientProviderError(f"Stripe unavailable: {type(error).__name__}") from None
    except stripe.StripeError as error:
        raise PermanentProviderError(f"Stripe refused: {error.user_message or error}") from None


def _subscription_of(instance: Instance) -> Subscription:
    subscription = db.session.scalar(
        select(Subscription).where(Subscription.instance_id == instance.id)
    )
    if subscription is None:
        raise PermanentProviderError(f"instance {instance.id} has no subscription")
    return subscription


# -- plan changes ------------------------------------------------------------------------
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
        raise PermanentProviderError("the payment for the plan change was declined")
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
    jobs.mark_succeeded(job)
    db.session.commit()


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


# -- dunning -----------------------------------------------------------------------------
def suspend_overdue() -> int:
    """Stop the machines whose payment is overdue past the grace period; returns how many."""
    cutoff = utcnow() - timedelta(seconds=current_app.config["PAYMENT_GRACE_SECONDS"])
    overdue = db.session.scalars(
        select(Instance)
        .join(Subscription, Subscription.instance_id == Instance.id)
        .where(Subscription.past_due_since < cutoff, Instance.status == S.ACTIVE)
        .with_for_update(of=Instance, skip_locked=True)
    ).all()
    created = []
    for instance in overdue:
        job = jobs.new_job("suspend", instance)
        instance.status = S.STOPPING
        instance.status_reason = "Suspended: the latest invoice is unpaid."
        audit.record("instance.suspended", instance.user_id, instance_id=instance.id)
        created.append(job)
    db.session.commit()
    for job in created:
        jobs.enqueue(job)
    return len(created)


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
        enqueue("billing.process_event", event_id)
    return len(stale)


def _end_orphaned_subscriptions() -> int:
    """Subscriptions still charging for a terminated machine (a cancel that was lost)."""
    orphans = db.session.scalars(
        select(Subscription.instance_id)
        .join(Instance, Instance.id == Subscription.instance_id)
        .where(
            Instance.status == S.TERMINATED,
            Subscription.status.in_(("active", "trialing", "past_due", "unpaid")),
        )
    ).all()
    for instance_id in orphans:
        logger.error("instance %s is terminated but still billed; cancelling", instance_id)
        enqueue("billing.end_subscription", instance_id)
    return len(orphans)
