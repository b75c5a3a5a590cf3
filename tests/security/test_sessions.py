"""Sessions and sign-in under attack.

A saved session or remember-me cookie is worth nothing once its login ends (logout,
password change or reset, deletion, expiry); a two-factor challenge gives one session at
most; every request a cookie authenticates needs the CSRF token, and only a Bearer token
that authenticates exempts a request; sign-in and reset make the same work of any address.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import argon2
import pytest
from flask import Flask
from flask.testing import FlaskClient
from freezegun import freeze_time
from sqlalchemy import select, update

from app.models import ApiToken, AuditEvent, Job, Login, RecoveryCode, User
from app.models.base import utcnow
from tests.support.accounts import latest_link_token, totp_code
from tests.support.api import PASSWORD, Customer, error_of
from tests.support.database import Database
from tests.support.factories import make_instance

SESSION_COOKIE = "nemordp_session"
REMEMBER_COOKIE = "remember_token"
NEW_PASSWORD = "a brand new passphrase"
EVIL_ORIGIN = {"Origin": "https://evil.example", "Referer": "https://evil.example/"}


def _sign_in(app: Flask, email: str, *, remember: bool = True) -> tuple[FlaskClient, str]:
    """A browser signed in with the password; returns it and its CSRF token."""
    browser = app.test_client()
    body = {"email": email, "password": PASSWORD, "remember": remember}
    response = browser.post("/api/auth/login", json=body)
    assert response.status_code == 200, response.get_json()
    return browser, response.get_json()["csrf_token"]


def _cookie(browser: FlaskClient, name: str) -> str:
    cookie = browser.get_cookie(name)
    assert cookie is not None, f"no {name} cookie"
    return cookie.value


def _replay(app: Flask, **cookies: str) -> FlaskClient:
    """A new browser holding only the cookies saved from another one."""
    browser = app.test_client()
    for name, value in cookies.items():
        browser.set_cookie(name, value)
    return browser


def _saved_cookies(browser: FlaskClient) -> dict[str, str]:
    return {
        SESSION_COOKIE: _cookie(browser, SESSION_COOKIE),
        REMEMBER_COOKIE: _cookie(browser, REMEMBER_COOKIE),
    }


def _each_cookie_is_refused(app: Flask, saved: dict[str, str], csrf: str) -> None:
    session_only = _replay(app, **{SESSION_COOKIE: saved[SESSION_COOKIE]})
    remember_only = _replay(app, **{REMEMBER_COOKIE: saved[REMEMBER_COOKIE]})
    for browser in (session_only, remember_only, _replay(app, **saved)):
        assert browser.get("/api/auth/me").status_code == 401
    created = session_only.post(
        "/api/auth/tokens", json={"name": "stolen"}, headers={"X-CSRF-Token": csrf}
    )
    assert created.status_code == 401


# -- finding 1: logout, password change, reset and deletion end the login on the server --
def test_logout_ends_the_saved_session_and_remember_me_cookies_on_the_server(
    client: FlaskClient, app: Flask, database: Database
) -> None:
    customer = Customer(client)
    browser, csrf = _sign_in(app, customer.email)
    saved = _saved_cookies(browser)
    assert (
        _replay(app, **{REMEMBER_COOKIE: saved[REMEMBER_COOKIE]}).get("/api/auth/me").status_code
        == 200
    )

    assert browser.post("/api/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 204

    _each_cookie_is_refused(app, saved, csrf)
    assert database.count(ApiToken) == 0
    # The customer's other sign-in (the one of sign-up) goes on.
    assert client.get("/api/auth/me").status_code == 200


def test_each_remember_me_cookie_is_a_random_secret_kept_only_as_a_digest(
    client: FlaskClient, app: Flask, database: Database
) -> None:
    customer = Customer(client)
    first = _cookie(_sign_in(app, customer.email)[0], REMEMBER_COOKIE)
    second = _cookie(_sign_in(app, customer.email)[0], REMEMBER_COOKIE)
    assert first != second
    for value in (first, second):
        assert not value.startswith(f"{customer.id}:")
    stored = database.scalars(select(Login.secret_hash))
    assert len(stored) == 3  # sign-up and the two sign-ins
    assert not any(digest in first or digest in second for digest in stored)


def test_a_remember_me_cookie_expires_on_the_server(client: FlaskClient, app: Flask) -> None:
    customer = Customer(client)
    saved = _saved_cookies(_sign_in(app, customer.email)[0])
    remembered = _replay(app, **{REMEMBER_COOKIE: saved[REMEMBER_COOKIE]})
    days = app.config["REMEMBER_ME_DAYS"]
    with freeze_time(utcnow() + timedelta(days=days - 1)):
        assert remembered.get("/api/auth/me").status_code == 200
    with freeze_time(utcnow() + timedelta(days=days, minutes=1)):
        late = _replay(app, **{REMEMBER_COOKIE: saved[REMEMBER_COOKIE]})
        assert late.get("/api/auth/me").status_code == 401


def test_a_password_change_revokes_every_other_remember_me_cookie(
    client: FlaskClient, app: Flask
) -> None:
    customer = Customer(client)
    laptop, csrf = _sign_in(app, customer.email)
    saved = _saved_cookies(laptop)
    phone, phone_csrf = _sign_in(app, customer.email)
    change = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    assert (
        phone.post(
            "/api/account/password", json=change, headers={"X-CSRF-Token": phone_csrf}
        ).status_code
        == 204
    )

    _each_cookie_is_refused(app, saved, csrf)
    # The browser that changed it carries on, remembered as before.
    assert phone.get("/api/auth/me").status_code == 200
    still = _replay(app, **{REMEMBER_COOKIE: _cookie(phone, REMEMBER_COOKIE)})
    assert still.get("/api/auth/me").status_code == 200


def test_a_password_reset_revokes_every_remember_me_cookie(
    client: FlaskClient, app: Flask, database: Database
) -> None:
    customer = Customer(client)
    laptop, csrf = _sign_in(app, customer.email)
    saved = _saved_cookies(laptop)
    anonymous = app.test_client()
    assert (
        anonymous.post("/api/account/password/reset", json={"email": customer.email}).status_code
        == 202
    )
    token = latest_link_token(app, database, "password_reset")
    confirm = {"token": token, "password": NEW_PASSWORD}
    assert anonymous.post("/api/account/password/reset/confirm", json=confirm).status_code == 204

    _each_cookie_is_refused(app, saved, csrf)


def test_deleting_the_account_revokes_every_remember_me_cookie(
    client: FlaskClient, app: Flask, database: Database
) -> None:
    customer = Customer(client)
    laptop, csrf = _sign_in(app, customer.email)
    saved = _saved_cookies(laptop)
    assert customer.post("/api/account/delete", json={"password": PASSWORD}).status_code == 202
    # Even were the account active again, the cookies of before stay dead.
    with database.session() as session:
        session.execute(update(User).values(is_active_account=True))
        session.commit()
    _each_cookie_is_refused(app, saved, csrf)


# -- finding 3: a two-factor challenge is single-use ---------------------------------------
def _enrol(customer: Customer) -> tuple[str, list[str]]:
    setup = customer.post("/api/account/2fa/setup", json={"password": PASSWORD})
    secret = setup.get_json()["secret"]
    confirmed = customer.post("/api/account/2fa/confirm", json={"code": totp_code(secret)})
    assert confirmed.status_code == 200, confirmed.get_json()
    return secret, confirmed.get_json()["recovery_codes"]


def test_a_two_factor_challenge_gives_one_session_at_most(
    client: FlaskClient, app: Flask, database: Database
) -> None:
    customer = Customer(client)
    secret, recovery_codes = _enrol(customer)
    first = app.test_client()
    step = first.post("/api/auth/login", json={"email": customer.email, "password": PASSWORD})
    challenge = step.get_json()["challenge"]
    body = {"challenge": challenge, "code": totp_code(secret, steps_ahead=1)}
    assert first.post("/api/auth/login/2fa", json=body).status_code == 200

    second = app.test_client()
    for code in (recovery_codes[0], totp_code(secret, steps_ahead=-1)):
        again = second.post("/api/auth/login/2fa", json={"challenge": challenge, "code": code})
        assert again.status_code == 401, code
        assert "expired" in error_of(again)["message"]
    assert second.get("/api/auth/me").status_code == 401
    assert database.scalars(select(RecoveryCode.id).where(RecoveryCode.used_at.is_not(None))) == []
    assert first.get("/api/auth/me").status_code == 200


# -- finding 4: CSRF holds in every cookie path ---------------------------------------------
@pytest.mark.usefixtures("machine_jobs_held")
def test_a_remember_me_cookie_alone_cannot_write_without_the_csrf_token(
    client: FlaskClient, app: Flask, database: Database
) -> None:
    customer = Customer(client)
    instance = make_instance(database, customer.id)
    remembered = _cookie(_sign_in(app, customer.email)[0], REMEMBER_COOKIE)

    victim = _replay(app, **{REMEMBER_COOKIE: remembered})
    token = victim.post("/api/auth/tokens", json={"name": "csrf"}, headers=EVIL_ORIGIN)
    assert token.status_code == 403 and "CSRF" in error_of(token)["message"]
    victim = _replay(app, **{REMEMBER_COOKIE: remembered})
    form = victim.post(
        f"/api/instances/{instance.id}/restart",
        headers=EVIL_ORIGIN,
        content_type="application/x-www-form-urlencoded",
    )
    assert form.status_code == 403 and "CSRF" in error_of(form)["message"]
    assert database.count(ApiToken) == 0 and database.count(Job) == 0

    # The dashboard's way: a page first (the cookie restores the session and its token).
    page = victim.get("/app")
    csrf = page.get_data(as_text=True).split('name="csrf-token" content="')[1].split('"')[0]
    made = victim.post("/api/auth/tokens", json={"name": "ok"}, headers={"X-CSRF-Token": csrf})
    assert made.status_code == 201


def test_a_bearer_header_that_authenticates_nobody_exempts_nothing(
    client: FlaskClient, app: Flask, database: Database
) -> None:
    Customer(client)  # the session cookie the junk header would have smuggled
    for junk in ("Bearer junk", "Bearer nrdp_junk", "Bearer "):
        response = client.post(
            "/api/auth/tokens", json={"name": "x"}, headers={"Authorization": junk}
        )
        assert response.status_code == 403, junk
        assert "CSRF" in error_of(response)["message"]
    assert database.count(ApiToken) == 0


def test_a_request_with_a_live_bearer_token_is_the_token_owners_alone(
    client: FlaskClient, app: Flask
) -> None:
    customer = Customer(client)
    other = Customer(app.test_client())
    raw = other.post("/api/auth/tokens", json={"name": "cli"}).get_json()["token"]
    bearer = {"Authorization": f"Bearer {raw}"}
    # The customer's session cookie rides along, without its CSRF token: the token decides.
    made = client.post("/api/auth/tokens", json={"name": "by-token"}, headers=bearer)
    assert made.status_code == 201
    assert client.get("/api/auth/me", headers=bearer).get_json()["id"] == other.id
    names = [t["name"] for t in other.get("/api/auth/tokens").get_json()["tokens"]]
    assert "by-token" in names
    assert customer.get("/api/auth/tokens").get_json()["tokens"] == []


def test_signing_in_rotates_the_csrf_token(client: FlaskClient, app: Flask) -> None:
    customer = Customer(client)
    browser = app.test_client()
    shell = browser.get("/login").get_data(as_text=True)
    before = shell.split('name="csrf-token" content="')[1].split('"')[0]
    login = browser.post(
        "/api/auth/login",
        json={"email": customer.email, "password": PASSWORD},
        headers={"X-CSRF-Token": before},
    )
    after = login.get_json()["csrf_token"]
    assert after != before
    stale = browser.post("/api/auth/tokens", json={"name": "x"}, headers={"X-CSRF-Token": before})
    assert stale.status_code == 403
    fresh = browser.post("/api/auth/tokens", json={"name": "x"}, headers={"X-CSRF-Token": after})
    assert fresh.status_code == 201


def test_signing_up_rotates_the_csrf_token(app: Flask) -> None:
    browser = app.test_client()
    shell = browser.get("/signup").get_data(as_text=True)
    before = shell.split('name="csrf-token" content="')[1].split('"')[0]
    signup = browser.post(
        "/api/auth/signup",
        json={"email": "rotated@example.com", "password": PASSWORD},
        headers={"X-CSRF-Token": before},
    )
    after = signup.get_json()["csrf_token"]
    assert after != before
    stale = browser.post("/api/auth/tokens", json={"name": "x"}, headers={"X-CSRF-Token": before})
    assert stale.status_code == 403
    fresh = browser.post("/api/auth/tokens", json={"name": "x"}, headers={"X-CSRF-Token": after})
    assert fresh.status_code == 201


# -- finding 5: sign-in and reset tell nobody which addresses exist --------------------------
def _queries(response: Any) -> str:
    return str(response.headers["Server-Timing"]).split('desc="')[1].split('"')[0]


@pytest.fixture()
def hash_checks(monkeypatch: pytest.MonkeyPatch) -> list[argon2.Parameters]:
    """The argon2 parameters of every hash a password is checked against."""
    checked: list[argon2.Parameters] = []
    verify = argon2.PasswordHasher.verify

    def spy(self: argon2.PasswordHasher, hash: str | bytes, password: str | bytes) -> bool:
        checked.append(argon2.extract_parameters(hash if isinstance(hash, str) else hash.decode()))
        return verify(self, hash, password)

    monkeypatch.setattr(argon2.PasswordHasher, "verify", spy)
    return checked


def test_an_unknown_address_costs_a_login_what_a_known_one_does(
    client: FlaskClient, app: Flask, database: Database, hash_checks: list[argon2.Parameters]
) -> None:
    customer = Customer(client)
    deleted = Customer(app.test_client())
    with database.session() as session:
        session.execute(update(User).where(User.id == deleted.id).values(is_active_account=False))
        session.commit()
    real = argon2.extract_parameters(
        database.scalar(select(User.password_hash).where(User.id == customer.id))
    )
    answers = []
    for email, password in (
        (customer.email, "a wrong password"),
        ("nobody@example.com", "a wrong password"),
        (deleted.email, PASSWORD),
    ):
        hash_checks.clear()
        response = app.test_client().post(
            "/api/auth/login", json={"email": email, "password": password}
        )
        assert response.status_code == 401
        assert hash_checks == [real], email  # one check, of the same cost
        answers.append((error_of(response), _queries(response)))
    assert answers[0] == answers[1] == answers[2]
    failures = database.scalars(
        select(AuditEvent.action).where(AuditEvent.action == "auth.login_failed")
    )
    assert len(failures) == 3


def test_a_reset_request_makes_the_same_queries_for_any_address(
    client: FlaskClient, app: Flask, database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    customer = Customer(client)
    inactive = Customer(app.test_client())
    with database.session() as session:
        session.execute(update(User).where(User.id == inactive.id).values(is_active_account=False))
        session.commit()
    answers = []
    for email in (customer.email.upper(), "nobody@example.com", inactive.email):
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="app.services.tasks"):
            response = app.test_client().post("/api/account/password/reset", json={"email": email})
        assert response.status_code == 202
        sent = [r.getMessage() for r in caplog.records if r.getMessage().startswith("enqueued")]
        answers.append((response.get_json(), _queries(response), sent))
    assert answers[0] == answers[1] == answers[2]
    assert answers[0][2] == ["enqueued email.send_password_reset"]
    asked = database.scalars(
        select(AuditEvent.user_id)
        .where(AuditEvent.action == "account.password_reset_requested")
        .order_by(AuditEvent.id)
    )
    assert asked == [customer.id, None, None]
