"""Two-factor sign-in with TOTP: enrolment, sign-in with a code, recovery codes, turning off."""

import hashlib
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

from flask import Flask
from flask.testing import FlaskClient
from freezegun import freeze_time
from sqlalchemy import select

from app.models import AuditEvent, RecoveryCode, User
from app.models.base import utcnow
from tests.support.accounts import totp_code
from tests.support.api import PASSWORD, Customer, error_of
from tests.support.database import Database


def _enrol(customer: Customer) -> tuple[str, list[str]]:
    """Turn two-factor on; returns the secret and the recovery codes."""
    setup = customer.post("/api/account/2fa/setup", json={"password": PASSWORD})
    assert setup.status_code == 200, setup.get_json()
    secret = setup.get_json()["secret"]
    confirmed = customer.post("/api/account/2fa/confirm", json={"code": totp_code(secret)})
    assert confirmed.status_code == 200, confirmed.get_json()
    return secret, confirmed.get_json()["recovery_codes"]


def _password_step(app: Flask, email: str) -> tuple[FlaskClient, dict]:
    browser = app.test_client()
    response = browser.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200
    return browser, response.get_json()


def test_enrolment_gives_an_otpauth_uri_and_qr_code_and_counts_only_once_confirmed(
    client: FlaskClient, database: Database
) -> None:
    customer = Customer(client)
    response = customer.post("/api/account/2fa/setup", json={"password": PASSWORD})
    assert response.headers["Cache-Control"] == "no-store"
    setup = response.get_json()
    uri = urlparse(setup["otpauth_uri"])
    assert (uri.scheme, uri.netloc) == ("otpauth", "totp")
    assert parse_qs(uri.query)["secret"] == [setup["secret"]]
    assert parse_qs(uri.query)["issuer"] == ["NemoRDP"]
    assert customer.email in uri.path.replace("%40", "@")
    assert setup["qr_svg"].startswith("data:image/svg+xml")
    assert client.get("/api/auth/me").get_json()["two_factor_enabled"] is False

    confirmed = customer.post("/api/account/2fa/confirm", json={"code": totp_code(setup["secret"])})
    assert confirmed.headers["Cache-Control"] == "no-store"
    codes = confirmed.get_json()["recovery_codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    assert client.get("/api/auth/me").get_json()["two_factor_enabled"] is True
    assert client.get("/api/account/2fa").get_json() == {"enabled": True, "recovery_codes_left": 10}

    user = database.scalar(select(User).where(User.id == customer.id))
    assert setup["secret"] not in (user.totp_secret_encrypted or "")
    hashes = set(database.scalars(select(RecoveryCode.code_hash)))
    assert hashes == {hashlib.sha256(c.replace("-", "").encode()).hexdigest() for c in codes}


def test_a_wrong_confirmation_code_leaves_two_factor_off(
    client: FlaskClient, database: Database
) -> None:
    customer = Customer(client)
    secret = customer.post("/api/account/2fa/setup", json={"password": PASSWORD}).get_json()[
        "secret"
    ]
    wrong = f"{(int(totp_code(secret)) + 1) % 1_000_000:06d}"
    for code in (wrong, "abcdef", "12345"):
        response = customer.post("/api/account/2fa/confirm", json={"code": code})
        assert response.status_code == 422, code
    assert client.get("/api/auth/me").get_json()["two_factor_enabled"] is False
    assert database.count(RecoveryCode) == 0


def test_setup_needs_the_password_and_confirm_needs_a_setup(
    client: FlaskClient, database: Database
) -> None:
    customer = Customer(client)
    assert customer.post("/api/account/2fa/confirm", json={"code": "123456"}).status_code == 409
    wrong = customer.post("/api/account/2fa/setup", json={"password": "not my password"})
    assert wrong.status_code == 403
    assert database.scalar(select(User.totp_secret_encrypted)) is None
    _enrol(customer)
    again = customer.post("/api/account/2fa/setup", json={"password": PASSWORD})
    assert again.status_code == 409


def test_signing_in_asks_for_a_code_before_any_session_exists(
    client: FlaskClient, app: Flask, database: Database
) -> None:
    customer = Customer(client)
    secret, _ = _enrol(customer)
    browser, first = _password_step(app, customer.email)
    assert first["two_factor_required"] is True and "user" not in first
    assert browser.get("/api/auth/me").status_code == 401

    response = browser.post(
        "/api/auth/login/2fa",
        json={"challenge": first["challenge"], "code": totp_code(secret, steps_ahead=1)},
    )
    assert response.status_code == 200
    assert response.get_json()["user"]["id"] == customer.id
    assert response.get_json()["two_factor_required"] is False
    assert browser.get("/api/auth/me").get_json()["email"] == customer.email
    actions = database.scalars(select(AuditEvent.action).order_by(AuditEvent.id))
    assert actions[-2:] == ["auth.two_factor_challenged", "auth.login"]


def test_a_wrong_code_is_401_audited_and_a_challenge_allows_only_five(
    client: FlaskClient, app: Flask, database: Database
) -> None:
    customer = Customer(client)
    secret, _ = _enrol(customer)
    browser, first = _password_step(app, customer.email)
    wrong = f"{(int(totp_code(secret)) + 500_000) % 1_000_000:06d}"
    for _ in range(5):
        response = browser.post(
            "/api/auth/login/2fa", json={"challenge": first["challenge"], "code": wrong}
        )
        assert response.status_code == 401 and error_of(response)["message"] == "Wrong code."
    locked = browser.post(
        "/api/auth/login/2fa",
        json={"challenge": first["challenge"], "code": totp_code(secret, steps_ahead=1)},
    )
    assert locked.status_code == 401 and "Too many" in error_of(locked)["message"]
    assert browser.get("/api/auth/me").status_code == 401
    failures = database.scalars(
        select(AuditEvent).where(AuditEvent.action == "auth.two_factor_failed")
    )
    assert len(failures) == 5


def test_a_code_cannot_be_used_twice(client: FlaskClient, app: Flask) -> None:
    customer = Customer(client)
    secret, _ = _enrol(customer)
    code = totp_code(secret, steps_ahead=1)
    browser, first = _password_step(app, customer.email)
    body = {"challenge": first["challenge"], "code": code}
    assert browser.post("/api/auth/login/2fa", json=body).status_code == 200
    replayer, second = _password_step(app, customer.email)
    replay = {"challenge": second["challenge"], "code": code}
    assert replayer.post("/api/auth/login/2fa", json=replay).status_code == 401


def test_a_recovery_code_signs_in_once(client: FlaskClient, app: Flask, database: Database) -> None:
    customer = Customer(client)
    _, codes = _enrol(customer)
    browser, first = _password_step(app, customer.email)
    body = {"challenge": first["challenge"], "code": codes[3].upper()}
    assert browser.post("/api/auth/login/2fa", json=body).status_code == 200
    assert browser.get("/api/account/2fa").get_json()["recovery_codes_left"] == 9
    other, second = _password_step(app, customer.email)
    again = {"challenge": second["challenge"], "code": codes[3]}
    assert other.post("/api/auth/login/2fa", json=again).status_code == 401
    used = database.scalars(
        select(AuditEvent).where(AuditEvent.action == "auth.recovery_code_used")
    )
    assert [e.details["remaining"] for e in used] == [9]


def test_expired_forged_and_stale_challenges_are_401(client: FlaskClient, app: Flask) -> None:
    customer = Customer(client)
    secret, _ = _enrol(customer)
    browser, first = _password_step(app, customer.email)
    code = totp_code(secret, steps_ahead=1)
    with freeze_time(utcnow() + timedelta(minutes=6)):
        expired = {"challenge": first["challenge"], "code": code}
        assert browser.post("/api/auth/login/2fa", json=expired).status_code == 401
    forged = {"challenge": first["challenge"][:-3] + "abc", "code": code}
    assert browser.post("/api/auth/login/2fa", json=forged).status_code == 401
    # A password change meanwhile voids the challenge.
    change = {"current_password": PASSWORD, "new_password": "another long password"}
    assert customer.post("/api/account/password", json=change).status_code == 204
    stale = {"challenge": first["challenge"], "code": code}
    assert browser.post("/api/auth/login/2fa", json=stale).status_code == 401
    assert browser.get("/api/auth/me").status_code == 401


def test_turning_off_needs_the_password_and_a_code(
    client: FlaskClient, app: Flask, database: Database
) -> None:
    customer = Customer(client)
    secret, _ = _enrol(customer)
    code = totp_code(secret, steps_ahead=1)
    wrong = f"{(int(code) + 500_000) % 1_000_000:06d}"
    wrong_code = customer.post(
        "/api/account/2fa/disable", json={"password": PASSWORD, "code": wrong}
    )
    assert wrong_code.status_code == 403 and "code" in error_of(wrong_code)["fields"]
    wrong_password = customer.post(
        "/api/account/2fa/disable", json={"password": "not my password", "code": code}
    )
    assert wrong_password.status_code == 403
    assert client.get("/api/auth/me").get_json()["two_factor_enabled"] is True

    done = customer.post("/api/account/2fa/disable", json={"password": PASSWORD, "code": code})
    assert done.status_code == 204
    assert client.get("/api/auth/me").get_json()["two_factor_enabled"] is False
    assert database.count(RecoveryCode) == 0
    assert database.scalar(select(User.totp_secret_encrypted)) is None
    _, login = _password_step(app, customer.email)
    assert login["two_factor_required"] is False and login["user"]["id"] == customer.id


def test_new_recovery_codes_replace_the_old_ones(client: FlaskClient, app: Flask) -> None:
    customer = Customer(client)
    secret, old_codes = _enrol(customer)
    response = customer.post(
        "/api/account/2fa/recovery-codes", json={"code": totp_code(secret, steps_ahead=1)}
    )
    assert response.status_code == 200
    new_codes = response.get_json()["recovery_codes"]
    assert len(new_codes) == 10 and not set(new_codes) & set(old_codes)
    browser, first = _password_step(app, customer.email)
    stale = {"challenge": first["challenge"], "code": old_codes[0]}
    assert browser.post("/api/auth/login/2fa", json=stale).status_code == 401
    fresh = {"challenge": first["challenge"], "code": new_codes[0]}
    assert browser.post("/api/auth/login/2fa", json=fresh).status_code == 200
