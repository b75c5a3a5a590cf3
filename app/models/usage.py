"""Traffic per machine per day, as the provider counts it, and machines found at a
provider that nothing in our database accounts for."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import UTCDateTime, utcnow


class InstanceUsage(db.Model):  # type: ignore[name-defined]
    """One machine's inbound and outbound bytes on one (UTC) day; polling upserts it."""

    __tablename__ = "instance_usage"
    __table_args__ = (UniqueConstraint("instance_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(
        ForeignKey("instances.id", ondelete="CASCADE"), nullable=False
    )
    day: Mapped[date] = mapped_column(Date, nullable=False)
    inbound_bytes: Mapped[int] = mapped_column(BigInteger, default=0, nullable=False)
    outbound_bytes: Mapped[int] = mapped_column(BigInteger, default=0, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False
    )


class OrphanMachine(db.Model):  # type: ignore[name-defined]
    """A machine carrying our label that no live instance owns; destroyed after a grace
    period unless it is claimed (or disappears) meanwhile."""

    __tablename__ = "orphan_machines"
    __table_args__ = (UniqueConstraint("provider", "provider_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(16), nullable=False)
    provider_id: Mapped[str] = mapped_column(String(64), nullable=False)
    label: Mapped[str] = mapped_column(String(255), nullable=False)
    reason: Mapped[str] = mapped_column(String(200), nullable=False)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    destroyed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
