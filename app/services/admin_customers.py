"""Customers as operators see them: search, one account with everything it holds, its
sign-ins and API tokens (revoked on request), and its role."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Integer, cast, func, or_, select

from app.errors import Conflict, NotFound
from app.extensions import db
from app.models import (
    ApiToken,
    Instance,
    Invoice,
    Login,
    Role,
    Subscription,
    SupportTicket,
    User,
)
from app.models.base import utcnow
from app.security.passwords import hash_password
from app.services import accounts, admin_audit
from app.services.pagination import Page, paginate

DETAIL_LIMIT = 100
# An account's sign-ins and tokens, revoked alike: what is said when there is no such one,
# and when it is revoked already.
REVOCABLE: dict[type[Any], tuple[str, str]] = {
    Login: ("Sign-in not found.", "This sign-in has already ended."),
    ApiToken: ("Token not found.", "This token is already revoked."),
}
Revocable = TypeVar("Revocable", Login, ApiToken)


def get(user_id: int, *, lock: bool = False) -> User:
    query = select(User).where(User.id == user_id)
    user = db.session.scalar(query.with_for_update(of=User) if lock else query)
    if user is None:
        raise NotFound("Customer not found.")
    return user


def by_email(email: str) -> User:
    user = db.session.scalar(select(User).where(func.lower(User.email) == email.lower()))
    if user is None:
        raise NotFound(f"No account has the address {email}.")
    return user


def search(text: str | None, role: str | None, page: int, per_page: int) -> Page[User]:
    """Accounts whose e-mail or name contains ``text`` (any case), or whose id it is."""
    query = select(User)
    if text:
        pattern = "%" + text.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_") + "%"
        matches: list[ColumnElement[bool]] = [
            User.email.ilike(pattern, escape="\\"),
            User.full_name.ilike(pattern, escape="\\"),
        ]
        if text.isdigit() and len(text) <= 9:
            matches.append(User.id == cast(text, Integer))
        query = query.where(or_(*matches))
    if role:
        query = query.where(User.role == role)
    return paginate(query.order_by(User.id.desc()), page, per_page)


def detail(user_id: int) -> dict[str, Any]:
    """One account with its machines, subscriptions, invoices, tickets, live API tokens
    and sign-ins, and its audit trail (newest first, the last `DETAIL_LIMIT` of each)."""
    user = get(user_id)

    def newest(model: Any, *where: Any, order: Any = None) -> list[Any]:
        query = (
            select(model).where(*where).order_by(order if order is not None else model.id.desc())
        )
        return list(db.session.scalars(query.limit(DETAIL_LIMIT)))

    now = utcnow()
    return {
        "customer": user,
        "machines": newest(Instance, Instance.user_id == user.id),
        "subscriptions": newest(Subscription, Subscription.user_id == user.id),
        "invoices": newest(Invoice, Invoice.user_id == user.id, order=Invoice.created.desc()),
        "tickets": newest(SupportTicket, SupportTicket.user_id == user.id),
        "api_tokens": newest(ApiToken, ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None)),
        "logins": newest(
            Login, Login.user_id == user.id, Login.revoked_at.is_(None), Login.expires_at > now
        ),
        "audit": admin_audit.recent_for_customer(user.id, DETAIL_LIMIT),
    }


def revoke_login(actor: User, user_id: int, login_id: int, reason: str) -> Login:
    """End one sign-in of the account (its browser is signed out at its next request)."""
    return _revoke(actor, Login, user_id, login_id, reason, "login_revoked")


def revoke_token(actor: User, user_id: int, token_id: int, reason: str) -> ApiToken:
    """Revoke one API token of the account."""
    return _revoke(actor, ApiToken, user_id, token_id, reason, "token_revoked", "name")


def _revoke(
    actor: User,
    model: type[Revocable],
    user_id: int,
    row_id: int,
    reason: str,
    action: str,
    *shown: str,
) -> Revocable:
    """Revoke the account's sign-in or token now, audited with its `shown` fields on both
    sides."""
    row = db.session.scalar(
        select(model).where(model.id == row_id, model.user_id == user_id).with_for_update()
    )
    missing, already = REVOCABLE[model]
    if row is None:
        raise NotFound(missing)
    if row.revoked_at is not None:
        raise Conflict(already)
    row.revoked_at = utcnow()
    kept = {name: getattr(row, name) for name in shown}
    admin_audit.commit(
        actor,
        action,
        row,
        reason=reason,
        before={"revoked_at": None, **kept},
        after={"revoked_at": row.revoked_at.isoformat(), **kept},
    )
    return row


def set_role(actor: User | None, user: User, role: Role, reason: str) -> User:
    """Give the account a role. The last admin keeps theirs, so someone always can act."""
    if user.role == role:
        raise Conflict(f"This account is already {role}.")
    if user.role == Role.ADMIN:
        admins = db.session.scalar(
            select(func.count()).select_from(User).where(User.role == Role.ADMIN)
        )
        if (admins or 0) <= 1:
            raise Conflict("This is the last admin; make another admin first.")
    before = {"role": user.role}
    user.role = role
    admin_audit.commit(
        actor, "role_changed", user, reason=reason, before=before, after={"role": user.role}
    )
    return user


def create_admin(email: str, password: str) -> User:
    """A new admin account (the first one, typically), from the command line."""
    if accounts.find_by_email(email) is not None:
        raise Conflict("An account with this e-mail already exists; promote it instead.")
    user = User(email=email.strip(), password_hash=hash_password(password), role=Role.ADMIN)
    db.session.add(user)
    db.session.flush()
    admin_audit.commit(
        None,
        "admin_created",
        user,
        reason="created from the command line",
        after={"role": Role.ADMIN, "email": user.email},
    )
    return user
