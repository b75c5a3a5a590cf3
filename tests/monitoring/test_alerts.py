"""Alert e-mails: one per incident per window, delivered through a real SMTP server, and
failures to deliver logged, counted and tried again."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.extensions import db
from app.models import Job
from app.models.base import utcnow
from app.services import alert_checks, alerts
from tasks.monitoring import check_alerts, send_alert
from tests.monitoring.conftest import settings
from tests.monitoring.scrape import scrape, value
from tests.support.database import Database
from tests.support.emulators import free_port, wait_until
from tests.support.mailbox import Mailbox
from workers.mailer import MailPermanentError

ALERTS = "nemordp_alerts_total"


def _mails(mailbox: Mailbox, subject: str) -> list[EmailMessage]:
    with mailbox.lock:
        return [m for m in mailbox.messages if subject in str(m["Subject"])]


def _wait_for_mail(mailbox: Mailbox, subject: str) -> EmailMessage:
    found: list[EmailMessage] = wait_until(lambda: _mails(mailbox, subject), timeout=15)
    return found[0]


def _provision_jobs(database: Database, *states: str, minutes_ago: int = 1) -> None:
    finished = utcnow() - timedelta(minutes=minutes_ago)
    database.add(
        *[Job(kind="provision", state=s, finished_at=finished, context={}) for s in states]
    )


class _Refusing:
    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        return "554 5.7.1 message refused"


@pytest.fixture()
def refusing_smtp() -> Iterator[int]:
    """An SMTP server that refuses every message for good."""
    controller = Controller(_Refusing(), hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller.port
    controller.stop()


@pytest.fixture()
def default_queue_unconsumed(app: Flask, worker: Any) -> Iterator[None]:
    """The running worker stops consuming the default queue for the test."""
    celery = app.extensions["celery"]
    celery.control.cancel_consumer("default", reply=True, timeout=1)
    yield
    celery.control.add_consumer("default", reply=True, timeout=1)


def test_an_incident_is_mailed_once_per_window(
    app: Flask, client: FlaskClient, inbox: Mailbox
) -> None:
    before = scrape(client)
    alert = alerts.Alert("test_incident:disk", "disk almost full", "93% used on /var.")
    with app.app_context():
        assert alerts.raise_alert(alert) is True
        assert alerts.raise_alert(alert) is False
    mail = _wait_for_mail(inbox, "disk almost full")
    assert str(mail["To"]) == "ops@nemordp.local"
    assert str(mail["Subject"]) == "[NemoRDP alert] disk almost full"
    assert "93% used on /var." in mail.get_content()
    assert "Incident: test_incident:disk" in mail.get_content()
    after = scrape(client)
    for outcome in ("delivered", "suppressed"):
        assert value(after, ALERTS, alert="test_incident", outcome=outcome) == (
            value(before, ALERTS, alert="test_incident", outcome=outcome) + 1
        )
    assert len(_mails(inbox, "disk almost full")) == 1  # the repeat was never sent


def test_once_the_window_has_passed_the_incident_is_mailed_again(
    app: Flask, inbox: Mailbox
) -> None:
    alert = alerts.Alert("test_incident:window", "window test", "again")
    with app.app_context(), settings(app, ALERT_WINDOW_SECONDS=1):
        assert alerts.raise_alert(alert) is True
        wait_until(lambda: alerts.raise_alert(alert), timeout=5)
    wait_until(lambda: len(_mails(inbox, "window test")) == 2, timeout=15)


def test_stuck_jobs_and_bad_webhook_signatures_are_mailed(
    app: Flask, inbox: Mailbox, database: Database
) -> None:
    database.add(
        Job(kind="restart", state="running", deadline_at=utcnow() - timedelta(hours=1), context={})
    )
    with app.app_context():
        stuck = list(db.session.scalars(select(Job)))
        assert alerts.jobs_stuck(stuck) is True
        assert alerts.webhook_signature_failed("203.0.113.9") is True
    body = _wait_for_mail(inbox, "1 stuck job(s)").get_content()
    assert f"job {stuck[0].id} (restart), running" in body
    body = _wait_for_mail(inbox, "Stripe webhook signature check failed").get_content()
    assert "203.0.113.9" in body and "STRIPE_WEBHOOK_SECRET" in body


def test_the_periodic_check_mails_a_queue_no_worker_consumes(
    app: Flask, mailbox: Mailbox, default_queue_unconsumed: None
) -> None:
    mailbox.clear()
    assert check_alerts() == ["workers_down:default"]
    mail = _wait_for_mail(mailbox, "no worker consumes the default queue")
    assert "Flower" in mail.get_content()
    assert check_alerts() == []  # the same incident, within the window


def test_with_no_worker_at_all_every_queue_is_reported(isolated_app: Flask) -> None:
    with isolated_app.app_context():
        keys = [alert.key for alert in alert_checks.queues_without_workers()]
    assert keys == [
        "workers_down:default",
        "workers_down:actions",
        "workers_down:provisioning",
        "workers_down:checks",
        "workers_down:billing",
        "workers_down:email",
        "workers_down:periodic",
    ]


def test_a_queue_over_its_backlog_threshold_is_reported(isolated_app: Flask) -> None:
    celery = isolated_app.extensions["celery"]
    for _ in range(3):
        celery.send_task("email.send_welcome", args=[1])
    with isolated_app.app_context(), settings(isolated_app, ALERT_QUEUE_BACKLOG=2):
        found = alert_checks.backlogged_queues()
    assert [(a.key, a.subject) for a in found] == [
        ("queue_backlog:email", "3 tasks waiting in the email queue")
    ]
    with isolated_app.app_context(), settings(isolated_app, ALERT_QUEUE_BACKLOG=3):
        assert alert_checks.backlogged_queues() == []


@pytest.mark.parametrize(
    ("states", "alerted"),
    [
        (["failed", "failed", "failed", "succeeded"], True),  # 75%
        (["failed", "succeeded", "succeeded", "succeeded"], True),  # 25%, the threshold
        (["failed", "succeeded", "succeeded", "succeeded", "succeeded"], False),  # 20%
        (["failed", "failed", "failed"], False),  # fewer orders than the minimum
    ],
)
def test_a_high_provisioning_failure_rate_is_reported(
    app: Flask, database: Database, states: list[str], alerted: bool
) -> None:
    _provision_jobs(database, *states)
    _provision_jobs(database, "failed", "failed", minutes_ago=120)  # outside the window
    with app.app_context():
        found = alert_checks.provisioning_failure_rate()
    assert [a.key for a in found] == (["provisioning_failure_rate"] if alerted else [])
    if alerted:
        failed = states.count("failed")
        assert found[0].subject == f"{failed} of {len(states)} machine orders failed"


def test_an_alert_that_cannot_be_mailed_is_logged_counted_and_tried_again(
    app: Flask,
    client: FlaskClient,
    worker: Any,
    mailbox: Mailbox,
    database: Database,
    caplog: pytest.LogCaptureFixture,
) -> None:
    _provision_jobs(database, "failed", "failed", "failed", "failed")
    labels = {"alert": "provisioning_failure_rate", "outcome": "failed"}
    before = value(scrape(client), ALERTS, **labels)
    with settings(app, MAIL_PORT=free_port()):  # no SMTP server there
        assert check_alerts() == []
        assert check_alerts() == []  # not suppressed: nothing was mailed
    assert value(scrape(client), ALERTS, **labels) == before + 2
    failures = [r for r in caplog.records if "could not be mailed" in r.getMessage()]
    assert len(failures) == 2 and all(r.levelname == "ERROR" for r in failures)

    mailbox.clear()
    assert check_alerts() == ["provisioning_failure_rate"]
    _wait_for_mail(mailbox, "4 of 4 machine orders failed")


def test_a_refused_alert_mail_fails_the_task_and_releases_the_incident(
    app: Flask, client: FlaskClient, refusing_smtp: int
) -> None:
    alert = alerts.Alert("test_incident:refused", "refused", "body")
    labels = {"alert": "test_incident", "outcome": "failed"}
    before = value(scrape(client), ALERTS, **labels)
    with app.app_context(), settings(app, MAIL_PORT=refusing_smtp):
        assert alerts.claim(alert)
        with pytest.raises(MailPermanentError):
            send_alert(alert.key, alert.subject, alert.body)
        assert alerts.claim(alert)  # released: the next occurrence is mailed
    assert value(scrape(client), ALERTS, **labels) == before + 1
