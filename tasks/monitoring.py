"""Monitoring tasks: the periodic alert check, and the delivery of alert e-mails."""

from __future__ import annotations

from celery import Task, shared_task
from flask import current_app

from app import task_names
from app.services import alert_checks, alerts
from tasks import support
from workers import mailer


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


@shared_task(name=task_names.SEND_ALERT, bind=True, max_retries=None)
def send_alert(self: Task, key: str, subject: str, body: str) -> None:
    """Mail one alert to ops, retrying while the SMTP server cannot take it (the one backoff
    policy of `tasks.support`, up to PROVIDER_RETRY_MAX times)."""
    alert = alerts.Alert(key, subject, body)
    try:
        mailer.send(alerts.message(alert))
    except mailer.MailTransientError as exc:
        if self.request.retries < current_app.config["PROVIDER_RETRY_MAX"]:
            support.retry(self, exc)
        alerts.delivery_failed(alert, str(exc))
        raise
    except mailer.MailPermanentError as exc:
        alerts.delivery_failed(alert, str(exc))
        raise
    alerts.delivered(alert)
