"""Snapshots of a machine's disk, kept at its provider; a customer reaches them through the
machine (its owner is the machine's)."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import Timestamped
from app.models.instance import Instance


class SnapshotStatus(StrEnum):
    CREATING = "creating"  # asked for, or being taken at the provider
    AVAILABLE = "available"
    RESTORING = "restoring"  # a restore from it was asked for
    DELETING = "deleting"
    FAILED = "failed"  # never taken; the row stays until deleted, outside the quota


class Snapshot(Timestamped, db.Model):  # type: ignore[name-defined]
    __tablename__ = "snapshots"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(
        ForeignKey("instances.id", ondelete="CASCADE"), index=True, nullable=False
    )
    name: Mapped[str] = mapped_column(String(64), nullable=False)
    # The provider's id, once it took the snapshot.
    provider_snapshot_id: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default=SnapshotStatus.CREATING, nullable=False)
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    # Why it failed, when it did.
    error: Mapped[str | None] = mapped_column(String(500))

    instance: Mapped[Instance] = relationship()
