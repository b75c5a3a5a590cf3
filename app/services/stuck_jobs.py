"""Stuck jobs: work whose task was lost (broker down when it was sent, a worker killed,
a check chain broken) and that nobody will finish.

A job still queued, running or retrying well past its deadline, or queued but never
handed to the broker, is sent again with a fresh deadline, up to ``STUCK_JOB_MAX_RESENDS``
times; after that the caller fails it (which alerts ops). Tasks are idempotent, so a
resend of a job whose task was merely slow does no harm.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import ColumnElement, and_, or_, select

from app.extensions import db
from app.models import ACTIVE_JOB_STATES, Job, JobState
from app.models.base import utcnow
from app.services import lifecycle

logger = logging.getLogger(__name__)


def _stuck(now: datetime) -> ColumnElement[bool]:
    grace = timedelta(seconds=current_app.config["STUCK_JOB_GRACE_SECONDS"])
    unsent_grace = timedelta(seconds=current_app.config["STUCK_JOB_UNSENT_GRACE_SECONDS"])
    return and_(
        Job.state.in_(ACTIVE_JOB_STATES),
        or_(
            Job.deadline_at < now - grace,
            and_(
                Job.state == JobState.QUEUED,
                Job.celery_task_id.is_(None),
                Job.created_at < now - unsent_grace,
            ),
        ),
    )


def stuck_job_ids(now: datetime | None = None) -> list[int]:
    return list(db.session.scalars(select(Job.id).where(_stuck(now or utcnow())).order_by(Job.id)))


def resend_or_give_up(job_id: int, now: datetime | None = None) -> Job | None:
    """Send a stuck job again (None), or return it when it is out of resends and must be
    failed. A job no longer stuck (finished, or resent by a concurrent sweep) is left."""
    now = now or utcnow()
    job = db.session.scalar(
        select(Job).where(Job.id == job_id, _stuck(now)).with_for_update(of=Job)
    )
    if job is None:
        db.session.rollback()
        return None
    resends = int(job.context.get("resends", 0))
    if resends >= current_app.config["STUCK_JOB_MAX_RESENDS"] or job.kind not in lifecycle.KINDS:
        return job
    job.deadline_at = now + lifecycle.deadline_for(job.kind)
    job.context = {**job.context, "resends": resends + 1}
    lifecycle.send_after_commit(job)
    db.session.commit()
    logger.warning("stuck job sent again", extra={"job_id": job.id, "resends": resends + 1})
    return None
