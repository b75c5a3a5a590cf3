"""E-mail delivery tasks.

Each runs through `never_lost`: a mail the server cannot take now is retried with the one
backoff policy of `tasks.support`, up to ``PROVIDER_RETRY_MAX`` times. A mail that
cannot be sent (refused by the server, still undeliverable after every retry, or impossible
to compose) fails its task, is logged as an error and is raised to ops: it is never lost
silently.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from email.message import EmailMessage
from functools import wraps
from typing import Any

from celery import current_task, shared_task
from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from app import task_names
from app.extensions import db
from app.models import (
    AuditEvent,
    EmailToken,
    Instance,
    Invoice,
    Job,
    SupportTicket,
    TicketMessage,
    User,
)
from app.services import account_settings, alerts, notifications
from tasks import support
from workers import mailer

logger = logging.getLogger(__name__)


def never_lost(run: Callable[..., None]) -> Callable[..., None]:
    """Retry a transient failure; fail the task loudly when its mail cannot be sent. The
    task is declared with ``max_retries=None``: this, not Celery's count, stops the retries."""

    @wraps(run)
    def wrapped(*ids: Any) -> None:
        try:
            run(*ids)
        except mailer.MailTransientError as exc:
            if current_task.request.retries < current_app.config["PROVIDER_RETRY_MAX"]:
                support.retry(current_task, exc)
            _mail_lost(ids, exc)
            raise
        except Exception as exc:  # re-raised: the task fails with it
            _mail_lost(ids, exc)
            raise

    return wrapped


def _mail_lost(ids: tuple[Any, ...], exc: Exception) -> None:
    task = current_task.name
    reason = f"{type(exc).__name__}: {exc}"
    logger.error("%s%r: the mail could not be sent: %s", task, ids, reason)
    alerts.raise_alert(
        alerts.Alert(
            f"mail_failed:{task}",
            f"a mail could not be sent ({task})",
            f"The task {task} with arguments {ids!r} failed and its mail was not sent.\n"
            f"Reason: {reason}\nSee the worker log for the traceback.",
        )
    )


@shared_task(name=task_names.SEND_WELCOME, max_retries=None)
@never_lost
def send_welcome(user_id: int) -> None:
    """Send the welcome e-mail to a new account."""
    user = db.session.get(User, user_id)
    if user is None or not user.is_active:
        return
    mailer.send(notifications.welcome(user))


@shared_task(name=task_names.SEND_JOB_ALERT, max_retries=None)
@never_lost
def send_job_alert(job_id: int) -> None:
    """Tell operators that a job failed."""
    job = db.session.get(Job, job_id)
    if job is not None:
        mailer.send(notifications.job_failed_alert(job))


# -- account and support -----------------------------------------------------------------
# These read every row they need in one statement and end the transaction before talking
# SMTP, so no table stays locked for the length of a mail delivery.
def _deliver(message: EmailMessage) -> None:
    db.session.close()
    mailer.send(message)


def _email_token(token_id: int) -> EmailToken | None:
    return db.session.get(EmailToken, token_id, options=[joinedload(EmailToken.user)])


def _ticket_message(message_id: int) -> TicketMessage | None:
    return db.session.get(
        TicketMessage,
        message_id,
        options=[
            joinedload(TicketMessage.ticket).joinedload(SupportTicket.user),
            joinedload(TicketMessage.ticket).selectinload(SupportTicket.messages),
        ],
    )


@shared_task(name=task_names.SEND_PASSWORD_RESET, max_retries=None)
@never_lost
def send_password_reset(token_id: int | None) -> None:
    """Send a password reset link, unless it was used or expired meanwhile (None: the
    address has no account, and nothing is sent)."""
    token = _email_token(token_id) if token_id is not None else None
    if token is not None and account_settings.link_is_live(token):
        _deliver(notifications.password_reset(token))


