"""Machines reconciliation would have destroyed but kept, for an operator to decide on."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import UTCDateTime, utcnow


class FindingGuard(StrEnum):
    """Why an orphan was kept rather than destroyed."""

    # Its label names an instance id above the database's highest: the machine is newer
    # than the database, as after a restore from a backup. Stays until an operator decides.
    BEYOND_HIGHEST_ID = "beyond_highest_id"
    DESTROY_OFF = "destroy_off"  # RECONCILE_DESTROY is off (staging)
    DESTROY_CAP = "destroy_cap"  # the pass had destroyed as many machines as it may


class FindingDecision(StrEnum):
    KEEP = "keep"  # never destroyed nor reported again
    DESTROY = "destroy"  # destroyed at the next pass, whatever the guards


class ReconcileFinding(db.Model):  # type: ignore[name-defined]
    """One machine at a provider, kept by a guard; open until an operator decides, or the
    machine is claimed, gone or destroyed."""

    __tablename__ = "reconcile_findings"
    __table_args__ = (
        UniqueConstraint("provider", "provider_id"),
        Index("ix_reconcile_findings_open", "resolved_at", "first_seen_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(16), nullable=False)
    provider_id: Mapped[str] = mapped_column(String(64), nullable=False)
    label: Mapped[str] = mapped_column(String(255), nullable=False)
    # The instance id the label names (no such instance may exist).
    instance_id: Mapped[int] = mapped_column(nullable=False)
    reason: Mapped[str] = mapped_column(String(200), nullable=False)  # why it is an orphan
    guard: Mapped[str] = mapped_column(String(32), nullable=False)
    detail: Mapped[str] = mapped_column(String(300), nullable=False)  # the guard, in words
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    decision: Mapped[str | None] = mapped_column(String(16))
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution: Mapped[str | None] = mapped_column(String(200))
