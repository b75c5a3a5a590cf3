"""Changing the password, and resetting it through a single-use, expiring link.

No worker here: the link is made as the e-mail task makes it; tests/tasks/test_account_emails.py
follows the same flows through real e-mail.
"""

from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from freezegun import freeze_time
from sqlalchemy import select

from app.models import ApiToken, AuditEvent, EmailToken, User
from app.models.base import utcnow
from tests.support.accounts import latest_link_token
from tests.support.api import PASSWORD, Customer, error_of
from tests.support.database import Database

NEW_PASSWORD = "a brand new passphrase"


def _login(app: Flask, email: str, password: str) -> tuple[FlaskClient, int]:
    other = app.test_client()
    response = other.post("/api/auth/login", json={"email": email, "password": password})
    return other, response.status_code


def _change(customer: Customer, current: str = PASSWORD, new: str = NEW_PASSWORD) -> int:
    body = {"current_password": current, "new_password": new}
    return customer.post("/api/account/password", json=body).status_code


def test_a_password_change_ends_other_sessions_and_earlier_tokens_but_not_this_session(
    client: FlaskClient, app: Flask, database: Database
) -> None:
    customer = Customer(client)
    laptop, status = _login(app, customer.email, PASSWORD)
    assert status == 200 and laptop.get("/api/auth/me").status_code == 200
    raw = customer.post("/api/auth/tokens", json={"name": "ci"}).get_json()["token"]
    bearer = {"Authorization": f"Bearer {raw}"}
    assert app.test_client().get("/api/auth/me", headers=bearer).status_code == 200

    assert _change(customer) == 204

    assert laptop.get("/api/auth/me").status_code == 401
    assert app.test_client().get("/api/auth/me", headers=bearer).status_code == 401
    assert client.get("/api/auth/me").status_code == 200
    assert customer.put("/api/auth/profile", json={"full_name": "Still here"}).status_code == 200
    assert client.get("/api/auth/tokens").get_json()["tokens"] == []
    assert database.scalar(select(ApiToken.revoked_at)) is not None
    assert _login(app, customer.email, PASSWORD)[1] == 401
    assert _login(app, customer.email, NEW_PASSWORD)[1] == 200
    later = customer.post("/api/auth/tokens", json={"name": "new"}).get_json()["token"]
    fresh = app.test_client().get("/api/auth/me", headers={"Authorization": f"Bearer {later}"})
    assert fresh.status_code == 200


def test_a_wrong_current_password_is_403_counted_and_changes_nothing(
    client: FlaskClient, app: Flask, database: Database
) -> None:
    customer = Customer(client)
    before = database.scalar(select(User.password_hash).where(User.id == customer.id))
    response = customer.post(
        "/api/account/password",
        json={"current_password": "not my password", "new_password": NEW_PASSWORD},
    )
    assert response.status_code == 403
    assert "current_password" in error_of(response)["fields"]
    after = database.scalar(select(User).where(User.id == customer.id))
    assert after.password_hash == before and after.password_changed_at is None
    failed = database.scalars(
        select(AuditEvent).where(AuditEvent.action == "auth.password_check_failed")
    )
    assert [(e.user_id, e.details["purpose"]) for e in failed] == [(customer.id, "password_change")]
    assert _login(app, customer.email, PASSWORD)[1] == 200


def test_a_new_password_is_validated(client: FlaskClient, database: Database) -> None:
    customer = Customer(client)
    for new in ("short", "x" * 257, PASSWORD):
        assert _change(customer, new=new) == 422, new
    assert (
        customer.post("/api/account/password", json={"new_password": NEW_PASSWORD}).status_code
        == 422
    )
    assert database.scalar(select(User.password_changed_at)) is None


def test_a_reset_request_answers_the_same_whether_or_not_the_address_exists(
    client: FlaskClient, database: Database
) -> None:
    customer = Customer(client)
    client.post("/api/auth/logout", headers={"X-CSRF-Token": customer.csrf})
    known = client.post("/api/account/password/reset", json={"email": customer.email.upper()})
    unknown = client.post("/api/account/password/reset", json={"email": "nobody@example.com"})
    assert known.status_code == unknown.status_code == 202
    assert known.get_json() == unknown.get_json()
    tokens = database.scalars(select(EmailToken))
    assert [(t.user_id, t.purpose) for t in tokens] == [(customer.id, "password_reset")]
    assert client.post("/api/account/password/reset", json={"email": "nope"}).status_code == 422


