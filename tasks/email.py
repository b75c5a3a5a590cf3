"""E-mail delivery tasks."""

from __future__ import annotations

from email.message import EmailMessage

from celery import shared_task
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from app.extensions import db
from app.models import AuditEvent, EmailToken, Invoice, Job, SupportTicket, TicketMessage, User
from app.services import account_settings, notifications
from workers import mailer

RETRY_POLICY = {
    "autoretry_for": (mailer.MailTransientError,),
    "retry_backoff": 5,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 8,
}


@shared_task(name="email.send_welcome", **RETRY_POLICY)
def send_welcome(user_id: int) -> None:
    """Send the welcome e-mail to a new account."""
    user = db.session.get(User, user_id)
    if user is None or not user.is_active:
        return
    mailer.send(notifications.welcome(user))


@shared_task(name="email.send_job_alert", **RETRY_POLICY)
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


@shared_task(name="email.send_password_reset", **RETRY_POLICY)
def send_password_reset(token_id: int) -> None:
    """Send a password reset link, unless it was used or expired meanwhile."""
    token = _email_token(token_id)
    if token is not None and account_settings.link_is_live(token):
        _deliver(notifications.password_reset(token))


@shared_task(name="email.send_email_change_confirmation", **RETRY_POLICY)
def send_email_change_confirmation(token_id: int) -> None:
    """Send the link that confirms a new address, to that address."""
    token = _email_token(token_id)
    if token is not None and account_settings.link_is_live(token):
        _deliver(notifications.email_change_confirmation(token))


@shared_task(name="email.send_email_changed_notice", **RETRY_POLICY)
def send_email_changed_notice(token_id: int) -> None:
    """Tell the old address that the account moved to a new one."""
    token = _email_token(token_id)
    if token is not None and token.used_at is not None:
        _deliver(notifications.email_changed_notice(token))


@shared_task(name="email.send_security_notice", **RETRY_POLICY)
def send_security_notice(event_id: int) -> None:
    """Tell the account's address about a security change recorded in the audit trail."""
    found = db.session.execute(
        select(AuditEvent, User)
        .join(User, User.id == AuditEvent.user_id)
        .where(AuditEvent.id == event_id)
    ).first()
    if found is not None and found.User.is_active:
        _deliver(notifications.security_notice(found.AuditEvent, found.User))


@shared_task(name="email.send_support_ticket_message", **RETRY_POLICY)
def send_support_ticket_message(message_id: int) -> None:
    """Send a new ticket or a customer's reply to the support address."""
    message = _ticket_message(message_id)
    if message is not None:
        _deliver(notifications.support_ticket_message(message))


@shared_task(name="email.send_ticket_reply", **RETRY_POLICY)
def send_ticket_reply(message_id: int) -> None:
    """Send a staff reply to the customer, if they still want e-mail."""
    message = _ticket_message(message_id)
    if message is None or not message.from_staff:
        return
    customer = message.ticket.user
    if customer.is_active and customer.email_notifications:
        _deliver(notifications.ticket_reply(message))


@shared_task(name="email.send_urgent_ticket_alert", **RETRY_POLICY)
def send_urgent_ticket_alert(ticket_id: int) -> None:
    """Raise an urgent support ticket to ops."""
    ticket = db.session.get(
        SupportTicket, ticket_id, options=[selectinload(SupportTicket.messages)]
    )
    if ticket is not None:
        _deliver(notifications.urgent_ticket_alert(ticket))


@shared_task(name="email.send_payment_failed", **RETRY_POLICY)
def send_payment_failed(invoice_id: int) -> None:
    """Tell a customer their payment failed and when the desktop will be suspended."""
    invoice = db.session.get(Invoice, invoice_id)
    user = db.session.get(User, invoice.user_id) if invoice and invoice.user_id else None
    if invoice is None or user is None or not user.is_active:
        return
    _deliver(notifications.payment_failed(invoice, user))
