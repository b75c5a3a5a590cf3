"""What becomes of what is left unpaid: orders whose payment page nobody used are closed,
machines whose invoice stays unpaid past the grace period are suspended (a suspension is a
stop the owner cannot undo; paying resumes the machine, see `billing_events`)."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from app import task_names
from app.extensions import db
from app.models import Instance, InstanceStatus, Subscription
from app.models.base import utcnow
from app.services import lifecycle
from app.services.lifecycle import JobKind
from app.services.tasks import enqueue_after_commit

S = InstanceStatus


def expire_unpaid_orders() -> int:
    """Close orders left unpaid past ``UNPAID_ORDER_MINUTES`` (their payment page is
    expired by the settling task); returns how many."""
    cutoff = utcnow() - timedelta(minutes=current_app.config["UNPAID_ORDER_MINUTES"])
    stale = db.session.scalars(
        select(Instance)
        .where(Instance.status == S.PENDING_PAYMENT, Instance.created_at < cutoff)
        .with_for_update(skip_locked=True)
    ).all()
    for instance in stale:
        lifecycle.close_unpaid(instance)
        enqueue_after_commit(task_names.SETTLE_UNDELIVERED, instance.id)
    db.session.commit()
    return len(stale)


def suspend_overdue() -> int:
    """Stop the machines whose payment is overdue past the grace period; returns how many."""
    cutoff = utcnow() - timedelta(seconds=current_app.config["PAYMENT_GRACE_SECONDS"])
    overdue = db.session.scalars(
        select(Instance)
        .join(Subscription, Subscription.instance_id == Instance.id)
        .where(Subscription.past_due_since < cutoff, Instance.status == S.ACTIVE)
        .with_for_update(of=Instance, skip_locked=True)
    ).all()
    for instance in overdue:
        lifecycle.start_job(
            instance,
            JobKind.SUSPEND,
            audit_as="instance.suspended",
            actor=instance.user_id,
            reason="Suspended: the latest invoice is unpaid.",
        )
    db.session.commit()
    return len(overdue)
