"""Jobs: the record of every requested piece of background work on a machine, and where
each stands. Jobs are started by `app.services.lifecycle.start_job`."""

from __future__ import annotations

import logging

from sqlalchemy import select

from app import metrics
from app.errors import NotFound
from app.extensions import db
from app.models import ACTIVE_JOB_STATES, Job, JobState, User
from app.models.base import utcnow

logger = logging.getLogger(__name__)


def active_job(instance_id: int) -> Job | None:
    return db.session.scalar(
        select(Job)
        .where(Job.instance_id == instance_id, Job.state.in_(ACTIVE_JOB_STATES))
        .order_by(Job.id.desc())
        .limit(1)
    )


def get_for(user: User, job_id: int) -> Job:
    job = db.session.scalar(select(Job).where(Job.id == job_id, Job.user_id == user.id))
    if job is None:
        raise NotFound("Job not found.")
    return job


# -- where a job stands, moved by the tasks and the lifecycle ---------------------------
def mark_running(job: Job) -> None:
    job.state = JobState.RUNNING
    job.attempts += 1
    job.started_at = job.started_at or utcnow()
    db.session.commit()


def mark_retrying(job: Job, error: str) -> None:
    job.state = JobState.RETRYING
    job.error = error[:1000]
    db.session.commit()


def mark_succeeded(job: Job) -> None:
    job.state = JobState.SUCCEEDED
    job.error = None
    job.finished_at = utcnow()
    _count_end(job)


def mark_failed(job: Job, error: str) -> None:
    job.state = JobState.FAILED
    job.error = error[:1000]
    job.finished_at = utcnow()
    _count_end(job)
    logger.warning("job failed", extra={"job_id": job.id, "kind": job.kind})


def _count_end(job: Job) -> None:
    assert job.finished_at is not None
    seconds = (job.finished_at - (job.created_at or job.finished_at)).total_seconds()
    metrics.record_job_end(job.kind, job.state, seconds)
