"""Billing tasks: webhook events, plan changes, cancellations, refunds of orders never
delivered, unpaid orders, dunning and the mirror's sync."""

from __future__ import annotations

import logging

from celery import Task, shared_task
from flask import current_app

from app import task_names
from app.extensions import db
from app.models import Instance, User
from app.services import alerts, billing_events, unpaid
from tasks.support import DATABASE_CONFLICTS, retry, run_step, schedule_check
from workers import billing
from workers.outside_errors import PermanentError, TransientError

logger = logging.getLogger(__name__)

# Stripe outages can last: these tasks keep trying, with backoff, this many times.
STRIPE_RETRIES = 60


@shared_task(name=task_names.PROCESS_STRIPE_EVENT, bind=True, max_retries=STRIPE_RETRIES)
def process_event(self: Task, event_row_id: int) -> None:
    """Act on one stored Stripe event (once, however often it is delivered)."""
    try:
        billing_events.process(event_row_id)
    except (TransientError, *DATABASE_CONFLICTS) as exc:
        retry(self, exc)


@shared_task(name=task_names.CHANGE_PLAN, bind=True, max_retries=None)
def change_plan(self: Task, job_id: int) -> None:
    """Invoice the plan change at Stripe, then resize the machine and wait for it."""
    if job := run_step(self, job_id, billing.change_plan, recover=billing.refund_plan_change):
        schedule_check(job)


@shared_task(name=task_names.CANCEL_SUBSCRIPTION, bind=True, max_retries=None)
def cancel_subscription(self: Task, job_id: int) -> None:
    """Cancel a machine's subscription at the end of its period."""
    run_step(self, job_id, billing.cancel_at_period_end)


@shared_task(name=task_names.END_SUBSCRIPTION, bind=True, max_retries=STRIPE_RETRIES)
def end_subscription(self: Task, instance_id: int) -> None:
    """Stop billing a terminated machine now."""
    instance = db.session.get(Instance, instance_id)
    if instance is None:
        return
    try:
        billing.end_subscription(instance)
    except DATABASE_CONFLICTS as exc:
        retry(self, exc)
    except TransientError as exc:
        if self.request.retries >= STRIPE_RETRIES:
            logger.critical("instance %s is terminated but its subscription is not", instance_id)
        retry(self, exc)


@shared_task(name=task_names.SETTLE_UNDELIVERED, bind=True, max_retries=STRIPE_RETRIES)
def settle_undelivered(self: Task, instance_id: int) -> None:
    """Close the payment page of an order that ended without a machine, cancel its
    subscription and refund it in full."""
    instance = db.session.get(Instance, instance_id)
    if instance is None:
        return
    try:
        billing.settle_undelivered(instance)
    except DATABASE_CONFLICTS as exc:
        retry(self, exc)
    except TransientError as exc:
        if self.request.retries >= STRIPE_RETRIES:
            logger.critical("order %s ended without a machine and is not refunded", instance_id)
        retry(self, exc)
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


@shared_task(name=task_names.EXPIRE_UNPAID_ORDERS)
def expire_unpaid_orders() -> int:
    """Close orders left unpaid past UNPAID_ORDER_MINUTES, with their payment pages."""
    return unpaid.expire_unpaid_orders()


@shared_task(name=task_names.ERASE_CUSTOMER, bind=True, max_retries=STRIPE_RETRIES)
def erase_customer(self: Task, user_id: int) -> None:
    """Erase a deleted account's e-mail and name at Stripe."""
    user = db.session.get(User, user_id)
    if user is None or user.erased_at is None:
        return
    try:
        billing.erase_customer(user)
    except TransientError as exc:
        retry(self, exc)


@shared_task(name=task_names.SUSPEND_OVERDUE)
def suspend_overdue() -> int:
    """Suspend machines whose invoice stayed unpaid past the grace period."""
    return unpaid.suspend_overdue()


@shared_task(name=task_names.SYNC_INVOICES, bind=True, max_retries=3)
def sync_invoices(self: Task) -> dict[str, int]:
    """Heal the mirror from Stripe: recent invoices, all subscriptions, missed events."""
    try:
        return billing.sync_recent(current_app.config["INVOICE_SYNC_DAYS"])
    except (TransientError, *DATABASE_CONFLICTS) as exc:
        retry(self, exc)
