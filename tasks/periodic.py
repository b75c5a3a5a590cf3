"""Scheduled work, fired by beat (see celery_app.py): each beat task only finds what is
due and fans out one small task per batch, provider or machine, carrying ids only."""

from __future__ import annotations

import logging

from celery import shared_task
from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app import task_names
from app.extensions import db
from app.models import Job, User
from app.services import alerts, idle, reconcile, stuck_jobs, usage
from app.services.tasks import enqueue
from tasks.email import never_lost
from workers import machine_checks, machines, mailer
from workers import usage as usage_poll
from workers.outside_errors import TransientError
from workers.providers.registry import PROVIDERS
from workers.reconcile import reconcile_provider

logger = logging.getLogger(__name__)


# -- usage polling -------------------------------------------------------------------------
@shared_task(name=task_names.POLL_USAGE)
def poll_usage() -> None:
    """Fan the machines out in batches for their traffic; a batch not started before the
    next round expires, so rounds never pile up."""
    config = current_app.config
    ids = usage.ids_to_poll()
    size = config["USAGE_POLL_BATCH"]
    for start in range(0, len(ids), size):
        poll_usage_batch.apply_async(
            (ids[start : start + size],), expires=config["USAGE_POLL_INTERVAL"]
        )


@shared_task(name=task_names.POLL_USAGE_BATCH)
def poll_usage_batch(instance_ids: list[int]) -> None:
    """Fetch and store the daily traffic of a batch of machines."""
    budget = current_app.config["CELERY_TASK_TIME_LIMIT"] / 2
    result = usage_poll.poll(instance_ids, budget)
    if result.skipped:
        logger.warning("%d machines left for the next usage round", len(result.skipped))


# -- idle auto-shutdown --------------------------------------------------------------------
@shared_task(name=task_names.STOP_IDLE)
def stop_idle() -> None:
    """Stop the machines idle for their owner's idle_minutes, and tell the owners."""
    for instance_id in idle.idle_instance_ids():
        job = idle.stop_if_idle(instance_id)
        if job is not None:
            enqueue(task_names.SEND_IDLE_STOP_NOTICE, job.id)


@shared_task(name=task_names.SEND_IDLE_STOP_NOTICE, max_retries=None)
@never_lost
def send_idle_stop_notice(job_id: int) -> None:
    """Tell an owner that their idle machine was stopped, if they want e-mail."""
    job = db.session.get(Job, job_id, options=[joinedload(Job.instance)])
    user = db.session.get(User, job.user_id) if job is not None and job.user_id else None
    if job is None or user is None or not (user.is_active and user.email_notifications):
        return
    message = idle.stopped_notice(job, user)
    db.session.close()
    mailer.send(message)


# -- reconciliation ------------------------------------------------------------------------
@shared_task(name=task_names.RECONCILE)
def reconcile_all() -> None:
    """Reconcile each provider in its own task."""
    for provider in PROVIDERS:
        reconcile_one.delay(provider)


@shared_task(name=task_names.RECONCILE_PROVIDER)
def reconcile_one(provider: str) -> None:
    """Compare one provider's machines with our instances; report and clean up."""
    try:
        findings = reconcile_provider(provider)
    except TransientError as exc:
        logger.warning("reconciliation of %s skipped: %s", provider, exc.message)
        return
    if findings.reportable:
        reconcile.report(provider, findings)


# -- stuck jobs ----------------------------------------------------------------------------
@shared_task(name=task_names.SWEEP_STUCK_JOBS)
def sweep_stuck_jobs() -> None:
    """Send stuck jobs again, or fail them once out of resends; alert ops either way. A
    chain of status rounds an outage broke starts again."""
    machine_checks.keep_watching()
    found = stuck_jobs.stuck_job_ids()
    for job_id in found:
        job = stuck_jobs.resend_or_give_up(job_id)
        if job is None:
            continue
        machines.fail(
            job, f"stuck past its deadline after {job.context.get('resends', 0)} resend(s)"
        )
    if found:
        alerts.jobs_stuck(db.session.scalars(select(Job).where(Job.id.in_(found))).all())
