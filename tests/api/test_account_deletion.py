"""Deleting an account, and exporting its data first."""

import json

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.models import (
    ApiToken,
    AuditEvent,
    Job,
    User,
)
from app.security import crypto
from tests.support.api import PASSWORD, Customer, error_of
from tests.support.database import Database
from tests.support.factories import make_instance
from tests.support.ssh import public_key

TICKET = {"subject": "Slow desktop", "priority": "low", "message": "It lags, Ada Lovelace"}


def _user(database: Database, user_id: int) -> User:
    user = database.scalar(select(User).where(User.id == user_id))
    assert user is not None
    return user


def test_deletion_needs_the_password(client: FlaskClient, database: Database) -> None:
    customer = Customer(client)
    make_instance(database, customer.id)
    response = customer.post("/api/account/delete", json={"password": "not my password"})
    assert response.status_code == 403 and "password" in error_of(response)["fields"]
    assert customer.post("/api/account/delete", json={}).status_code == 422
    user = _user(database, customer.id)
    assert user.is_active_account and user.deletion_requested_at is None
    assert database.count(Job) == 0
    assert client.get("/api/auth/me").status_code == 200
    actions = database.scalars(select(AuditEvent.action))
    assert "auth.password_check_failed" in actions


def test_deletion_locks_the_account_out_at_once(
    client: FlaskClient, app: Flask, database: Database
) -> None:
    customer = Customer(client)
    raw = customer.post("/api/auth/tokens", json={"name": "ci"}).get_json()["token"]
    other_session = app.test_client()
    login = {"email": customer.email, "password": PASSWORD}
    assert other_session.post("/api/auth/login", json=login).status_code == 200

    response = customer.post("/api/account/delete", json={"password": PASSWORD})
    assert response.status_code == 202

    assert client.get("/api/auth/me").status_code == 401
    assert other_session.get("/api/auth/me").status_code == 401
    bearer = {"Authorization": f"Bearer {raw}"}
    assert app.test_client().get("/api/auth/me", headers=bearer).status_code == 401
    assert app.test_client().post("/api/auth/login", json=login).status_code == 401
    user = _user(database, customer.id)
    assert not user.is_active_account and user.deletion_requested_at is not None
    assert database.scalar(select(ApiToken).where(ApiToken.revoked_at.is_(None))) is None
    actions = database.scalars(select(AuditEvent.action))
    assert "account.deletion_requested" in actions


def test_the_export_holds_the_customers_data_and_no_secrets(
    client: FlaskClient, app: Flask, database: Database
) -> None:
    customer = Customer(client)
    with app.app_context():
        sealed = crypto.encrypt("S3cret!pass_word")
    instance = make_instance(database, customer.id, password_encrypted=sealed)
    customer.post("/api/support/tickets", json=TICKET)
    raw = customer.post("/api/auth/tokens", json={"name": "ci"}).get_json()["token"]
    key = public_key("ed25519", "me@laptop")
    customer.post("/api/account/ssh-keys", json={"name": "Laptop", "public_key": key})
    stranger = Customer(app.test_client())
    make_instance(database, stranger.id)
    stranger.post(
        "/api/account/ssh-keys", json={"name": "Theirs", "public_key": public_key("ed25519")}
    )

    response = client.get("/api/account/export")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]
    data = response.get_json()
    assert data["account"]["email"] == customer.email
    assert [i["id"] for i in data["instances"]] == [instance.id]
    assert data["support_tickets"][0]["messages"][0]["body"] == TICKET["message"]
    assert [t["name"] for t in data["api_tokens"]] == ["ci"]
    assert [(k["name"], k["public_key"]) for k in data["ssh_keys"]] == [("Laptop", key)]
    assert "account.signup" in [e["action"] for e in data["audit_events"]]
    text = json.dumps(data)
    assert "S3cret" not in text and sealed not in text and raw not in text
    assert "password" not in text.lower()
    assert stranger.email not in text
