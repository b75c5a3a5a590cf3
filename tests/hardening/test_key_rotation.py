"""Rotating the encryption key: a new key first, `flask keys rotate`, the old key dropped."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.models import Instance, User
from app.security import crypto
from tests.support.accounts import totp_code
from tests.support.api import PASSWORD, Customer
from tests.support.database import Database
from tests.support.factories import make_instance

NEW_KEY = Fernet.generate_key().decode()


def _seal(app: Flask, secret: str) -> str:
    with app.app_context():
        return crypto.encrypt(secret)


def _rotate(app: Flask, *options: str) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=["keys", "rotate", *options])
    return result.exit_code, result.output


def test_secrets_sealed_under_the_old_key_open_with_the_new_key_alone_after_rotation(
    app: Flask, client: FlaskClient, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    old_keys = app.config["ENCRYPTION_KEYS"]
    customer = Customer(client)
    setup = customer.post("/api/account/2fa/setup", json={"password": PASSWORD}).get_json()
    totp_secret = setup["secret"]
    confirmed = customer.post("/api/account/2fa/confirm", json={"code": totp_code(totp_secret)})
    assert confirmed.status_code == 200
    machines = [
        make_instance(
            database, customer.id, provider_id=f"r{n}", password_encrypted=_seal(app, f"pw-{n}")
        )
        for n in range(5)
    ]

    monkeypatch.setitem(app.config, "ENCRYPTION_KEYS", f"{NEW_KEY},{old_keys}")
    exit_code, output = _rotate(app, "--batch-size", "2")
    assert exit_code == 0, output
    assert "instances.password_encrypted: 5 rotated, 0 already current" in output
    assert "users.totp_secret_encrypted: 1 rotated, 0 already current" in output
    # Idempotent: a second run finds nothing left to do.
    exit_code, output = _rotate(app)
    assert exit_code == 0
    assert "instances.password_encrypted: 0 rotated, 5 already current" in output

    monkeypatch.setitem(app.config, "ENCRYPTION_KEYS", NEW_KEY)
    for n, machine in enumerate(machines):
        shown = customer.get(f"/api/instances/{machine.id}/credentials").get_json()
        assert shown["password"] == f"pw-{n}"
    browser = app.test_client()
    step = browser.post("/api/auth/login", json={"email": customer.email, "password": PASSWORD})
    challenge = step.get_json()["challenge"]
    signed_in = browser.post(
        "/api/auth/login/2fa", json={"challenge": challenge, "code": totp_code(totp_secret, 1)}
    )
    assert signed_in.status_code == 200, signed_in.get_json()


def test_a_secret_no_key_opens_is_reported_and_left_alone(
    app: Flask, client: FlaskClient, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    customer = Customer(client)
    readable = make_instance(
        database, customer.id, provider_id="ok", password_encrypted=_seal(app, "fine")
    )
    lost_key_token = Fernet(Fernet.generate_key()).encrypt(b"lost").decode()
    orphan = make_instance(
        database, customer.id, provider_id="orphan", password_encrypted=lost_key_token
    )

    monkeypatch.setitem(app.config, "ENCRYPTION_KEYS", f"{NEW_KEY},{app.config['ENCRYPTION_KEYS']}")
    exit_code, output = _rotate(app)
    assert exit_code == 1
    assert f"1 no key opens (ids {orphan.id})" in output
    assert "keep every old key" in output
    rows = {i.id: i.password_encrypted for i in database.scalars(select(Instance))}
    assert rows[orphan.id] == lost_key_token
    with app.app_context():
        assert crypto.is_current(rows[readable.id] or "")


def test_users_without_two_factor_are_skipped(
    app: Flask, client: FlaskClient, database: Database
) -> None:
    Customer(client)
    exit_code, output = _rotate(app)
    assert exit_code == 0
    assert "users.totp_secret_encrypted: 0 rotated, 0 already current" in output
    assert database.scalar(select(User.totp_secret_encrypted)) is None


def test_generate_prints_a_usable_key_alone_on_stdout(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["keys", "generate"])
    assert result.exit_code == 0
    key = result.stdout.strip()
    assert Fernet(key).decrypt(Fernet(key).encrypt(b"x")) == b"x"
    assert "ENCRYPTION_KEYS" in result.stderr
