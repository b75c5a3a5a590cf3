"""Alerts to operators, by e-mail to ``ALERT_EMAIL``.

An alert names its incident with a key (``queue_backlog:provisioning``); the first alert of
a key claims it in Redis for ``ALERT_WINDOW_SECONDS`` and is mailed, later ones within the
window are suppressed. A mail that cannot be delivered releases its key, so the next
occurrence tries again, and is logged and counted in ``nemordp_alerts_total``; nothing is
dropped silently. If Redis cannot be reached the alert is sent anyway: a repeated mail is
better than a missed incident.

Callers on the web side use `raise_alert` (the ``email.send_alert`` task delivers it). The
periodic check delivers its own alerts directly from its worker (`tasks.monitoring`), as
the e-mail queue may be the one whose workers are down.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage

import redis
from flask import current_app

from app import metrics, task_names
from app.models import Job
from app.models.base import utcnow
from app.redis_client import failing_fast
from app.services.tasks import enqueue

logger = logging.getLogger(__name__)

KEY_PREFIX = "nemordp:alert:"
SUBJECT_PREFIX = "[NemoRDP alert]"


@dataclass(frozen=True)
class Alert:
    key: str  # the incident: "<kind>" or "<kind>:<what>", e.g. "workers_down:email"
    subject: str
    body: str

    @property
    def kind(self) -> str:
        return self.key.split(":", 1)[0]


def _redis() -> redis.Redis:
    return failing_fast(current_app.config["REDIS_URL"], current_app.config["HEALTH_CHECK_TIMEOUT"])


def claim(alert: Alert) -> bool:
    """True if this alert should be mailed: its incident was not mailed in the window."""
    window = current_app.config["ALERT_WINDOW_SECONDS"]
    client = _redis()
    try:
        claimed = bool(client.set(KEY_PREFIX + alert.key, utcnow().isoformat(), nx=True, ex=window))
    except redis.RedisError:
        logger.warning("alert %s not deduplicated: Redis unreachable", alert.key, exc_info=True)
        return True
    finally:
        client.close()
    if not claimed:
        metrics.alerts.labels(alert.kind, "suppressed").inc()
        logger.info("alert %s already mailed in this window", alert.key)
    return claimed


def _release(alert: Alert) -> None:
    client = _redis()
    try:
        client.delete(KEY_PREFIX + alert.key)
    except redis.RedisError:
        logger.warning("alert %s stays claimed: Redis unreachable", alert.key, exc_info=True)
    finally:
        client.close()


def message(alert: Alert) -> EmailMessage:
    window_minutes = current_app.config["ALERT_WINDOW_SECONDS"] // 60
    mail = EmailMessage()
    mail["To"] = current_app.config["ALERT_EMAIL"]
    mail["Subject"] = f"{SUBJECT_PREFIX} {alert.subject}"
    mail.set_content(
        f"{alert.body}\n\nIncident: {alert.key}, at {utcnow():%Y-%m-%d %H:%M:%S} UTC.\n"
        f"Further alerts of this incident within {window_minutes} minutes are not mailed.\n"
    )
    return mail


def delivered(alert: Alert) -> None:
    metrics.alerts.labels(alert.kind, "delivered").inc()
    logger.info("alert %s mailed", alert.key)


def delivery_failed(alert: Alert, reason: str) -> None:
    """Record an alert that could not be mailed; its incident may alert again at once."""
    _release(alert)
    metrics.alerts.labels(alert.kind, "failed").inc()
    logger.error("alert %s could not be mailed: %s", alert.key, reason)


def raise_alert(alert: Alert) -> bool:
    """Mail the alert (by the ``email.send_alert`` task) unless its incident was mailed in
    the window. True when it was handed over for delivery."""
    logger.warning("alert %s: %s", alert.key, alert.subject)
    if not claim(alert):
        return False
    if enqueue(task_names.SEND_ALERT, alert.key, alert.subject, alert.body) is None:
        delivery_failed(alert, "the broker is unreachable")
        return False
    return True


# -- the alerts other parts of the platform raise -----------------------------------------
def job_failed(job: Job) -> None:
    """Tell ops a job failed (after the caller's commit)."""
    logger.error("job %s (%s) failed: %s", job.id, job.kind, job.error, extra={"job_id": job.id})
    enqueue(task_names.SEND_JOB_ALERT, job.id)


def jobs_stuck(jobs: Sequence[Job]) -> bool:
    """Jobs found past their deadline with nobody working on them."""
    lines = [
        f"- job {job.id} ({job.kind}), {job.state}, deadline {job.deadline_at}" for job in jobs
    ]
    return raise_alert(
        Alert(
            "jobs_stuck",
            f"{len(jobs)} stuck job(s)",
            "These jobs are past their deadline and no worker is finishing them:\n"
            + "\n".join(lines),
        )
    )


def webhook_signature_failed(remote_addr: str | None) -> bool:
    """A Stripe webhook arrived with a signature that does not verify: a forged request, or
    a ``STRIPE_WEBHOOK_SECRET`` that no longer matches Stripe's (then billing is blind)."""
    return raise_alert(
        Alert(
            "webhook_signature",
            "Stripe webhook signature check failed",
            f"A webhook from {remote_addr or 'an unknown address'} did not verify. If this "
            "repeats, check that STRIPE_WEBHOOK_SECRET matches the endpoint's signing secret "
            "in Stripe; until then payments and cancellations are not seen.",
        )
    )
