"""Ordering machines."""

from __future__ import annotations

from celery import Task, shared_task

from app.services import jobs
from tasks.support import open_job, out_of_retries, retry_later, schedule_check
from workers import machines
from workers.outside_errors import PermanentError, TransientError


@shared_task(name="provisioning.create_machine", bind=True, max_retries=None)
def create_machine(self: Task, job_id: int) -> None:
    """Create (or adopt) the machine for a provisioning job, then watch it boot."""
    job = open_job(job_id)
    if job is None or machines.superseded(job):
        return
    jobs.mark_running(job)
    try:
        machines.create(job)
    except TransientError as exc:
        # A provider that keeps failing is given up like one that refuses: the order moves
        # to another provider offering the plan there, if any.
        if out_of_retries(self) and machines.fail_over(job, exc):
            self.apply_async((job_id,))
        else:
            retry_later(self, job, exc)
        return
    except PermanentError as exc:
        if machines.fail_over(job, exc):
            self.apply_async((job_id,))
        else:
            machines.fail(job, exc.message)
        return
    if open_job(job_id) is not None:
        schedule_check(job, after_create=True)
