"""Ordering machines."""

from __future__ import annotations

from celery import Task, shared_task

from app import task_names
from tasks.support import run_step, schedule_check
from workers import machines


@shared_task(name=task_names.CREATE_MACHINE, bind=True, max_retries=None)
def create_machine(self: Task, job_id: int) -> None:
    """Create (or adopt) the machine for a provisioning job, then watch it boot (its first
    look comes FIRST_CHECK_DELAY after the create). An order a provider refuses, or keeps
    failing, moves to another provider offering the plan there."""
    if job := run_step(self, job_id, machines.create, recover=machines.fail_over):
        schedule_check(job)
