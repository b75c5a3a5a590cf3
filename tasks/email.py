"""E-mail delivery tasks."""

from __future__ import annotations

from celery import shared_task

from app.extensions import db
from app.models import Job, User
from app.services import notifications
from workers import mailer

RETRY_POLICY = {
    "autoretry_for": (mailer.MailTransientError,),
    "retry_backoff": 5,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 8,
}


@shared_task(name="email.send_welcome", **RETRY_POLICY)
def send_welcome(user_id: int) -> None:
    """Send the welcome e-mail to a new account."""
    user = db.session.get(User, user_id)
    if user is None or not user.is_active:
        return
    mailer.send(notifications.welcome(user))


@shared_task(name="email.send_job_alert", **RETRY_POLICY)
def send_job_alert(job_id: int) -> None:
    """Tell operators that a job failed."""
    job = db.session.get(Job, job_id)
    if job is not None:
        mailer.send(notifications.job_failed_alert(job))
