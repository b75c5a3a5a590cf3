"""Accounts: sign-up, sign-in and profile."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.exc import IntegrityError

from app import task_names
from app.errors import Conflict, Unauthorized
from app.extensions import db
from app.models import User
from app.security.passwords import hash_password, needs_rehash, verify_password
from app.services import audit
from app.services.tasks import enqueue

logger = logging.getLogger(__name__)


def has_email(email: str) -> ColumnElement[bool]:
    """The condition for the account at this address, whatever its case."""
    return func.lower(User.email) == email.lower()


def find_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(has_email(email)))


def sign_up(email: str, password: str) -> User:
    """Create a customer account and send the welcome e-mail.

    E-mail addresses are unique whatever their case; a duplicate is a 409 and writes nothing.
    """
    if find_by_email(email) is not None:
        raise Conflict("An account with this e-mail already exists.", {"email": ["Taken."]})
    user = User(email=email.strip(), password_hash=hash_password(password))
    db.session.add(user)
    try:
        db.session.flush()
    except IntegrityError:  # a concurrent sign-up won the race
        db.session.rollback()
        raise Conflict(
            "An account with this e-mail already exists.", {"email": ["Taken."]}
        ) from None
    audit.record("account.signup", user.id)
    db.session.commit()
    enqueue(task_names.SEND_WELCOME, user.id)
    return user


def authenticate(email: str, password: str) -> User:
    """The user with these credentials, or 401.

    Any wrong part gets the same answer after the same work: an unknown address is checked
    against a dummy hash of the same cost, and every refusal is recorded alike, so neither
    the time taken nor the queries made tell whether the address has an account.
    """
    user = find_by_email(email)
    valid = verify_password(user.password_hash if user else None, password)
    if user is None or not valid or not user.is_active:
        audit.record("auth.login_failed", user.id if user else None, email_domain=_domain(email))
        db.session.commit()
        raise Unauthorized("Wrong e-mail or password.")
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    # With two-factor sign-in the password is only the first step (`two_factor.complete_login`).
    audit.record("auth.two_factor_challenged" if user.two_factor_enabled else "auth.login", user.id)
    db.session.commit()
    return user


def _domain(email: str) -> str:
    return email.rpartition("@")[2][:100]


PREFERENCES = ("email_notifications", "auto_shutdown", "idle_minutes", "default_os")


def update_profile(
    user: User, *, full_name: str | None = None, preferences: dict[str, Any] | None = None
) -> User:
    """Change the name and any of the preferences (validated by the schema)."""
    if full_name is not None:
        user.full_name = full_name.strip()
    for name, value in (preferences or {}).items():
        if name in PREFERENCES:
            setattr(user, name, value)
    db.session.commit()
    return user
