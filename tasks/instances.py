"""Actions on existing machines, and the status check that finishes every machine job."""

from __future__ import annotations

from celery import Task, shared_task

from app.services import jobs
from app.services.tasks import enqueue
from tasks.support import open_job, past_deadline, retry_later, schedule_check
from workers import machines
from workers.outside_errors import PermanentError, TransientError


def _act(task: Task, job_id: int) -> None:
    job = open_job(job_id)
    if job is None or machines.superseded(job):
        return
    jobs.mark_running(job)
    try:
        machines.perform(job)
    except TransientError as exc:
        retry_later(task, job, exc)
        return
    except PermanentError as exc:
        machines.fail(job, exc.message)
        return
    schedule_check(job)


@shared_task(name="instances.restart", bind=True, max_retries=None)
def restart(self: Task, job_id: int) -> None:
    """Reboot a machine and wait for Remote Desktop to answer again."""
    _act(self, job_id)


@shared_task(name="instances.stop", bind=True, max_retries=None)
def stop(self: Task, job_id: int) -> None:
    """Shut a machine down and wait until it is off."""
    _act(self, job_id)


@shared_task(name="instances.start", bind=True, max_retries=None)
def start(self: Task, job_id: int) -> None:
    """Power a machine on and wait for Remote Desktop to answer."""
    _act(self, job_id)


@shared_task(name="instances.terminate", bind=True, max_retries=None)
def terminate(self: Task, job_id: int) -> None:
    """Destroy a machine at its provider, mark it terminated, and end its subscription."""
    job = open_job(job_id)
    if job is None:
        return
    jobs.mark_running(job)
    try:
        machines.terminate(job)
    except TransientError as exc:
        retry_later(self, job, exc)
        return
    except PermanentError as exc:
        machines.fail(job, exc.message)
        return
    # The machine is gone: stop billing it (the invoice sync catches a lost cancel); an
    # order that never had a machine is refunded in full, its payment page closed.
    instance = job.instance
    if instance is not None and instance.delivered_at is None:
        enqueue("billing.settle_undelivered", instance.id)
    elif instance is not None and instance.stripe_subscription_id is not None:
        enqueue("billing.end_subscription", instance.id)


@shared_task(name="instances.check", bind=True, max_retries=None)
def check(self: Task, job_id: int) -> None:
    """One look at the machine; re-scheduled until it reaches its target or the deadline."""
    job = open_job(job_id)
    if job is None or machines.superseded(job):
        return
    if past_deadline(job):
        machines.fail(job, "the machine did not get there before the deadline")
        return
    try:
        finished = machines.advance(job)
    except TransientError:
        finished = False  # look again at the next interval
    except PermanentError as exc:
        machines.fail(job, exc.message)
        return
    if not finished:
        schedule_check(job)
