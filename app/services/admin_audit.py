"""The audit trail of operators' actions, and searching the whole trail.

Every staff and admin action is an `AuditEvent` named ``admin.<what>`` whose actor is the
operator (none from the command line) and whose details say what was acted on
(``target_type``, ``target_id``), whose it is (``customer_id``), why (``reason``) and what
it was before and after (``before``, ``after``).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, or_, select

from app.extensions import db
from app.models import (
    ApiToken,
    AuditEvent,
    Instance,
    Invoice,
    Job,
    Login,
    Plan,
    ReconcileFinding,
    Subscription,
    User,
)
from app.services import audit
from app.services.pagination import Page, paginate

CSV_COLUMNS = (
    "id",
    "created_at",
    "action",
    "actor_id",
    "target_type",
    "target_id",
    "customer_id",
    "reason",
    "before",
    "after",
    "ip_address",
    "request_id",
)
EXPORT_BATCH = 500


# How the trail names what an action was on; a row's customer is its owner (`user_id`), an
# account's is itself, and plans and reconciliation findings have none.
TARGET_TYPES: dict[type[Any], str] = {
    User: "user",
    Instance: "instance",
    Job: "job",
    Invoice: "invoice",
    Subscription: "subscription",
    Login: "login",
    ApiToken: "api_token",
    Plan: "plan",
    ReconcileFinding: "reconcile_finding",
}


def record(
    actor: User | None,
    action: str,
    target: Any,
    *,
    reason: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add an operator's action on `target` (a row of `TARGET_TYPES`) to the current
    transaction (the caller commits)."""
    customer_id = target.id if isinstance(target, User) else getattr(target, "user_id", None)
    return audit.record(
        f"admin.{action}",
        actor.id if actor is not None else None,
        target_type=TARGET_TYPES[type(target)],
        target_id=target.id,
        customer_id=customer_id,
        reason=reason,
        before=before or {},
        after=after or {},
        via="api" if actor is not None else "cli",
    )


def commit(actor: User | None, action: str, target: Any, **details: Any) -> AuditEvent:
    """Record the action as `record` does (`details`: its reason, before and after) and
    commit the unit of work that made it."""
    event = record(actor, action, target, **details)
    db.session.commit()
    return event


@dataclass(frozen=True)
class AuditFilter:
    actor: int | None = None
    action: str | None = None  # exact, or a prefix ending in "*"
    target_type: str | None = None
    target_id: str | None = None
    customer: int | None = None  # the customer's own events and operators' on their things
    since: datetime | None = None
    until: datetime | None = None


def _query(where: AuditFilter) -> Select[Any]:
    query = select(AuditEvent)
    if where.actor is not None:
        query = query.where(AuditEvent.user_id == where.actor)
    if where.action:
        if where.action.endswith("*"):
            prefix = where.action[:-1].replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_")
            query = query.where(AuditEvent.action.like(f"{prefix}%", escape="\\"))
        else:
            query = query.where(AuditEvent.action == where.action)
    if where.target_type:
        query = query.where(AuditEvent.details["target_type"].as_string() == where.target_type)
    if where.target_id:
        query = query.where(AuditEvent.details["target_id"].as_string() == where.target_id)
    if where.customer is not None:
        query = query.where(
            or_(
                AuditEvent.user_id == where.customer,
                AuditEvent.details["customer_id"].as_integer() == where.customer,
            )
        )
    if where.since is not None:
        query = query.where(AuditEvent.created_at >= where.since)
    if where.until is not None:
        query = query.where(AuditEvent.created_at < where.until)
    return query.order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())


def search(where: AuditFilter, page: int, per_page: int) -> Page[AuditEvent]:
    return paginate(_query(where), page, per_page)


def recent_for_customer(customer_id: int, limit: int = 100) -> list[AuditEvent]:
    return list(db.session.scalars(_query(AuditFilter(customer=customer_id)).limit(limit)))


def export_csv(where: AuditFilter) -> Iterator[str]:
    """The matching events as CSV lines, newest first, read a batch at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(CSV_COLUMNS)
    yield flush()
    rows = db.session.scalars(_query(where).execution_options(yield_per=EXPORT_BATCH))
    for event in rows:
        details = event.details or {}
        writer.writerow(
            [
                event.id,
                event.created_at.isoformat(),
                event.action,
                event.user_id if event.user_id is not None else "",
                details.get("target_type", ""),
                details.get("target_id", ""),
                details.get("customer_id") or "",
                _cell(details.get("reason", "")),
                json.dumps(details.get("before", {}), sort_keys=True),
                json.dumps(details.get("after", {}), sort_keys=True),
                event.ip_address or "",
                event.request_id or "",
            ]
        )
        yield flush()


def _cell(value: Any) -> str:
    """A text cell a spreadsheet will not run as a formula."""
    text = str(value)
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
