"""Billing tasks: webhook events, plan changes, cancellations, refunds of orders never
delivered, unpaid orders, dunning and the mirror's sync."""

from __future__ import annotations

import logging
from typing import NoReturn

from celery import Task, shared_task
from flask import current_app
from sqlalchemy.exc import IntegrityError, OperationalError

from app.extensions import db
from app.models import Instance, User
from app.services import alerts, billing_events, jobs
from tasks.support import backoff, open_job, out_of_retries, retry_later, schedule_check
from workers import billing, machines
from workers.outside_errors import PermanentError, TransientError

logger = logging.getLogger(__name__)

# Stripe outages can last: these tasks keep trying, with backoff, this many times.
STRIPE_RETRIES = 60
# A deadlock, a lost connection, or a row another task inserted first: try again.
DATABASE_CONFLICTS = (OperationalError, IntegrityError)


@shared_task(name="billing.process_event", bind=True, max_retries=STRIPE_RETRIES)
def process_event(self: Task, event_row_id: int) -> None:
    """Act on one stored Stripe event (once, however often it is delivered)."""
    try:
        billing_events.process(event_row_id)
    except (TransientError, *DATABASE_CONFLICTS) as exc:
        db.session.rollback()
        raise self.retry(countdown=backoff(self.request.retries, None), exc=exc) from None


@shared_task(name="billing.change_plan", bind=True, max_retries=None)
def change_plan(self: Task, job_id: int) -> None:
    """Invoice the plan change at Stripe, then resize the machine and wait for it."""
    job = open_job(job_id)
    if job is None or machines.superseded(job):
        return
    jobs.mark_running(job)
    try:
        billing.bill_plan_change(job)
        machines.perform(job)
    except DATABASE_CONFLICTS as exc:
        _retry_after_conflict(self, exc)
    except TransientError as exc:
        if out_of_retries(self):  # giving up: the price goes back to the machine's plan
            billing.revert_plan_change(job)
        retry_later(self, job, exc)
        return
    except PermanentError as exc:
        if job.step == "billed":  # paid, but the provider refused: give the money back
            billing.revert_plan_change(job)
        machines.fail(job, exc.message)
        return
    schedule_check(job)


@shared_task(name="billing.cancel_subscription", bind=True, max_retries=None)
def cancel_subscription(self: Task, job_id: int) -> None:
    """Cancel a machine's subscription at the end of its period."""
    job = open_job(job_id)
    if job is None:
        return
    jobs.mark_running(job)
    try:
        billing.cancel_at_period_end(job)
    except DATABASE_CONFLICTS as exc:
        _retry_after_conflict(self, exc)
    except TransientError as exc:
        retry_later(self, job, exc)
    except PermanentError as exc:
        machines.fail(job, exc.message)


@shared_task(name="billing.end_subscription", bind=True, max_retries=STRIPE_RETRIES)
def end_subscription(self: Task, instance_id: int) -> None:
    """Stop billing a terminated machine now."""
    instance = db.session.get(Instance, instance_id)
    if instance is None:
        return
    try:
        billing.end_subscription(instance)
    except DATABASE_CONFLICTS as exc:
        _retry_after_conflict(self, exc)
    except TransientError as exc:
        db.session.rollback()
        if self.request.retries >= STRIPE_RETRIES:
            logger.critical("instance %s is terminated but its subscription is not", instance_id)
        raise self.retry(countdown=backoff(self.request.retries, None), exc=exc) from None


@shared_task(name="billing.settle_undelivered", bind=True, max_retries=STRIPE_RETRIES)
def settle_undelivered(self: Task, instance_id: int) -> None:
    """Close the payment page of an order that ended without a machine, cancel its
    subscription and refund it in full."""
    instance = db.session.get(Instance, instance_id)
    if instance is None:
        return
    try:
        billing.settle_undelivered(instance)
    except DATABASE_CONFLICTS as exc:
        _retry_after_conflict(self, exc)
    except TransientError as exc:
        db.session.rollback()
        if self.request.retries >= STRIPE_RETRIES:
            logger.critical("order %s ended without a machine and is not refunded", instance_id)
        raise self.retry(countdown=backoff(self.request.retries, None), exc=exc) from None
    except PermanentError as exc:
        db.session.rollback()
        alerts.raise_alert(
            alerts.Alert(
                f"refund_failed:{instance_id}",
                f"order {instance_id} could not be refunded",
                f"Order {instance_id} ended without a machine, but Stripe refused to settle "
                f"it: {exc.message}. Refund it by hand.",
            )
        )


@shared_task(name="billing.expire_unpaid_orders")
def expire_unpaid_orders() -> int:
    """Close orders left unpaid past UNPAID_ORDER_MINUTES, with their payment pages."""
    return billing.expire_unpaid_orders()


@shared_task(name="billing.erase_customer", bind=True, max_retries=STRIPE_RETRIES)
def erase_customer(self: Task, user_id: int) -> None:
    """Erase a deleted account's e-mail and name at Stripe."""
    user = db.session.get(User, user_id)
    if user is None or user.erased_at is None:
        return
    try:
        billing.erase_customer(user)
    except TransientError as exc:
        raise self.retry(countdown=backoff(self.request.retries, None), exc=exc) from None


@shared_task(name="billing.suspend_overdue")
def suspend_overdue() -> int:
    """Suspend machines whose invoice stayed unpaid past the grace period."""
    return billing.suspend_overdue()


@shared_task(name="billing.sync_invoices", bind=True, max_retries=3)
def sync_invoices(self: Task) -> dict[str, int]:
    """Heal the mirror from Stripe: recent invoices, all subscriptions, missed events."""
    try:
        return billing.sync_recent(current_app.config["INVOICE_SYNC_DAYS"])
    except DATABASE_CONFLICTS as exc:
        _retry_after_conflict(self, exc)
    except TransientError as exc:
        db.session.rollback()
        raise self.retry(countdown=backoff(self.request.retries, None), exc=exc) from None


def _retry_after_conflict(task: Task, exc: Exception) -> NoReturn:
    """Start the task again on a fresh transaction (its steps are idempotent)."""
    db.session.rollback()
    raise task.retry(countdown=backoff(task.request.retries, None), exc=exc) from None
