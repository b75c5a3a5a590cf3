"""The figures on the operator console's first page, from our own tables (money from the
billing mirror, never a Stripe call), the broker and the health checks."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any

from redis.exceptions import RedisError
from sqlalchemy import func, or_, select

from app.extensions import db
from app.models import (
    Instance,
    InstanceStatus,
    Invoice,
    Job,
    JobState,
    Plan,
    Role,
    Subscription,
    SupportTicket,
    TicketStatus,
    User,
)
from app.models.base import utcnow
from app.services import health, queues
from app.services.lifecycle import JobKind

S = InstanceStatus
SERIES_DAYS = 90
# Subscriptions that bring money in every month.
PAYING = ("active", "past_due", "trialing")
# Statuses of machines that exist (or are being made) at a provider.
LIVE = tuple(s for s in S if s not in (S.PENDING_PAYMENT, S.TERMINATED, S.FAILED))


def report() -> dict[str, Any]:
    now = utcnow()
    return {
        "generated_at": now,
        "customers": _customers(now),
        "machines": _machines(),
        "mrr": _mrr(),
        "last_24h": _last_day(now),
        "queues": _queues(),
        "health": health.report(),
        "open_tickets": _open_tickets(),
        "series": _series(now),
    }


def _customers(now: datetime) -> dict[str, int]:
    def count(*where: Any) -> int:
        query = select(func.count()).select_from(User).where(User.role == Role.CUSTOMER, *where)
        return int(db.session.scalar(query) or 0)

    return {
        "total": count(User.erased_at.is_(None)),
        "suspended": count(User.suspended_at.is_not(None)),
        "new_last_24h": count(User.created_at > now - timedelta(days=1)),
    }


def _grouped(column: Any, *where: Any) -> dict[str, int]:
    rows = db.session.execute(
        select(column, func.count()).select_from(Instance).where(*where).group_by(column)
    )
    return {str(key): int(n) for key, n in rows if key is not None}


def _machines() -> dict[str, dict[str, int]]:
    live = Instance.status.in_(LIVE)
    return {
        "by_status": _grouped(Instance.status, Instance.status != S.TERMINATED),
        "by_provider": _grouped(Instance.provider, live),
        "by_region": _grouped(Instance.region, live),
        "by_plan": dict(
            (code, int(n))
            for code, n in db.session.execute(
                select(Plan.code, func.count())
                .select_from(Instance)
                .join(Plan, Plan.id == Instance.plan_id)
                .where(live)
                .group_by(Plan.code)
            )
        ),
    }


def _mrr() -> list[dict[str, Any]]:
    """Monthly recurring revenue per currency: what paying subscriptions cost a month."""
    rows = db.session.execute(
        select(Subscription.currency, func.sum(Subscription.amount_cents), func.count())
        .where(Subscription.status.in_(PAYING))
        .group_by(Subscription.currency)
        .order_by(Subscription.currency)
    )
    return [
        {"currency": currency, "amount_cents": int(total or 0), "subscriptions": int(n)}
        for currency, total, n in rows
    ]


def _last_day(now: datetime) -> dict[str, Any]:
    since = now - timedelta(days=1)
    orders = db.session.scalar(
        select(func.count()).select_from(Instance).where(Instance.created_at > since)
    )
    failures = db.session.execute(
        select(Job.kind, func.count())
        .where(Job.state == JobState.FAILED, Job.finished_at > since)
        .group_by(Job.kind)
    )
    by_kind = {kind: int(n) for kind, n in failures}
    return {
        "orders": int(orders or 0),
        "failed_orders": by_kind.get(JobKind.PROVISION, 0),
        "failed_jobs": by_kind,
    }


def _queues() -> dict[str, int] | None:
    """Tasks waiting per queue; None when the broker cannot be reached."""
    try:
        return queues.depths()
    except RedisError:
        return None


def _open_tickets() -> dict[str, int]:
    rows = db.session.execute(
        select(SupportTicket.priority, func.count())
        .where(SupportTicket.status != TicketStatus.CLOSED)
        .group_by(SupportTicket.priority)
    )
    return {priority: int(n) for priority, n in rows}


def _series(now: datetime) -> list[dict[str, Any]]:
    """For each of the last `SERIES_DAYS` days (UTC): revenue (paid less refunded, by
    invoice date, all currencies as cents) and the machines that existed at its end."""
    first = now.date() - timedelta(days=SERIES_DAYS - 1)
    start = datetime.combine(first, datetime.min.time(), tzinfo=now.tzinfo)
    revenue: Counter[date] = Counter()
    for created, paid, refunded in db.session.execute(
        select(Invoice.created, Invoice.amount_paid, Invoice.amount_refunded).where(
            Invoice.created >= start, Invoice.amount_paid > 0
        )
    ):
        revenue[created.date()] += paid - refunded
    # Each machine counts from the day it was delivered until the day before it ended.
    change: Counter[date] = Counter()
    for delivered_at, ended in db.session.execute(
        select(Instance.delivered_at, Instance.terminated_at).where(
            Instance.delivered_at.is_not(None),
            or_(Instance.terminated_at.is_(None), Instance.terminated_at >= start),
        )
    ):
        assert delivered_at is not None
        change[max(delivered_at.date(), first)] += 1
        if ended is not None:
            change[ended.date()] -= 1
    series, active = [], 0
    for offset in range(SERIES_DAYS):
        day = first + timedelta(days=offset)
        active += change[day]
        series.append(
            {"day": day, "revenue_cents": revenue[day], "active_machines": max(active, 0)}
        )
    return series
