"""What the machine tasks share: loading jobs, retry timing, and scheduling checks."""

from __future__ import annotations

import logging
import random

from celery import Task
from flask import current_app

from app.extensions import db
from app.models import Job, JobState
from app.models.base import utcnow
from app.services import jobs
from workers import machines
from workers.outside_errors import TransientError

logger = logging.getLogger(__name__)

CHECK_TASK = "instances.check"


def open_job(job_id: int) -> Job | None:
    """The job if there is still work to do; a finished job is never worked twice."""
    job = db.session.get(Job, job_id)
    if job is None or job.state in (JobState.SUCCEEDED, JobState.FAILED):
        return None
    return job


def backoff(retries: int, retry_after: float | None) -> float:
    """Exponential backoff with full jitter, never sooner than the provider asked."""
    config = current_app.config
    ceiling = min(config["PROVIDER_RETRY_CAP"], config["PROVIDER_RETRY_BASE"] * 2**retries)
    delay = random.uniform(ceiling / 2, ceiling)
    return max(delay, retry_after or 0.0)


def out_of_retries(task: Task) -> bool:
    """True when `retry_later` would give up rather than retry."""
    return bool(task.request.retries >= current_app.config["PROVIDER_RETRY_MAX"])


def retry_later(task: Task, job: Job, error: TransientError) -> None:
    """Retry the task after a transient failure, or fail the job once retries run out."""
    if out_of_retries(task):
        machines.fail(job, f"gave up after {task.request.retries + 1} attempts: {error.message}")
        return
    jobs.mark_retrying(job, error.message)
    raise task.retry(countdown=backoff(task.request.retries, error.retry_after), exc=error)


def past_deadline(job: Job) -> bool:
    return job.deadline_at is not None and utcnow() > job.deadline_at


def schedule_check(job: Job, *, after_create: bool = False) -> None:
    """Look at the machine again later: never wait inside a worker for a machine.

    A little jitter keeps thousands of checks from reaching the provider in step.
    """
    from tasks.instances import check

    config = current_app.config
    delay = config["FIRST_CHECK_DELAY" if after_create else "STATUS_CHECK_INTERVAL"]
    check.apply_async((job.id,), countdown=delay * random.uniform(0.9, 1.1))
