"""Account settings: preferences, password change and reset, address change, data export.

Password resets and address changes go through single-use links sent by e-mail: the link
carries the id of an `EmailToken` row, signed; the row makes it expire and work once.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import String, insert, literal, select, update
from sqlalchemy.exc import IntegrityError

from app import task_names
from app.errors import AppError, Conflict, Forbidden, ValidationFailed
from app.extensions import db
from app.models import (
    ApiToken,
    AuditEvent,
    EmailToken,
    EmailTokenPurpose,
    Instance,
    SshKey,
    SupportTicket,
    User,
)
from app.models.base import UTCDateTime, utcnow
from app.security import signing
from app.security.passwords import hash_password, verify_password
from app.services import accounts, audit, logins
from app.services.tasks import enqueue

logger = logging.getLogger(__name__)

P = EmailTokenPurpose

LINK_LIFETIME = {P.PASSWORD_RESET: timedelta(hours=1), P.EMAIL_CHANGE: timedelta(hours=24)}
# Where each link leads in the dashboard, which posts the token back to the API.
LINK_PATH = {P.PASSWORD_RESET: "/reset-password", P.EMAIL_CHANGE: "/confirm-email"}
INVALID_LINK = "This link is invalid, has expired or was already used; ask for a new one."


def check_password(user: User, password: str, *, field: str, purpose: str) -> None:
    """403 for a wrong password, recorded in the audit trail so rate limits can count it."""
    if verify_password(user.password_hash, password):
        return
    audit.record("auth.password_check_failed", user.id, purpose=purpose)
    db.session.commit()
    raise Forbidden("Wrong password.", {field: ["Wrong password."]})


def update_preferences(user: User, values: dict[str, Any]) -> User:
    return accounts.update_profile(user, preferences=values)


def revoke_api_tokens(user: User) -> None:
    """Revoke every live API token of the user (in the caller's transaction)."""
    db.session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


# -- passwords ----------------------------------------------------------------------------
def change_password(user: User, current_password: str, new_password: str) -> User:
    """Set a new password after checking the current one.

    Every session (the caller re-keys its own) and every API token issued before stop
    working, and the account's address is told.
    """
    check_password(user, current_password, field="current_password", purpose="password_change")
    if new_password == current_password:
        raise ValidationFailed(fields={"new_password": ["Choose a password you do not use now."]})
    event = _set_password(user, new_password, "account.password_changed")
    db.session.commit()
    enqueue(task_names.SEND_SECURITY_NOTICE, event.id)
    return user


def request_password_reset(email: str) -> None:
    """E-mail a reset link if the address belongs to an active account.

    The caller answers the same either way, and the work is the same too, so neither the
    answer nor its time nor its query count tells who has an account: one statement makes
    the link only if an active account has the address, the request is recorded and the
    mail task is sent either way (with no link, it has nothing to send).
    """
    now = utcnow()
    link = (
        select(
            User.id,
            literal(P.PASSWORD_RESET.value, String()),
            User.email,
            literal(now + LINK_LIFETIME[P.PASSWORD_RESET], UTCDateTime()),
            literal(now, UTCDateTime()),
        )
        .where(accounts.has_email(email.strip()), User.is_active_account.is_(True))
        .limit(1)
    )
    columns = ["user_id", "purpose", "previous_email", "expires_at", "created_at"]
    made = db.session.execute(
        insert(EmailToken).from_select(columns, link).returning(EmailToken.id, EmailToken.user_id)
    ).first()
    audit.record("account.password_reset_requested", made.user_id if made else None)
    db.session.commit()
    enqueue(task_names.SEND_PASSWORD_RESET, made.id if made else None)


def reset_password(raw_token: str, new_password: str) -> None:
    """Set a new password from a reset link; the link then stops working."""
    token = _redeem(raw_token, P.PASSWORD_RESET)
    event = _set_password(token.user, new_password, "account.password_reset")
    db.session.commit()
    enqueue(task_names.SEND_SECURITY_NOTICE, event.id)


def _set_password(user: User, password: str, action: str) -> AuditEvent:
    now = utcnow()
    user.password_hash = hash_password(password)
    user.password_changed_at = now
    logins.end_all(user)  # every session and remember-me cookie, every open challenge
    revoke_api_tokens(user)  # tokens.user_for also refuses any issued before the change
    db.session.execute(  # a reset link asked for earlier must not undo this change
        update(EmailToken)
        .where(
            EmailToken.user_id == user.id,
            EmailToken.purpose == P.PASSWORD_RESET,
            EmailToken.used_at.is_(None),
        )
        .values(used_at=now)
    )
    event = audit.record(action, user.id)
    db.session.flush()
    return event


# -- e-mail address -----------------------------------------------------------------------
def request_email_change(user: User, new_email: str, password: str) -> None:
    """Send a confirmation link to the new address; the account keeps the old one until
    the link is followed."""
    check_password(user, password, field="password", purpose="email_change")
    new_email = new_email.strip()
    if new_email.lower() == user.email.lower():
        raise ValidationFailed(fields={"new_email": ["This is already your address."]})
    if accounts.find_by_email(new_email) is not None:
        raise Conflict("An account with this e-mail already exists.", {"new_email": ["Taken."]})
    token = _new_link(user, P.EMAIL_CHANGE, new_email=new_email)
    audit.record("account.email_change_requested", user.id)
    db.session.commit()
    enqueue(task_names.SEND_EMAIL_CHANGE_CONFIRMATION, token.id)


def confirm_email_change(raw_token: str) -> None:
    """Move the account to the confirmed address and tell the old one."""
    token = _redeem(raw_token, P.EMAIL_CHANGE)
    assert token.new_email is not None
    user = token.user
    taken = accounts.find_by_email(token.new_email)
    if taken is not None and taken.id != user.id:
        raise Conflict("An account with this e-mail already exists.", {"token": ["Taken."]})
    user.email = token.new_email
    db.session.execute(  # the other pending changes were asked for from the old address
        update(EmailToken)
        .where(
            EmailToken.user_id == user.id,
            EmailToken.purpose == P.EMAIL_CHANGE,
            EmailToken.used_at.is_(None),
        )
        .values(used_at=utcnow())
    )
    audit.record("account.email_changed", user.id)
    try:
        db.session.flush()
    except IntegrityError:  # an account took the address a moment ago
        db.session.rollback()
        raise Conflict("An account with this e-mail already exists.") from None
    db.session.commit()
    enqueue(task_names.SEND_EMAIL_CHANGED_NOTICE, token.id)


# -- links --------------------------------------------------------------------------------
def _new_link(user: User, purpose: P, *, new_email: str | None = None) -> EmailToken:
    token = EmailToken(
        user_id=user.id,
        purpose=purpose,
        previous_email=user.email,
        new_email=new_email,
        expires_at=utcnow() + LINK_LIFETIME[purpose],
    )
    db.session.add(token)
    db.session.flush()
    return token


def link_is_live(token: EmailToken) -> bool:
    """Unused, unexpired, and the account still active at the address it was asked from."""
    user = token.user
    return (
        token.used_at is None
        and token.expires_at > utcnow()
        and user.is_active
        and user.email == token.previous_email
    )


def link_for(token: EmailToken) -> str:
    """The URL to e-mail: the token's id, signed for its purpose (made by the e-mail task)."""
    purpose = P(token.purpose)
    signed = signing.sign(token.id, purpose)
    return f"{current_app.config['PUBLIC_BASE_URL']}{LINK_PATH[purpose]}?token={signed}"


def _redeem(raw_token: str, purpose: P) -> EmailToken:
    """The live token behind a link, marked used (in the caller's transaction), or 400."""
    try:
        token_id, _ = signing.unsign(raw_token, purpose, LINK_LIFETIME[purpose])
    except signing.InvalidSignature:
        raise AppError(INVALID_LINK, {"token": ["Invalid or expired."]}) from None
    # The row lock makes two concurrent uses of one link queue up: the second finds it used.
    token = db.session.scalar(
        select(EmailToken)
        .where(EmailToken.id == token_id, EmailToken.purpose == purpose)
        .with_for_update()
    )
    if token is None or not link_is_live(token):
        raise AppError(INVALID_LINK, {"token": ["Invalid, expired or already used."]})
    token.used_at = utcnow()
    return token


# -- export -------------------------------------------------------------------------------
def export(user: User) -> dict[str, Any]:
    """Everything we hold about the customer, for the customer (machine passwords aside).

    The export itself is recorded first, so it appears in the audit trail it exports.
    """
    audit.record("account.exported", user.id)
    db.session.commit()
    instances = db.session.scalars(
        select(Instance).where(Instance.user_id == user.id).order_by(Instance.id)
    )
    tokens = db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)
    )
    ssh_keys = db.session.scalars(
        select(SshKey).where(SshKey.user_id == user.id).order_by(SshKey.id)
    )
    tickets = db.session.scalars(
        select(SupportTicket).where(SupportTicket.user_id == user.id).order_by(SupportTicket.id)
    )
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.user_id == user.id).order_by(AuditEvent.id)
    )
    return {
        "exported_at": utcnow(),
        "account": user,
        "instances": list(instances),
        "api_tokens": list(tokens),
        "ssh_keys": list(ssh_keys),
        "support_tickets": list(tickets),
        "audit_events": list(events),
    }
