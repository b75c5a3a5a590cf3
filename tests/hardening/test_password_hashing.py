"""Passwords are hashed with argon2id at OWASP's cost, and older hashes are upgraded at
sign-in."""

from __future__ import annotations

import argon2
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from app.models import User
from app.security.passwords import PARAMETERS
from tests.support.api import PASSWORD, Customer
from tests.support.database import Database

# OWASP Password Storage Cheat Sheet, argon2id: m=19456 KiB, t=2, p=1.
OWASP = {"type": argon2.Type.ID, "memory_cost": 19456, "time_cost": 2, "parallelism": 1}


def _stored_hash(database: Database, user_id: int) -> str:
    return database.scalar(select(User.password_hash).where(User.id == user_id))


def _cost(password_hash: str) -> dict[str, object]:
    parameters = argon2.extract_parameters(password_hash)
    return {name: getattr(parameters, name) for name in OWASP}


def test_a_new_password_is_hashed_with_owasps_argon2id_parameters(
    client: FlaskClient, database: Database
) -> None:
    customer = Customer(client)
    assert _cost(_stored_hash(database, customer.id)) == OWASP
    changed = customer.post(
        "/api/account/password",
        json={"current_password": PASSWORD, "new_password": "a new correct horse"},
    )
    assert changed.status_code == 204, changed.get_json()
    assert _cost(_stored_hash(database, customer.id)) == OWASP


def test_a_hash_of_other_parameters_is_replaced_at_sign_in(
    client: FlaskClient, app: Flask, database: Database
) -> None:
    customer = Customer(client)
    # argon2-cffi's defaults, which hashed every password before: m=65536, t=3, p=4.
    old = argon2.PasswordHasher.from_parameters(argon2.profiles.RFC_9106_LOW_MEMORY)
    old_hash = old.hash(PASSWORD)
    with database.session() as session:
        session.execute(update(User).where(User.id == customer.id).values(password_hash=old_hash))
        session.commit()

    def sign_in() -> int:
        answer = app.test_client().post(
            "/api/auth/login", json={"email": customer.email, "password": PASSWORD}
        )
        return answer.status_code

    assert sign_in() == 200
    upgraded = _stored_hash(database, customer.id)
    assert upgraded != old_hash
    assert argon2.extract_parameters(upgraded) == PARAMETERS
    assert sign_in() == 200
    assert _stored_hash(database, customer.id) == upgraded  # nothing left to upgrade
