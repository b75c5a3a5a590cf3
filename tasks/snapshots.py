"""Snapshot jobs: take one and watch it until complete, restore a machine from one, delete
one. Each runs its step through `tasks.support.run_step` (retries, faults). A terminated
machine's snapshots are all deleted at its provider."""

from __future__ import annotations

import logging

from celery import Task, shared_task
from flask import current_app

from app import task_names
from app.models import Job
from app.services.tasks import enqueue
from tasks.support import open_job, retry, run_step, schedule_check
from workers import snapshots
from workers.outside_errors import PermanentError, TransientError

logger = logging.getLogger(__name__)


def _look_again(job: Job) -> None:
    """Look at the snapshot again later: never wait inside a worker for a provider."""
    interval = current_app.config["STATUS_CHECK_INTERVAL"]
    enqueue(task_names.CHECK_SNAPSHOT, job.id, countdown=interval)


@shared_task(name=task_names.CREATE_SNAPSHOT, bind=True, max_retries=None)
def create_snapshot(self: Task, job_id: int) -> None:
    """Ask the provider for a snapshot of the machine, then watch it until complete."""
    if job := run_step(self, job_id, snapshots.take):
        _look_again(job)


@shared_task(name=task_names.CHECK_SNAPSHOT)
def check_snapshot(job_id: int) -> None:
    """One look at a snapshot being taken; again later until it is complete or the job's
    deadline passed."""
    job = open_job(job_id)
    if job is not None and snapshots.watch(job):
        _look_again(job)


@shared_task(name=task_names.RESTORE_SNAPSHOT, bind=True, max_retries=None)
def restore_snapshot(self: Task, job_id: int) -> None:
    """Overwrite the machine's disk with a snapshot and wait for it to answer again."""
    if job := run_step(self, job_id, snapshots.restore):
        schedule_check(job)


@shared_task(name=task_names.DELETE_SNAPSHOT, bind=True, max_retries=None)
def delete_snapshot(self: Task, job_id: int) -> None:
    """Delete a snapshot at the provider, then its row."""
    run_step(self, job_id, snapshots.delete)


@shared_task(name=task_names.DROP_SNAPSHOTS, bind=True, max_retries=8)
def drop_snapshots(self: Task, instance_id: int) -> None:
    """Delete every snapshot of a terminated machine at its provider, and their rows."""
    try:
        snapshots.drop_all(instance_id)
    except TransientError as exc:
        retry(self, exc, exc.retry_after)
    except PermanentError as exc:
        logger.error(
            "snapshots of a terminated machine left at its provider: %s",
            exc.message,
            extra={"instance_id": instance_id},
        )
