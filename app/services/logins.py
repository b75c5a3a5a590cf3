"""Server-side sign-ins.

Each sign-in is a `Login` row: the browser's session cookie (and its remember-me cookie,
when asked for) carries a random secret of that login alone, of which only the SHA-256
digest is kept. A login lasts `LOGIN_LIFETIME_HOURS`, or `REMEMBER_ME_DAYS` with
remember-me, and ends earlier when revoked: by logout (that login), or by a password change
or reset or the account's deletion (every login of the account, and every two-factor
challenge still open).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import contains_eager

from app.extensions import db
from app.models import Login, LoginChallenge, User
from app.models.base import utcnow


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def start(user: User, *, remember: bool) -> str:
    """Open a login for the user (committed); returns its secret, for the cookies only."""
    config = current_app.config
    lifetime = (
        timedelta(days=config["REMEMBER_ME_DAYS"])
        if remember
        else timedelta(hours=config["LOGIN_LIFETIME_HOURS"])
    )
    secret = secrets.token_urlsafe(32)
    login = Login(
        user_id=user.id,
        secret_hash=digest(secret),
        remember=remember,
        expires_at=utcnow() + lifetime,
    )
    db.session.add(login)
    db.session.commit()
    return secret


def find(secret: str) -> Login | None:
    """The live login a cookie's secret names, with its active user loaded (one query)."""
    login = db.session.scalar(
        select(Login)
        .join(Login.user)
        .options(contains_eager(Login.user))
        .where(
            Login.secret_hash == digest(secret),
            Login.revoked_at.is_(None),
            Login.expires_at > utcnow(),
        )
    )
    if login is None or not login.user.is_active:
        return None
    return login


def end(secret: str) -> None:
    """Revoke the login a cookie's secret names (logout), committed."""
    db.session.execute(
        update(Login)
        .where(Login.secret_hash == digest(secret), Login.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    db.session.commit()


def end_all(user: User) -> None:
    """Revoke every login and open two-factor challenge of the user (in the caller's
    transaction): a password change or reset, or the account's deletion."""
    now = utcnow()
    db.session.execute(
        update(Login)
        .where(Login.user_id == user.id, Login.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    db.session.execute(
        update(LoginChallenge)
        .where(LoginChallenge.user_id == user.id, LoginChallenge.used_at.is_(None))
        .values(used_at=now)
    )
