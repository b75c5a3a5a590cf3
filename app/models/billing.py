"""Our mirror of Stripe: subscriptions, invoices and the webhook events that feed them.

Stripe is the source of truth for money; these rows let pages load without a Stripe call.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import Timestamped, UTCDateTime, utcnow
from app.models.instance import Instance
from app.models.plan import Plan


class Subscription(Timestamped, db.Model):  # type: ignore[name-defined]
    """The Stripe subscription that pays for one machine."""

    __tablename__ = "subscriptions"
    __table_args__ = (Index("ix_subscriptions_user_created", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instances.id"), unique=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"), nullable=False)
    stripe_subscription_id: Mapped[str] = mapped_column(String(64), unique=True)
    stripe_price_id: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(24), nullable=False)
    amount_cents: Mapped[int] = mapped_column(Integer, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    current_period_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    current_period_end: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancel_at_period_end: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    canceled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Since when the latest invoice is unpaid; suspension follows after the grace period.
    past_due_since: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # Created time of the newest Stripe object applied, so older events never win.
    stripe_updated: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False
    )

    instance: Mapped[Instance] = relationship()
    plan: Mapped[Plan] = relationship(lazy="joined", innerjoin=True)


class Invoice(db.Model):  # type: ignore[name-defined]
    """A Stripe invoice, kept even when the account is erased (bookkeeping law)."""

    __tablename__ = "invoices"
    __table_args__ = (Index("ix_invoices_user_created", "user_id", "created"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    stripe_invoice_id: Mapped[str] = mapped_column(String(64), unique=True)
    stripe_subscription_id: Mapped[str | None] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(24), nullable=False)
    amount_due: Mapped[int] = mapped_column(Integer, nullable=False)
    amount_paid: Mapped[int] = mapped_column(Integer, nullable=False)
    # Given back of amount_paid (Stripe refunds), and the payment refunds go through.
    amount_refunded: Mapped[int] = mapped_column(
        Integer, default=0, server_default="0", nullable=False
    )
    stripe_payment_intent_id: Mapped[str | None] = mapped_column(String(64), index=True)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    created: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    invoice_pdf: Mapped[str | None] = mapped_column(String(500))
    hosted_invoice_url: Mapped[str | None] = mapped_column(String(500))


class WebhookEvent(db.Model):  # type: ignore[name-defined]
    """A Stripe event as received, stored once by its id and processed by a task."""

    __tablename__ = "webhook_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    stripe_event_id: Mapped[str] = mapped_column(String(64), unique=True)
    type: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    stripe_created: Mapped[int] = mapped_column(Integer, nullable=False)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(String(500))
