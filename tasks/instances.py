"""Actions on existing machines, and the status check that finishes every machine job."""

from __future__ import annotations

from celery import Task, shared_task

from app import task_names
from tasks.support import run_check, run_step, schedule_check
from workers import machines


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


@shared_task(name=task_names.CHECK_MACHINE)
def check(job_id: int) -> None:
    """One look at the machine; re-scheduled until it reaches its target or the deadline."""
    run_check(job_id, machines.advance)
