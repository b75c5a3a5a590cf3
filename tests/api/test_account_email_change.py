"""Changing the e-mail address only through a link sent to the new address.

No worker here: the link is made as the e-mail task makes it; tests/tasks/test_account_emails.py
follows the flow through real e-mail.
"""

from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from freezegun import freeze_time
from sqlalchemy import select

from app.models import AuditEvent, EmailToken, User
from app.models.base import utcnow
from tests.support.accounts import latest_link_token
from tests.support.api import PASSWORD, Customer, error_of
from tests.support.database import Database

CHANGE = "email_change"


def _ask(customer: Customer, new_email: str, password: str = PASSWORD) -> int:
    body = {"new_email": new_email, "password": password}
    return customer.post("/api/account/email", json=body).status_code


def _email_of(database: Database, user_id: int) -> str:
    email: str = database.scalar(select(User.email).where(User.id == user_id))
    return email


def test_the_address_changes_only_when_the_link_is_followed(
    client: FlaskClient, app: Flask, database: Database
) -> None:
    customer = Customer(client)
    assert _ask(customer, "moved@example.net") == 202
    assert client.get("/api/auth/me").get_json()["email"] == customer.email
    token = database.scalar(select(EmailToken))
    assert (token.new_email, token.previous_email) == ("moved@example.net", customer.email)

    anonymous = app.test_client()  # the link may be opened in another browser
    body = {"token": latest_link_token(app, database, CHANGE)}
    assert anonymous.post("/api/account/email/confirm", json=body).status_code == 200

    assert client.get("/api/auth/me").get_json()["email"] == "moved@example.net"
    login = {"email": "moved@example.net", "password": PASSWORD}
    assert anonymous.post("/api/auth/login", json=login).status_code == 200
    old = {"email": customer.email, "password": PASSWORD}
    assert app.test_client().post("/api/auth/login", json=old).status_code == 401
    actions = database.scalars(select(AuditEvent.action))
    assert "account.email_changed" in actions


def test_a_wrong_password_is_403_and_nothing_is_sent(
    client: FlaskClient, database: Database
) -> None:
    customer = Customer(client)
    assert _ask(customer, "moved@example.net", password="not my password") == 403
    assert database.count(EmailToken) == 0
    actions = database.scalars(select(AuditEvent.action))
    assert "auth.password_check_failed" in actions


def test_bad_new_addresses_are_refused(client: FlaskClient, app: Flask, database: Database) -> None:
    customer = Customer(client)
    other = Customer(app.test_client())
    assert _ask(customer, other.email.upper()) == 409
    assert _ask(customer, customer.email) == 422
    assert _ask(customer, "not an address") == 422
    assert customer.post("/api/account/email", json={"new_email": "a@b.example"}).status_code == 422
    assert database.count(EmailToken) == 0


def test_a_confirmation_link_works_once(
    client: FlaskClient, app: Flask, database: Database
) -> None:
    customer = Customer(client)
    assert _ask(customer, "first@example.net") == 202
    token = latest_link_token(app, database, CHANGE)
    assert customer.post("/api/account/email/confirm", json={"token": token}).status_code == 200
    again = customer.post("/api/account/email/confirm", json={"token": token})
    assert again.status_code == 400 and "token" in error_of(again)["fields"]
    assert _email_of(database, customer.id) == "first@example.net"


def test_an_expired_confirmation_link_is_400(
    client: FlaskClient, app: Flask, database: Database
) -> None:
    customer = Customer(client)
    assert _ask(customer, "late@example.net") == 202
    token = latest_link_token(app, database, CHANGE)
    with freeze_time(utcnow() + timedelta(hours=25)):
        response = customer.post("/api/account/email/confirm", json={"token": token})
    assert response.status_code == 400
    assert _email_of(database, customer.id) == customer.email


def test_an_address_taken_meanwhile_is_409_on_confirmation(
    client: FlaskClient, app: Flask, database: Database
) -> None:
    customer = Customer(client)
    assert _ask(customer, "wanted@example.net") == 202
    token = latest_link_token(app, database, CHANGE)
    Customer(app.test_client(), email="wanted@example.net")
    response = customer.post("/api/account/email/confirm", json={"token": token})
    assert response.status_code == 409
    assert _email_of(database, customer.id) == customer.email
    assert database.scalar(select(EmailToken.used_at)) is None


def test_a_change_confirmed_voids_the_other_pending_links(
    client: FlaskClient, app: Flask, database: Database
) -> None:
    customer = Customer(client)
    assert _ask(customer, "one@example.net") == 202
    first = latest_link_token(app, database, CHANGE)
    assert _ask(customer, "two@example.net") == 202
    second = latest_link_token(app, database, CHANGE)
    assert customer.post("/api/account/email/confirm", json={"token": second}).status_code == 200
    assert customer.post("/api/account/email/confirm", json={"token": first}).status_code == 400
    assert _email_of(database, customer.id) == "two@example.net"
