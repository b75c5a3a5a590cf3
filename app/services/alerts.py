"""Alerts to operators, delivered by e-mail tasks."""

from __future__ import annotations

import logging

from app.models import Job
from app.services.tasks import enqueue

logger = logging.getLogger(__name__)


def job_failed(job: Job) -> None:
    """Tell ops a job failed (after the caller's commit)."""
    logger.error("job %s (%s) failed: %s", job.id, job.kind, job.error, extra={"job_id": job.id})
    enqueue("email.send_job_alert", job.id)
