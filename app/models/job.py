from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import Timestamped, UTCDateTime, utcnow
from app.models.instance import Instance


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    RETRYING = "retrying"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


ACTIVE_JOB_STATES = (JobState.QUEUED, JobState.RUNNING, JobState.RETRYING)


class Job(Timestamped, db.Model):  # type: ignore[name-defined]
    """One requested piece of background work and where it stands."""

    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_instance_state", "instance_id", "state"),
        # A machine's latest jobs (newest first), without walking every job's id.
        Index("ix_jobs_instance_id", "instance_id", "id"),
        Index("ix_jobs_state_deadline", "state", "deadline_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("instances.id"))
    state: Mapped[str] = mapped_column(String(16), default=JobState.QUEUED, nullable=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    error: Mapped[str | None] = mapped_column(String(1000))
    celery_task_id: Mapped[str | None] = mapped_column(String(64))
    # The instance status before the action, restored if a non-destructive action fails.
    from_status: Mapped[str | None] = mapped_column(String(20))
    # How far the job got, so a redelivered task does not repeat a provider call.
    step: Mapped[str | None] = mapped_column(String(32))
    context: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False
    )

    instance: Mapped[Instance | None] = relationship()