@shared_task(name=task_names.SEND_EMAIL_CHANGE_CONFIRMATION, max_retries=None)
@never_lost
def send_email_change_confirmation(token_id: int) -> None:
    """Send the link that confirms a new address, to that address."""
    token = _email_token(token_id)
    if token is not None and account_settings.link_is_live(token):
        _deliver(notifications.email_change_confirmation(token))


@shared_task(name=task_names.SEND_EMAIL_CHANGED_NOTICE, max_retries=None)
@never_lost
def send_email_changed_notice(token_id: int) -> None:
    """Tell the old address that the account moved to a new one."""
    token = _email_token(token_id)
    if token is not None and token.used_at is not None:
        _deliver(notifications.email_changed_notice(token))


@shared_task(name=task_names.SEND_SECURITY_NOTICE, max_retries=None)
@never_lost
def send_security_notice(event_id: int) -> None:
    """Tell the account's address about a security change recorded in the audit trail."""
    found = db.session.execute(
        select(AuditEvent, User)
        .join(User, User.id == AuditEvent.user_id)
        .where(AuditEvent.id == event_id)
    ).first()
    if found is not None and found.User.is_active:
        _deliver(notifications.security_notice(found.AuditEvent, found.User))


@shared_task(name=task_names.SEND_SUPPORT_TICKET_MESSAGE, max_retries=None)
@never_lost
def send_support_ticket_message(message_id: int) -> None:
    """Send a new ticket or a customer's reply to the support address."""
    message = _ticket_message(message_id)
    if message is not None:
        _deliver(notifications.support_ticket_message(message))


@shared_task(name=task_names.SEND_TICKET_REPLY, max_retries=None)
@never_lost
def send_ticket_reply(message_id: int) -> None:
    """Send a staff reply to the customer, if they still want e-mail."""
    message = _ticket_message(message_id)
    if message is None or not message.from_staff:
        return
    customer = message.ticket.user
    if customer.is_active and customer.email_notifications:
        _deliver(notifications.ticket_reply(message))


@shared_task(name=task_names.SEND_URGENT_TICKET_ALERT, max_retries=None)
@never_lost
def send_urgent_ticket_alert(ticket_id: int) -> None:
    """Raise an urgent support ticket to ops."""
    ticket = db.session.get(
        SupportTicket, ticket_id, options=[selectinload(SupportTicket.messages)]
    )
    if ticket is not None:
        _deliver(notifications.urgent_ticket_alert(ticket))


@shared_task(name=task_names.SEND_PAYMENT_FAILED, max_retries=None)
@never_lost
def send_payment_failed(invoice_id: int) -> None:
    """Tell a customer their payment failed and when the desktop will be suspended."""
    invoice = db.session.get(Invoice, invoice_id)
    user = db.session.get(User, invoice.user_id) if invoice and invoice.user_id else None
    if invoice is None or user is None or not user.is_active:
        return
    _deliver(notifications.payment_failed(invoice, user))


@shared_task(name=task_names.SEND_REFUND, max_retries=None)
@never_lost
def send_refund(instance_id: int) -> None:
    """Tell a customer their order was refunded in full, and why."""
    instance = db.session.get(Instance, instance_id, options=[joinedload(Instance.user)])
    if instance is None or instance.stripe_subscription_id is None:
        return
    refunded = db.session.execute(
        select(func.sum(Invoice.amount_refunded), func.min(Invoice.currency)).where(
            Invoice.stripe_subscription_id == instance.stripe_subscription_id
        )
    ).one()
    if not refunded[0] or instance.user.erased_at is not None:
        return
    _deliver(notifications.order_refunded(instance, int(refunded[0]), refunded[1]))


@shared_task(name=task_names.SEND_SUSPENSION_NOTICE, max_retries=None)
@never_lost
def send_suspension_notice(event_id: int) -> None:
    """Tell a customer their account was suspended, or is active again."""
    event = db.session.get(AuditEvent, event_id)
    target = event.details.get("target_id") if event is not None else None
    user = db.session.get(User, target) if isinstance(target, int) else None
    if event is None or user is None or user.erased_at is not None:
        return
    _deliver(notifications.suspension_notice(event, user))
