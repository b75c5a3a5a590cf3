"""The one way a task carries out a step of a job: load the job, give way if its machine
moved on, run the step, and sort what went wrong with one retry policy.

- a `TransientError` (or a database conflict: a deadlock, a lost connection) is retried
  with exponential backoff and jitter, never sooner than the service asked, up to
  ``PROVIDER_RETRY_MAX`` times; then it counts as permanent;
- a `PermanentError` fails the job (`workers.machines.fail`), unless the task's ``recover``
  finds another way (another provider) and the job starts over.

A step that leaves the job open is watched by the status rounds (`schedule_check`,
`workers.machine_checks`) until its machine gets where the job takes it.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from typing import NoReturn

from celery import Task
from flask import current_app
from sqlalchemy.exc import IntegrityError, OperationalError

from app.extensions import db
from app.models import ACTIVE_JOB_STATES, Job, JobState
from app.services import jobs, lifecycle
from workers import machine_checks, machines
from workers.outside_errors import OutsideError, PermanentError, TransientError

logger = logging.getLogger(__name__)

# A deadlock, a lost connection, or a row another task inserted first: try again.
DATABASE_CONFLICTS = (OperationalError, IntegrityError)

Step = Callable[[Job], object]
# Called when a step failed for good: True when it found another way and the job starts over.
Recover = Callable[[Job, OutsideError], bool]


def open_job(job_id: int) -> Job | None:
    """The job if there is still work to do; a finished job is never worked twice."""
    job = db.session.get(Job, job_id)
    if job is None or job.state in (JobState.SUCCEEDED, JobState.FAILED):
        return None
    return job


def backoff(retries: int, retry_after: float | None = None) -> float:
    """Exponential backoff with full jitter, never sooner than the service asked."""
    config = current_app.config
    ceiling = min(config["PROVIDER_RETRY_CAP"], config["PROVIDER_RETRY_BASE"] * 2**retries)
    delay = random.uniform(ceiling / 2, ceiling)
    return max(delay, retry_after or 0.0)


def retry(task: Task, exc: Exception, retry_after: float | None = None) -> NoReturn:
    """Run the task again later on a fresh transaction (its steps are idempotent)."""
    db.session.rollback()
    raise task.retry(countdown=backoff(task.request.retries, retry_after), exc=exc) from None


def run_step(task: Task, job_id: int, step: Step, *, recover: Recover | None = None) -> Job | None:
    """Run one step of a job. The job when it is still open afterwards (the caller schedules
    what follows); None when there is nothing more to do now."""
    job = open_job(job_id)
    if job is None or lifecycle.superseded(job):
        return None
    jobs.mark_running(job)
    try:
        step(job)
    except DATABASE_CONFLICTS as exc:
        retry(task, exc)
    except TransientError as exc:
        if task.request.retries < current_app.config["PROVIDER_RETRY_MAX"]:
            jobs.mark_retrying(job, exc.message)
            raise task.retry(
                countdown=backoff(task.request.retries, exc.retry_after), exc=exc
            ) from None
        attempts = task.request.retries + 1
        _give_up(task, job, exc, f"gave up after {attempts} attempts: {exc.message}", recover)
        return None
    except PermanentError as exc:
        _give_up(task, job, exc, exc.message, recover)
        return None
    return job if job.state in ACTIVE_JOB_STATES else None


def _give_up(
    task: Task, job: Job, error: OutsideError, reason: str, recover: Recover | None
) -> None:
    if recover is not None and recover(job, error):
        task.apply_async((job.id,))  # a fresh start, with a fresh count of retries
    else:
        machines.fail(job, reason)


def schedule_check(job: Job) -> None:
    """Watch the job's machine until it gets where the job takes it: never wait inside a
    worker for a machine. The status rounds (`workers.machine_checks`) look at every job
    in flight, this one included from now on."""
    machine_checks.schedule_round()
