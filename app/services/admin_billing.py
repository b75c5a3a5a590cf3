"""Money, for admins: refunds of an invoice (in full or in part) through Stripe, failed
payments and where each stands in dunning, and cancelling a subscription.

A refund is made at once (`Refund.create`, with an idempotency key naming the invoice, what
was already refunded and the amount, so a double click refunds once) and shown on the
customer's invoice history (``amount_refunded_cents``) as soon as Stripe answers; its
``charge.refunded`` webhook confirms it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import stripe
from flask import current_app
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from app.errors import Conflict, NotFound, ServiceUnavailable, ValidationFailed
from app.extensions import db
from app.models import Instance, InstanceStatus, Invoice, Job, Subscription, User
from app.services import admin_audit, lifecycle
from app.services.billing import LIVE_SUBSCRIPTION_STATES
from app.services.lifecycle import JobKind
from app.services.stripe_gateway import client, stripe_errors
from app.services.tasks import require_broker
from workers.outside_errors import PermanentError, TransientError

S = InstanceStatus
CANCEL_NOW = "now"
CANCEL_AT_PERIOD_END = "period_end"


# -- failed payments and dunning ---------------------------------------------------------
def dunning() -> dict[str, Any]:
    """Subscriptions whose payment failed, with when their machine is (or was) suspended,
    and unpaid invoices, oldest first."""
    grace = timedelta(seconds=current_app.config["PAYMENT_GRACE_SECONDS"])
    overdue = db.session.scalars(
        select(Subscription)
        .options(joinedload(Subscription.instance).joinedload(Instance.user))
        .where(
            or_(
                Subscription.past_due_since.is_not(None),
                Subscription.status.in_(("past_due", "unpaid")),
            )
        )
        .order_by(Subscription.past_due_since.asc().nulls_last(), Subscription.id)
    ).all()
    unpaid = db.session.scalars(
        select(Invoice)
        .where(Invoice.status == "open", Invoice.amount_due > Invoice.amount_paid)
        .order_by(Invoice.created.asc(), Invoice.id)
        .limit(500)
    ).all()
    return {
        "subscriptions": [
            {
                "subscription": s,
                "customer_id": s.user_id,
                "customer_email": s.instance.user.email,
                "instance_status": s.instance.status,
                "suspends_at": s.past_due_since + grace if s.past_due_since else None,
                "suspended": s.instance.status == S.SUSPENDED,
            }
            for s in overdue
        ],
        "invoices": list(unpaid),
    }


# -- refunds -----------------------------------------------------------------------------
def refund(actor: User, invoice_id: int, amount_cents: int | None, reason: str) -> Invoice:
    """Give back ``amount_cents`` of a paid invoice (all that is left when None)."""
    invoice = db.session.scalar(select(Invoice).where(Invoice.id == invoice_id).with_for_update())
    if invoice is None:
        raise NotFound("Invoice not found.")
    if invoice.status != "paid" or invoice.amount_paid <= 0:
        raise Conflict(f"Only a paid invoice can be refunded; this one is {invoice.status}.")
    before = {"amount_refunded_cents": invoice.amount_refunded}
    try:
        with stripe_errors():
            intent = _payment_intent(invoice)
            given_back = _refunded_at_stripe(intent)
            left = invoice.amount_paid - max(given_back, invoice.amount_refunded)
            amount = left if amount_cents is None else amount_cents
            if left <= 0:
                raise Conflict("This invoice is already refunded in full.")
            if amount > left:
                raise ValidationFailed(
                    fields={"amount_cents": [f"At most {left}: what is left of the payment."]}
                )
            client().v1.refunds.create(
                {
                    "payment_intent": intent,
                    "amount": amount,
                    "reason": "requested_by_customer",
                    "metadata": {"invoice": invoice.stripe_invoice_id, "note": reason[:450]},
                },
                {"idempotency_key": _refund_key(invoice, given_back, amount)},
            )
    except TransientError:
        raise ServiceUnavailable("Stripe cannot be reached; nothing was refunded.") from None
    except PermanentError as error:
        raise Conflict(error.message) from None
    invoice.stripe_payment_intent_id = intent
    invoice.amount_refunded = max(invoice.amount_refunded, given_back + amount)
    admin_audit.commit(
        actor,
        "invoice_refunded",
        invoice,
        reason=reason,
        before=before,
        after={"amount_refunded_cents": invoice.amount_refunded, "refunded_now_cents": amount},
    )
    return invoice


def _refund_key(invoice: Invoice, already_refunded: int, amount: int) -> str:
    """The same refund asked twice (a double click) is made once; the next one, asked
    after it, names a different amount already refunded."""
    return f"admin-refund-{invoice.stripe_invoice_id}-{already_refunded}-{amount}"


def _payment_intent(invoice: Invoice) -> str:
    if invoice.stripe_payment_intent_id:
        return invoice.stripe_payment_intent_id
    payments = client().v1.invoice_payments.list(
        {"invoice": invoice.stripe_invoice_id, "status": "paid", "limit": 10}
    )
    for payment in payments.data:
        intent = payment.payment.payment_intent
        if payment.payment.type == "payment_intent" and intent:
            return str(intent)
    raise Conflict("Stripe shows no card payment of this invoice to refund.")


def _refunded_at_stripe(payment_intent: str) -> int:
    refunds: Any = client().v1.refunds.list({"payment_intent": payment_intent, "limit": 100})
    listed: list[stripe.Refund] = list(refunds.auto_paging_iter())
    return sum(r.amount for r in listed if r.status in ("pending", "succeeded"))


# -- cancelling --------------------------------------------------------------------------
def cancel(actor: User, subscription_id: int, when: str, reason: str) -> Job:
    """Cancel a subscription at the end of its period (the machine runs until then), or now:
    the machine is terminated, which cancels the subscription at Stripe at once."""
    subscription = db.session.scalar(select(Subscription).where(Subscription.id == subscription_id))
    if subscription is None:
        raise NotFound("Subscription not found.")
    if subscription.status not in LIVE_SUBSCRIPTION_STATES:
        raise Conflict(f"This subscription is already {subscription.status}.")
    instance = db.session.scalar(
        select(Instance).where(Instance.id == subscription.instance_id).with_for_update()
    )
    assert instance is not None
    kind = JobKind.TERMINATE if when == CANCEL_NOW else JobKind.CANCEL_SUBSCRIPTION
    if when == CANCEL_AT_PERIOD_END and subscription.cancel_at_period_end:
        raise Conflict("This subscription is already cancelled at the end of its period.")
    if instance.status not in lifecycle.KINDS[kind].starts_from:
        raise Conflict(f"The machine is {instance.status}: its subscription ends with it.")
    before = {
        "status": subscription.status,
        "cancel_at_period_end": subscription.cancel_at_period_end,
    }
    job = lifecycle.start_job(
        instance,
        kind,
        audit_as=None,
        actor=actor.id,
        reason=f"Subscription cancelled by an operator: {reason}" if when == CANCEL_NOW else None,
    )
    require_broker()
    admin_audit.commit(
        actor,
        "subscription_cancelled",
        subscription,
        reason=reason,
        before=before,
        after={"when": when, "job_id": job.id, "instance_status": instance.status},
    )
    return job
