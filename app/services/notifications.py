"""The e-mails we send, composed from rows; tasks deliver them."""

from __future__ import annotations

from email.message import EmailMessage

from flask import current_app

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
from app.services.account_settings import link_for


def _message(to: str, subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    return message


def welcome(user: User) -> EmailMessage:
    base_url = current_app.config["PUBLIC_BASE_URL"]
    return _message(
        user.email,
        "Welcome to NemoRDP",
        f"Hello,\n\nyour NemoRDP account is ready. Order your first desktop at {base_url}/app .\n\n"
        "— The NemoRDP team\n",
    )


def job_failed_alert(job: Job) -> EmailMessage:
    instance = job.instance
    where = (
        f"instance {instance.id} ({instance.provider} {instance.provider_id})" if instance else "-"
    )
    return _message(
        current_app.config["ALERT_EMAIL"],
        f"[NemoRDP alert] {job.kind} job {job.id} failed",
        f"Job {job.id} ({job.kind}) for {where} failed after {job.attempts} attempt(s).\n\n"
        f"Reason: {job.error}\n",
    )


# -- account ------------------------------------------------------------------------------
SIGN_OFF = "— The NemoRDP team\n"

SECURITY_NOTICES = {
    "account.password_changed": (
        "Your NemoRDP password was changed",
        "the password of your NemoRDP account was changed",
    ),
    "account.password_reset": (
        "Your NemoRDP password was reset",
        "the password of your NemoRDP account was reset through an e-mailed link",
    ),
    "account.two_factor_enabled": (
        "Two-factor sign-in is on",
        "two-factor sign-in was turned on for your NemoRDP account",
    ),
    "account.two_factor_disabled": (
        "Two-factor sign-in is off",
        "two-factor sign-in was turned off for your NemoRDP account",
    ),
}


def password_reset(token: EmailToken) -> EmailMessage:
    return _message(
        token.user.email,
        "Reset your NemoRDP password",
        "Hello,\n\nsomeone, hopefully you, asked to reset the password of your NemoRDP "
        f"account. Choose a new one here within the hour:\n\n{link_for(token)}\n\n"
        "The link works once. If you did not ask for it, ignore this e-mail: your password "
        f"stays as it is.\n\n{SIGN_OFF}",
    )


def email_change_confirmation(token: EmailToken) -> EmailMessage:
    assert token.new_email is not None
    return _message(
        token.new_email,
        "Confirm your new NemoRDP e-mail address",
        "Hello,\n\nto make this the address of your NemoRDP account, follow this link within "
        f"24 hours:\n\n{link_for(token)}\n\nUntil then your account keeps its current address. "
        f"If you did not ask for this, ignore this e-mail.\n\n{SIGN_OFF}",
    )


def email_changed_notice(token: EmailToken) -> EmailMessage:
    """Told to the old address, in case someone else made the change."""
    support = current_app.config["SUPPORT_EMAIL"]
    return _message(
        token.previous_email,
        "Your NemoRDP e-mail address was changed",
        "Hello,\n\nthe e-mail address of your NemoRDP account was changed to "
        f"{_masked(token.new_email or '')}; this address no longer signs in.\n\n"
        f"If you did not do this, write to {support} at once.\n\n{SIGN_OFF}",
    )


def security_notice(event: AuditEvent, user: User) -> EmailMessage:
    subject, what = SECURITY_NOTICES[event.action]
    config = current_app.config
    when = event.created_at.strftime("%Y-%m-%d %H:%M UTC")
    origin = f" from {event.ip_address}" if event.ip_address else ""
    return _message(
        user.email,
        subject,
        f"Hello,\n\n{what} on {when}{origin}.\n\nIf this was you, there is nothing to do. "
        f"If not, reset your password at {config['PUBLIC_BASE_URL']}/reset-password and "
        f"write to {config['SUPPORT_EMAIL']}.\n\n{SIGN_OFF}",
    )


def _masked(address: str) -> str:
    """j***@example.com: enough for the owner to recognise, little for anyone else."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}"


# -- support ------------------------------------------------------------------------------
def support_ticket_message(message: TicketMessage) -> EmailMessage:
    """A new ticket or a customer's reply, for the support inbox."""
    ticket = message.ticket
    config = current_app.config
    is_new = message.id == ticket.messages[0].id
    kind = "New ticket" if is_new else "New reply"
    return _message(
        config["SUPPORT_EMAIL"],
        f"{'' if is_new else 'Re: '}[NemoRDP support #{ticket.id}] [{ticket.priority}] "
        f"{ticket.subject}",
        f"{kind} from customer {ticket.user_id} <{ticket.user.email}>; priority "
        f"{ticket.priority}, status {ticket.status}.\n"
        f"Answer it at {config['PUBLIC_BASE_URL']}/staff/tickets/{ticket.id}\n\n"
        f"{message.body}\n",
    )


def ticket_reply(message: TicketMessage) -> EmailMessage:
    """A staff answer, for the customer."""
    ticket = message.ticket
    base_url = current_app.config["PUBLIC_BASE_URL"]
    return _message(
        ticket.user.email,
        f"Re: [NemoRDP support #{ticket.id}] {ticket.subject}",
        f"Hello,\n\nour support team answered your ticket #{ticket.id}:\n\n{message.body}\n\n"
        f"Reply or close the ticket at {base_url}/support/tickets/{ticket.id} .\n"
        "You get these e-mails because e-mail notifications are on in your settings.\n\n"
        f"{SIGN_OFF}",
    )


def urgent_ticket_alert(ticket: SupportTicket) -> EmailMessage:
    config = current_app.config
    return _message(
        config["ALERT_EMAIL"],
        f"[NemoRDP alert] urgent support ticket #{ticket.id}",
        f"Customer {ticket.user_id} has an urgent ticket (status {ticket.status}): "
        f"{ticket.subject}\n\nAnswer it at {config['PUBLIC_BASE_URL']}/staff/tickets/{ticket.id}"
        f"\n\n{ticket.messages[0].body}\n",
    )


def payment_failed(invoice: Invoice, user: User) -> EmailMessage:
    base_url = current_app.config["PUBLIC_BASE_URL"]
    days = current_app.config["PAYMENT_GRACE_SECONDS"] // 86400
    amount = f"{invoice.amount_due / 100:.2f} {invoice.currency.upper()}"
    grace = f"within {days} day(s)" if days else "now"
    return _message(
        user.email,
        "Your NemoRDP payment did not go through",
        f"Hello,\n\nwe could not collect {amount} for your NemoRDP desktop.\n"
        f"Please update your card {grace} at {base_url}/billing ; after that the desktop is "
        "suspended until the invoice is paid. Your data is kept.\n\n— The NemoRDP team\n",
    )


def order_refunded(instance: Instance, refunded_cents: int, currency: str) -> EmailMessage:
    """The customer's money came back: the order ended before its desktop ever ran."""
    base_url = current_app.config["PUBLIC_BASE_URL"]
    amount = f"{refunded_cents / 100:.2f} {currency.upper()}"
    reason = instance.status_reason or "the order was cancelled"
    return _message(
        instance.user.email,
        "Your NemoRDP payment is refunded",
        f"Hello,\n\nyour {instance.plan.name} desktop (order {instance.id}) was never "
        f"delivered: {reason}\nWe have cancelled its subscription and refunded {amount} in "
        "full to your card; your bank shows it within 5 to 10 business days. Nothing more "
        f"will be charged for it.\n\nYour invoices: {base_url}/app/billing\n\n{SIGN_OFF}",
    )


# -- operators ----------------------------------------------------------------------------
def suspension_notice(event: AuditEvent, user: User) -> EmailMessage:
    """An operator suspended the account (``admin.customer_suspended``) or lifted it."""
    support = current_app.config["SUPPORT_EMAIL"]
    reason = event.details.get("reason", "")
    if event.action == "admin.customer_suspended":
        return _message(
            user.email,
            "Your NemoRDP account is suspended",
            "Hello,\n\nyour NemoRDP account has been suspended: it cannot sign in or order, "
            "and its desktops are stopped (their data is kept).\n\n"
            f"Reason: {reason}\n\nWrite to {support} about it.\n\n{SIGN_OFF}",
        )
    base_url = current_app.config["PUBLIC_BASE_URL"]
    return _message(
        user.email,
        "Your NemoRDP account is active again",
        "Hello,\n\nthe suspension of your NemoRDP account is lifted: you can sign in again "
        f"at {base_url}/login , and the desktops that were running are started again.\n\n"
        f"{SIGN_OFF}",
    )
