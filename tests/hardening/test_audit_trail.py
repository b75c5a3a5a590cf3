"""The audit trail records who did what sensitive thing, from where, and never a secret."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.models import AuditEvent
from app.security import crypto
from tests.support.api import PASSWORD, Customer, wait_for_job
from tests.support.database import Database
from tests.support.factories import make_instance


def _events(database: Database, action: str) -> list[AuditEvent]:
    return database.scalars(select(AuditEvent).where(AuditEvent.action == action))


def _only(database: Database, action: str) -> AuditEvent:
    [event] = _events(database, action)
    return event


def test_a_login_is_recorded_with_address_and_request_id(
    app: Flask, client: FlaskClient, database: Database
) -> None:
    customer = Customer(client)
    browser = app.test_client()
    response = browser.post(
        "/api/auth/login",
        json={"email": customer.email, "password": PASSWORD},
        headers={"X-Request-ID": "login-1"},
    )
    assert response.status_code == 200
    event = _only(database, "auth.login")
    assert event.user_id == customer.id
    assert event.ip_address == "127.0.0.1" and event.request_id == "login-1"


def test_a_failed_login_names_the_account_but_not_the_password(
    app: Flask, client: FlaskClient, database: Database
) -> None:
    customer = Customer(client)
    app.test_client().post(
        "/api/auth/login", json={"email": customer.email, "password": "guess1234567"}
    )
    event = _only(database, "auth.login_failed")
    assert event.user_id == customer.id
    assert event.details == {"email_domain": "example.com"}
    assert "guess" not in str(event.details)


def test_a_password_change_is_recorded(client: FlaskClient, database: Database) -> None:
    customer = Customer(client)
    body = {"current_password": PASSWORD, "new_password": "a whole new passphrase"}
    assert customer.post("/api/account/password", json=body).status_code == 204
    event = _only(database, "account.password_changed")
    assert event.user_id == customer.id and event.request_id


def test_every_view_of_credentials_is_recorded_with_the_machine(
    app: Flask, client: FlaskClient, database: Database
) -> None:
    customer = Customer(client)
    with app.app_context():
        sealed = crypto.encrypt("S3cret!pass_word")
    machine = make_instance(database, customer.id, password_encrypted=sealed)
    for _ in range(2):
        assert customer.get(f"/api/instances/{machine.id}/credentials").status_code == 200
    events = _events(database, "instance.credentials_viewed")
    assert [e.details for e in events] == [{"instance_id": machine.id}] * 2
    assert all(e.user_id == customer.id for e in events)
    assert "S3cret" not in str([e.details for e in events])


def test_a_token_creation_is_recorded_without_its_secret(
    client: FlaskClient, database: Database
) -> None:
    customer = Customer(client)
    created = customer.post("/api/auth/tokens", json={"name": "ci"}).get_json()
    event = _only(database, "token.created")
    assert event.user_id == customer.id and event.details == {"token_id": created["id"]}
    assert created["token"] not in str(event.details)


def test_a_termination_is_recorded_when_asked_and_when_done(
    client: FlaskClient, database: Database, worker: Any
) -> None:
    customer = Customer(client)
    # No provider machine behind the row: the job finishes without calling a provider.
    machine = make_instance(database, customer.id, provider=None, provider_id=None)
    response = customer.delete(f"/api/instances/{machine.id}")
    assert response.status_code == 202
    assert wait_for_job(customer, response.get_json()["job"]["id"])["state"] == "succeeded"
    asked = _only(database, "instance.terminate_requested")
    done = _only(database, "instance.terminated")
    for event in (asked, done):
        assert event.user_id == customer.id and event.details == {"instance_id": machine.id}
    assert asked.request_id and asked.created_at <= done.created_at
