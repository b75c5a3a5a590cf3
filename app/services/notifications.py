"""The e-mails we send, composed from rows; tasks deliver them."""

from __future__ import annotations

from email.message import EmailMessage

from flask import current_app

from app.models import Job, User


def _message(to: str, subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    return message


def welcome(user: User) -> EmailMessage:
    base_url = current_app.config["PUBLIC_BASE_URL"]
    return _message(
        user.email,
        "Welcome to NemoRDP",
        f"Hello,\n\nyour NemoRDP account is ready. Order your first desktop at {base_url}/app .\n\n"
        "— The NemoRDP team\n",
    )


def job_failed_alert(job: Job) -> EmailMessage:
    instance = job.instance
    where = (
        f"instance {instance.id} ({instance.provider} {instance.provider_id})" if instance else "-"
    )
    return _message(
        current_app.config["ALERT_EMAIL"],
        f"[NemoRDP alert] {job.kind} job {job.id} failed",
        f"Job {job.id} ({job.kind}) for {where} failed after {job.attempts} attempt(s).\n\n"
        f"Reason: {job.error}\n",
    )
