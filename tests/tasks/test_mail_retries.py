"""A mail the SMTP server cannot take now is retried with the one backoff policy of the
tasks (`tasks.support`), as many times as a provider call, then raised to ops."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from app.services import alerts
from tests.support.api import Customer, unique_email
from tests.support.mailbox import Mailbox


def test_a_mail_the_server_cannot_take_now_is_sent_on_a_later_try(
    client: FlaskClient, inbox: Mailbox
) -> None:
    email = unique_email()
    inbox.refuse(email, 2)

    Customer(client, email)

    assert inbox.wait_for(email)["Subject"] == "Welcome to NemoRDP"
    assert inbox.refused[email] == 2


def test_a_mail_still_refused_after_the_last_retry_is_raised_to_ops(
    app: Flask, client: FlaskClient, inbox: Mailbox
) -> None:
    email = unique_email()
    inbox.refuse(email, 100)

    Customer(client, email)

    alert = inbox.wait_for(app.config["ALERT_EMAIL"], timeout=30)
    assert "a mail could not be sent (email.send_welcome)" in alert["Subject"]
    # The first try and every retry, each after the backoff the provider calls get.
    assert inbox.refused[email] == app.config["PROVIDER_RETRY_MAX"] + 1


def test_an_alert_the_server_cannot_take_now_is_sent_on_a_later_try(
    app: Flask, inbox: Mailbox
) -> None:
    ops = app.config["ALERT_EMAIL"]
    inbox.refuse(ops, 2)

    with app.app_context():
        alerts.raise_alert(alerts.Alert("test_incident:later", "sent on a later try", "body"))

    assert "sent on a later try" in inbox.wait_for(ops)["Subject"]
    assert inbox.refused[ops] == 2
