"""Actions on existing machines, and the status rounds that finish every machine job."""

from __future__ import annotations

import logging

from celery import Task, shared_task

from app import task_names
from tasks.support import run_step, schedule_check
from workers import machine_checks, machines

logger = logging.getLogger(__name__)


@shared_task(name=task_names.RESTART, bind=True, max_retries=None)
def restart(self: Task, job_id: int) -> None:
    """Reboot a machine and wait for Remote Desktop to answer again."""
    if job := run_step(self, job_id, machines.perform):
        schedule_check(job)


@shared_task(name=task_names.STOP, bind=True, max_retries=None)
def stop(self: Task, job_id: int) -> None:
    """Shut a machine down (stopped or suspended) and wait until it is off."""
    if job := run_step(self, job_id, machines.perform):
        schedule_check(job)


@shared_task(name=task_names.START, bind=True, max_retries=None)
def start(self: Task, job_id: int) -> None:
    """Power a machine on and wait for Remote Desktop to answer."""
    if job := run_step(self, job_id, machines.perform):
        schedule_check(job)


@shared_task(name=task_names.TERMINATE, bind=True, max_retries=None)
def terminate(self: Task, job_id: int) -> None:
    """Destroy a machine at its provider, mark it terminated, and end its billing."""
    run_step(self, job_id, machines.terminate)


@shared_task(name=task_names.CHECK_MACHINES)
def check_machines() -> None:
    """One status round over every machine in flight; the next follows while any remain."""
    done = machine_checks.run_round()
    if done is None:
        return  # another round is running; it schedules the next
    if done.jobs:
        logger.info(
            "status round: %d jobs, list calls %s, GETs %s",
            done.jobs,
            dict(done.lists),
            dict(done.gets),
        )
    if machine_checks.still_in_flight():
        machine_checks.schedule_round()


@shared_task(name=task_names.REINSTALL, bind=True, max_retries=None)
def reinstall(self: Task, job_id: int) -> None:
    """Reinstall a machine's system (its disk erased, new credentials) and wait for it."""
    if job := run_step(self, job_id, machines.reinstall):
        schedule_check(job)
