"""API tokens: random, shown once, stored only as a SHA-256 digest."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select

from app.errors import NotFound
from app.extensions import db
from app.models import ApiToken, User
from app.models.base import utcnow
from app.services import audit

TOKEN_PREFIX = "nrdp_"
# Recording every use would write on every request; once a minute is precise enough.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def create(user: User, name: str) -> tuple[ApiToken, str]:
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name, token_hash=_digest(raw), prefix=raw[:12])
    db.session.add(token)
    db.session.flush()
    audit.record("token.created", user.id, token_id=token.id)
    db.session.commit()
    return token, raw


def list_for(user: User) -> list[ApiToken]:
    query = (
        select(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .order_by(ApiToken.created_at.desc())
    )
    return list(db.session.scalars(query))


def revoke(user: User, token_id: int) -> None:
    token = db.session.scalar(
        select(ApiToken).where(
            ApiToken.id == token_id, ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None)
        )
    )
    if token is None:
        raise NotFound("Token not found.")
    token.revoked_at = utcnow()
    audit.record("token.revoked", user.id, token_id=token.id)
    db.session.commit()


def user_for(raw: str) -> User | None:
    """The active owner of a live token, recording its use."""
    if not raw.startswith(TOKEN_PREFIX):
        return None
    token = db.session.scalar(
        select(ApiToken).where(ApiToken.token_hash == _digest(raw), ApiToken.revoked_at.is_(None))
    )
    if token is None or not token.user.is_active:
        return None
    changed = token.user.password_changed_at
    if changed is not None and token.created_at <= changed:
        return None
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        token.last_used_at = now
        db.session.commit()
    return token.user
