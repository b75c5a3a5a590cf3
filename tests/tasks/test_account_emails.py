"""Account e-mail end to end: API → Redis → Celery worker → SMTP, and back through the links."""

import os

from flask import Flask
from flask.testing import FlaskClient

from tests.support.accounts import (
    link_token,
    mails_to,
    smtp_refusing,
    totp_code,
    wait_for_mail,
)
from tests.support.api import PASSWORD, Customer
from tests.support.mailbox import Mailbox

NEW_PASSWORD = "a brand new passphrase"


def _login(app: Flask, email: str, password: str) -> int:
    body = {"email": email, "password": password}
    return app.test_client().post("/api/auth/login", json=body).status_code


def test_the_reset_link_in_the_email_sets_a_new_password_and_a_notice_follows(
    client: FlaskClient, app: Flask, inbox: Mailbox
) -> None:
    customer = Customer(client)
    anonymous = app.test_client()
    anonymous.post("/api/account/password/reset", json={"email": customer.email})
    message = wait_for_mail(inbox, customer.email, "Reset your NemoRDP password")
    assert message.get_content_type() == "text/plain"
    assert f"{os.environ['PUBLIC_BASE_URL']}/reset-password?token=" in message.get_content()
    assert "within the hour" in message.get_content()

    body = {"token": link_token(message), "password": NEW_PASSWORD}
    assert anonymous.post("/api/account/password/reset/confirm", json=body).status_code == 204
    assert _login(app, customer.email, NEW_PASSWORD) == 200
    notice = wait_for_mail(inbox, customer.email, "Your NemoRDP password was reset")
    assert NEW_PASSWORD not in notice.get_content()


def test_nothing_is_sent_for_an_address_without_an_account(
    client: FlaskClient, inbox: Mailbox
) -> None:
    customer = Customer(client)
    client.post("/api/auth/logout", headers={"X-CSRF-Token": customer.csrf})
    client.post("/api/account/password/reset", json={"email": "nobody@example.com"})
    client.post("/api/account/password/reset", json={"email": customer.email})
    wait_for_mail(inbox, customer.email, "Reset your")
    assert mails_to(inbox, "nobody@example.com") == []


def test_an_address_change_is_confirmed_from_the_new_address_and_told_to_the_old(
    client: FlaskClient, app: Flask, inbox: Mailbox
) -> None:
    customer = Customer(client)
    body = {"new_email": "moved@example.net", "password": PASSWORD}
    assert customer.post("/api/account/email", json=body).status_code == 202
    message = wait_for_mail(inbox, "moved@example.net", "Confirm your new NemoRDP e-mail")
    assert "/confirm-email?token=" in message.get_content()
    assert not [m for m in mails_to(inbox, customer.email) if "Confirm" in str(m["Subject"])]

    confirm = {"token": link_token(message)}
    assert app.test_client().post("/api/account/email/confirm", json=confirm).status_code == 200
    assert _login(app, "moved@example.net", PASSWORD) == 200
    notice = wait_for_mail(inbox, customer.email, "e-mail address was changed")
    assert "m***@example.net" in notice.get_content()
    assert "moved@example.net" not in notice.get_content()


def test_a_password_change_is_told_to_the_account_address(
    client: FlaskClient, inbox: Mailbox
) -> None:
    customer = Customer(client)
    change = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    assert customer.post("/api/account/password", json=change).status_code == 204
    notice = wait_for_mail(inbox, customer.email, "Your NemoRDP password was changed")
    assert "If not, reset your password" in notice.get_content()
    assert NEW_PASSWORD not in notice.get_content()


def test_turning_two_factor_on_and_off_is_told_to_the_account_address(
    client: FlaskClient, inbox: Mailbox
) -> None:
    customer = Customer(client)
    secret = customer.post("/api/account/2fa/setup", json={"password": PASSWORD}).get_json()[
        "secret"
    ]
    customer.post("/api/account/2fa/confirm", json={"code": totp_code(secret)})
    on = wait_for_mail(inbox, customer.email, "Two-factor sign-in is on")
    assert "turned on" in on.get_content()
    disabled = customer.post(
        "/api/account/2fa/disable",
        json={"password": PASSWORD, "code": totp_code(secret, steps_ahead=1)},
    )
    assert disabled.status_code == 204
    off = wait_for_mail(inbox, customer.email, "Two-factor sign-in is off")
    assert "turned off" in off.get_content()
    assert secret not in on.get_content() + off.get_content()


def test_a_mail_the_smtp_server_refuses_for_now_is_retried_until_delivered(
    client: FlaskClient, inbox: Mailbox
) -> None:
    customer = Customer(client)
    wait_for_mail(inbox, customer.email, "Welcome")
    with smtp_refusing(inbox, times=2) as refused:
        customer.post("/api/account/password/reset", json={"email": customer.email})
        message = wait_for_mail(inbox, customer.email, "Reset your NemoRDP password", timeout=30)
    assert refused == [[customer.email], [customer.email]]
    assert "/reset-password?token=" in message.get_content()
