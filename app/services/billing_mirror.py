"""Our copy of Stripe's subscriptions and invoices, written from webhooks and the sync task.

Every write is an upsert keyed by Stripe's id, and a subscription only takes a version at
least as new as the one it has, so replayed or out-of-order events change nothing twice.
Objects are Stripe's JSON as plain dicts.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import Instance, Invoice, Plan, Subscription, User

logger = logging.getLogger(__name__)

StripeObject = dict[str, Any]
T = TypeVar("T")

# An invoice moves forward only: a late "open" never undoes "paid".
INVOICE_PROGRESS = {"draft": 0, "open": 1, "paid": 2, "uncollectible": 2, "void": 2}


def _time(value: int | None) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if value else None


def _owner(customer_id: str | None) -> User | None:
    if not customer_id:
        return None
    return db.session.scalar(select(User).where(User.stripe_customer_id == customer_id))


def instance_for(obj: StripeObject) -> Instance | None:
    """The instance a subscription or session pays for, only if its Stripe customer is the
    instance's owner: metadata alone never moves money between accounts."""
    owner = _owner(obj.get("customer"))
    raw_id = (obj.get("metadata") or {}).get("instance_id", "")
    if owner is None or not str(raw_id).isdigit():
        return None
    instance = db.session.get(Instance, int(raw_id))
    return instance if instance is not None and instance.user_id == owner.id else None


def _first_item(obj: StripeObject) -> StripeObject:
    items = (obj.get("items") or {}).get("data") or [{}]
    return items[0]


def subscription(obj: StripeObject, version: int) -> Subscription | None:
    """Mirror a subscription; None when it pays for nothing of ours."""
    row = db.session.scalar(
        select(Subscription)
        .where(Subscription.stripe_subscription_id == obj["id"])
        .with_for_update()
    )
    if row is None:
        instance = instance_for(obj)
        if instance is None:
            logger.warning("subscription %s pays for nothing of ours", obj["id"])
            return None
        row = _insert_or_lock(
            Subscription,
            Subscription.stripe_subscription_id == obj["id"],
            Subscription(
                user_id=instance.user_id,
                instance_id=instance.id,
                plan_id=instance.plan_id,
                stripe_subscription_id=obj["id"],
                stripe_updated=0,
                status=obj["status"],
                amount_cents=0,
                currency="usd",
            ),
        )
    if version < row.stripe_updated:
        return row  # an older view of it: keep what we have
    item = _first_item(obj)
    price = item.get("price") or item.get("plan") or {}
    row.stripe_updated = version
    row.status = obj["status"]
    row.stripe_price_id = price.get("id")
    row.amount_cents = int(price.get("unit_amount") or price.get("amount") or 0)
    row.currency = price.get("currency") or "usd"
    plan = db.session.scalar(select(Plan).where(Plan.stripe_price_id == row.stripe_price_id))
    if plan is not None:
        row.plan_id = plan.id
    row.current_period_start = _time(
        obj.get("current_period_start") or item.get("current_period_start")
    )
    row.current_period_end = _time(obj.get("current_period_end") or item.get("current_period_end"))
    row.cancel_at_period_end = bool(obj.get("cancel_at_period_end"))
    row.canceled_at = _time(obj.get("canceled_at") or obj.get("ended_at"))
    if row.status == "active":
        row.past_due_since = None
    return row


def invoice(obj: StripeObject) -> Invoice | None:
    """Mirror an invoice of one of our customers; None for anyone else's."""
    row = db.session.scalar(
        select(Invoice).where(Invoice.stripe_invoice_id == obj["id"]).with_for_update()
    )
    if row is None:
        owner = _owner(obj.get("customer"))
        if owner is None:
            logger.warning("invoice %s is for a customer we do not know", obj["id"])
            return None
        row = _insert_or_lock(
            Invoice,
            Invoice.stripe_invoice_id == obj["id"],
            Invoice(
                user_id=owner.id,
                stripe_invoice_id=obj["id"],
                status="draft",
                amount_due=0,
                amount_paid=0,
                currency="usd",
                created=datetime.now(UTC),
            ),
        )
    status = obj.get("status") or "draft"
    if INVOICE_PROGRESS.get(status, 0) < INVOICE_PROGRESS.get(row.status, 0):
        return row  # an older view of it, delivered late: keep what we have
    row.status = status
    row.stripe_subscription_id = _subscription_id(obj)
    row.amount_due = int(obj.get("amount_due") or 0)
    row.amount_paid = int(obj.get("amount_paid") or 0)
    row.currency = obj.get("currency") or "usd"
    row.created = _time(obj.get("created")) or datetime.now(UTC)
    row.invoice_pdf = obj.get("invoice_pdf")
    row.hosted_invoice_url = obj.get("hosted_invoice_url")
    return row


def _insert_or_lock(model: type[T], found: ColumnElement[bool], new: T) -> T:
    """Insert ``new``, or lock the row another transaction inserted first: a webhook, a
    job and the sync may mirror the same object at the same moment."""
    try:
        with db.session.begin_nested():
            db.session.add(new)
    except IntegrityError:
        existing = db.session.scalar(select(model).where(found).with_for_update())
        assert existing is not None
        return existing
    return new


def _subscription_id(obj: StripeObject) -> str | None:
    """Where the invoice names its subscription: top level before 2025, under
    ``parent.subscription_details`` since."""
    found = obj.get("subscription")
    if not found:
        details = (obj.get("parent") or {}).get("subscription_details") or {}
        found = details.get("subscription")
    if isinstance(found, dict):
        found = found.get("id")
    return found or None
