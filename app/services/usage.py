"""Machines' traffic as a daily series: recorded by usage polling, read by the usage API.

Providers report recent days (some only the last month); each poll upserts the days whose
counts changed, so older days stay once the provider forgets them. Traffic growth
between two polls is also idle evidence for machines whose agent never reports.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from app.extensions import db
from app.models import Instance, InstanceStatus, InstanceUsage
from app.models.base import utcnow
from workers.providers import registry
from workers.providers.base import Capability

S = InstanceStatus
BYTES_PER_GB = 1_000_000_000  # decimal gigabytes, as providers bill traffic
# Statuses in which a machine exists at its provider and may have traffic to count.
POLLED_STATUSES = (
    S.ACTIVE,
    S.RESTARTING,
    S.STOPPING,
    S.STOPPED,
    S.STARTING,
    S.RESIZING,
    S.REINSTALLING,
    S.RESTORING,
    S.SUSPENDED,
)


def traffic_reported(provider: str | None) -> bool:
    """Whether daily traffic can be recorded for a machine at this provider: machines at
    a provider without traffic reporting never get a daily series, and the usage API says
    so."""
    return provider is None or registry.supports(provider, Capability.TRAFFIC_REPORTING)


class DayTraffic(Protocol):
    """One day's counts as a provider client reports them."""

    @property
    def day(self) -> date: ...
    @property
    def incoming_bytes(self) -> int: ...
    @property
    def outgoing_bytes(self) -> int: ...


def ids_to_poll() -> list[int]:
    """Every machine that exists at a provider, in id order (one indexed query)."""
    query = (
        select(Instance.id)
        .where(Instance.status.in_(POLLED_STATUSES), Instance.provider_id.is_not(None))
        .order_by(Instance.id)
    )
    return list(db.session.scalars(query))


def record(
    traffic_by_instance: Mapping[int, Sequence[DayTraffic]], now: datetime | None = None
) -> None:
    """Store what one poll learnt for a batch of machines, in one transaction.

    Only changed days are written; a machine whose traffic grew by more than
    ``USAGE_ACTIVITY_BYTES`` since the last poll counts as in use now. Running it twice
    with the same counts changes nothing the second time.
    """
    if not traffic_by_instance:
        return
    now = now or utcnow()
    known = _stored_days(traffic_by_instance)
    changed: list[dict[str, Any]] = []
    grown: list[int] = []
    threshold = current_app.config["USAGE_ACTIVITY_BYTES"]
    for instance_id, days in traffic_by_instance.items():
        growth = 0
        for traffic in days:
            before = known.get((instance_id, traffic.day))
            now_counts = (traffic.incoming_bytes, traffic.outgoing_bytes)
            if before == now_counts:
                continue
            growth += sum(now_counts) - sum(before or (0, 0))
            changed.append(
                {
                    "instance_id": instance_id,
                    "day": traffic.day,
                    "inbound_bytes": traffic.incoming_bytes,
                    "outbound_bytes": traffic.outgoing_bytes,
                    "updated_at": now,
                }
            )
        if growth > threshold:
            grown.append(instance_id)
    if changed:
        _upsert(changed)
    _refresh_totals(traffic_by_instance.keys())
    if grown:
        db.session.execute(
            update(Instance).where(Instance.id.in_(grown)).values(traffic_seen_at=now)
        )
    db.session.commit()


def _stored_days(traffic_by_instance: Mapping[int, Sequence[DayTraffic]]) -> dict[Any, Any]:
    days = [t.day for ts in traffic_by_instance.values() for t in ts]
    if not days:
        return {}
    rows = db.session.execute(
        select(
            InstanceUsage.instance_id,
            InstanceUsage.day,
            InstanceUsage.inbound_bytes,
            InstanceUsage.outbound_bytes,
        ).where(
            InstanceUsage.instance_id.in_(list(traffic_by_instance)),
            InstanceUsage.day >= min(days),
        )
    )
    return {(r.instance_id, r.day): (r.inbound_bytes, r.outbound_bytes) for r in rows}


def _upsert(rows: list[dict[str, Any]]) -> None:
    """INSERT … ON CONFLICT (instance_id, day) DO UPDATE, on PostgreSQL as on SQLite."""
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(InstanceUsage).values(rows)
    db.session.execute(
        statement.on_conflict_do_update(
            index_elements=["instance_id", "day"],
            set_={
                "inbound_bytes": statement.excluded.inbound_bytes,
                "outbound_bytes": statement.excluded.outbound_bytes,
                "updated_at": statement.excluded.updated_at,
            },
        )
    )


def _refresh_totals(instance_ids: Iterable[int]) -> None:
    """``data_transfer_gb`` = every stored day, in and out."""
    totals = db.session.execute(
        select(
            InstanceUsage.instance_id,
            func.sum(InstanceUsage.inbound_bytes + InstanceUsage.outbound_bytes).label("total"),
        )
        .where(InstanceUsage.instance_id.in_(list(instance_ids)))
        .group_by(InstanceUsage.instance_id)
    )
    values = [
        {"id": row.instance_id, "data_transfer_gb": row.total / BYTES_PER_GB} for row in totals
    ]
    if values:
        db.session.execute(update(Instance), values)


def series(instance_id: int, days: int, today: date | None = None) -> list[dict[str, Any]]:
    """The last ``days`` days of traffic (today included) that we have, oldest first."""
    today = today or utcnow().date()
    rows = db.session.scalars(
        select(InstanceUsage)
        .where(
            InstanceUsage.instance_id == instance_id,
            InstanceUsage.day > today - timedelta(days=days),
        )
        .order_by(InstanceUsage.day)
    )
    return [
        {
            "day": row.day,
            "inbound_gb": round(row.inbound_bytes / BYTES_PER_GB, 3),
            "outbound_gb": round(row.outbound_bytes / BYTES_PER_GB, 3),
        }
        for row in rows
    ]
