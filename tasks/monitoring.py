"""Monitoring tasks: the periodic alert check, and the delivery of alert e-mails."""

from __future__ import annotations

from celery import Task, shared_task
from celery.utils.time import get_exponential_backoff_interval

from app import task_names
from app.services import alert_checks, alerts
from workers import mailer

# An alert e-mail is retried 8 times, with backoff, over up to twenty minutes while the
# SMTP server is unavailable.
DELIVERY_RETRIES = 8
RETRY_FACTOR, RETRY_CAP = 5, 600


def _deliver(alert: alerts.Alert) -> bool:
    try:
        mailer.send(alerts.message(alert))
    except (mailer.MailTransientError, mailer.MailPermanentError) as exc:
        alerts.delivery_failed(alert, str(exc))
        return False
    alerts.delivered(alert)
    return True


@shared_task(name=task_names.CHECK_ALERTS)
def check_alerts() -> list[str]:
    """Mail ops about queues without workers, queue backlogs and failing orders."""
    return [alert.key for alert in alert_checks.due() if alerts.claim(alert) and _deliver(alert)]


@shared_task(name=task_names.SEND_ALERT, bind=True, max_retries=DELIVERY_RETRIES)
def send_alert(self: Task, key: str, subject: str, body: str) -> None:
    """Mail one alert to ops, retrying while the SMTP server cannot take it."""
    alert = alerts.Alert(key, subject, body)
    try:
        mailer.send(alerts.message(alert))
    except mailer.MailTransientError as exc:
        if self.request.retries < DELIVERY_RETRIES:
            countdown = get_exponential_backoff_interval(
                RETRY_FACTOR, self.request.retries, RETRY_CAP, full_jitter=True
            )
            raise self.retry(countdown=countdown, exc=exc) from None
        alerts.delivery_failed(alert, str(exc))
        raise
    except mailer.MailPermanentError as exc:
        alerts.delivery_failed(alert, str(exc))
        raise
    alerts.delivered(alert)