def test_a_reset_link_sets_a_new_password_once_and_ends_every_session(
    client: FlaskClient, app: Flask, database: Database
) -> None:
    customer = Customer(client)
    anonymous = app.test_client()
    asked = anonymous.post("/api/account/password/reset", json={"email": customer.email})
    assert asked.status_code == 202
    token = latest_link_token(app, database, "password_reset")

    body = {"token": token, "password": NEW_PASSWORD}
    assert anonymous.post("/api/account/password/reset/confirm", json=body).status_code == 204
    assert client.get("/api/auth/me").status_code == 401  # the old session ended
    assert _login(app, customer.email, PASSWORD)[1] == 401
    assert _login(app, customer.email, NEW_PASSWORD)[1] == 200
    actions = database.scalars(select(AuditEvent.action))
    assert "account.password_reset" in actions

    again = anonymous.post(
        "/api/account/password/reset/confirm", json={"token": token, "password": "yet another one"}
    )
    assert again.status_code == 400 and "token" in error_of(again)["fields"]
    assert _login(app, customer.email, NEW_PASSWORD)[1] == 200


def test_an_expired_reset_link_is_400_and_changes_nothing(
    client: FlaskClient, app: Flask, database: Database
) -> None:
    customer = Customer(client)
    customer.post("/api/account/password/reset", json={"email": customer.email})
    token = latest_link_token(app, database, "password_reset")
    with freeze_time(utcnow() + timedelta(minutes=61)):
        response = customer.post(
            "/api/account/password/reset/confirm", json={"token": token, "password": NEW_PASSWORD}
        )
    assert response.status_code == 400
    assert error_of(response)["code"] == "bad_request"
    assert database.scalar(select(User.password_changed_at)) is None
    assert _login(app, customer.email, PASSWORD)[1] == 200


def test_forged_and_foreign_tokens_are_400(
    client: FlaskClient, app: Flask, database: Database
) -> None:
    customer = Customer(client)
    customer.post("/api/account/password/reset", json={"email": customer.email})
    token = latest_link_token(app, database, "password_reset")
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    for bad in ("garbage", tampered, token + "x"):
        response = customer.post(
            "/api/account/password/reset/confirm", json={"token": bad, "password": NEW_PASSWORD}
        )
        assert response.status_code == 400, bad
    # A reset token is no address-change token.
    assert customer.post("/api/account/email/confirm", json={"token": token}).status_code == 400
    assert _login(app, customer.email, PASSWORD)[1] == 200


def test_a_password_change_voids_reset_links_asked_for_before(
    client: FlaskClient, app: Flask, database: Database
) -> None:
    customer = Customer(client)
    customer.post("/api/account/password/reset", json={"email": customer.email})
    token = latest_link_token(app, database, "password_reset")
    assert _change(customer) == 204
    response = customer.post(
        "/api/account/password/reset/confirm", json={"token": token, "password": "attacker's one"}
    )
    assert response.status_code == 400
    assert _login(app, customer.email, NEW_PASSWORD)[1] == 200


def test_an_inactive_account_gets_no_reset_link(client: FlaskClient, database: Database) -> None:
    customer = Customer(client)
    with database.session() as session:
        session.get(User, customer.id).is_active_account = False  # type: ignore[union-attr]
        session.commit()
    response = customer.post("/api/account/password/reset", json={"email": customer.email})
    assert response.status_code == 202
    assert database.count(EmailToken) == 0


def test_a_program_changing_the_password_gets_no_session_and_loses_its_token(
    client: FlaskClient, app: Flask
) -> None:
    customer = Customer(client)
    raw = customer.post("/api/auth/tokens", json={"name": "cli"}).get_json()["token"]
    program = app.test_client()
    headers = {"Authorization": f"Bearer {raw}"}
    body = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    response = program.post("/api/account/password", json=body, headers=headers)
    assert response.status_code == 204
    assert "Set-Cookie" not in response.headers
    assert program.get("/api/auth/me", headers=headers).status_code == 401
    assert program.get("/api/auth/me").status_code == 401
