"""Jobs: the record of every requested piece of background work on a machine."""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from app import metrics
from app.errors import NotFound
from app.extensions import db
from app.models import ACTIVE_JOB_STATES, Instance, Job, JobState, User
from app.models.base import utcnow

logger = logging.getLogger(__name__)

# The task that carries out each kind of job; it receives the job id.
TASK_FOR_KIND = {
    "provision": "provisioning.create_machine",
    "restart": "instances.restart",
    "stop": "instances.stop",
    "start": "instances.start",
    "terminate": "instances.terminate",
    "suspend": "instances.stop",
    "change_plan": "billing.change_plan",
    "cancel_subscription": "billing.cancel_subscription",
}


def new_job(kind: str, instance: Instance, *, user_id: int | None = None) -> Job:
    """Add a queued job for an instance to the session (the caller commits, then enqueues)."""
    seconds = current_app.config[
        "PROVISION_DEADLINE_SECONDS" if kind == "provision" else "ACTION_DEADLINE_SECONDS"
    ]
    job = Job(
        kind=kind,
        instance=instance,
        user_id=user_id if user_id is not None else instance.user_id,
        state=JobState.QUEUED,
        from_status=instance.status,
        deadline_at=utcnow() + timedelta(seconds=seconds),
        context={},
    )
    db.session.add(job)
    return job


def active_job(instance_id: int) -> Job | None:
    return db.session.scalar(
        select(Job)
        .where(Job.instance_id == instance_id, Job.state.in_(ACTIVE_JOB_STATES))
        .order_by(Job.id.desc())
        .limit(1)
    )


def enqueue(job: Job) -> None:
    """Send the job's task; only after the commit, so the worker finds the row."""
    from app.services.tasks import enqueue as send

    job.celery_task_id = send(TASK_FOR_KIND[job.kind], job.id, task_id=f"job-{job.id}")
    db.session.commit()


def get_for(user: User, job_id: int) -> Job:
    job = db.session.scalar(select(Job).where(Job.id == job_id, Job.user_id == user.id))
    if job is None:
        raise NotFound("Job not found.")
    return job


# -- transitions, used by the tasks ------------------------------------------------------
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
