"""Rate limits with production's numbers: 100 requests a minute per client, and stricter
ones per address and per account on the routes that check a password or a code."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from flask import Flask
from werkzeug.test import TestResponse

from app.security.rate_limits import limiter
from config import TestConfig
from devtools.stack.platform import Web
from devtools.stack.ports import free_port
from tests.hardening.conftest import ProxiedClient
from tests.support.accounts import totp_code
from tests.support.api import PASSWORD, error_of, unique_email

pytestmark = pytest.mark.usefixtures("fresh_limits")

ROOT = Path(__file__).resolve().parents[2]
WRONG = "not the password"


def _assert_rate_limited(response: TestResponse) -> None:
    """The 429 of the error contract, saying when to try again (within the minute)."""
    assert response.status_code == 429
    error = error_of(response)
    assert error["code"] == "rate_limited"
    assert "try again in" in error["message"]
    assert 1 <= int(response.headers["Retry-After"]) <= 60


def test_a_client_gets_100_requests_a_minute_then_429_and_others_are_unaffected(
    hardened_app: Flask,
) -> None:
    client = ProxiedClient(hardened_app, "198.51.100.1")
    statuses = {client.get("/api/plans").status_code for _ in range(100)}
    assert statuses == {200}
    _assert_rate_limited(client.get("/api/plans"))
    assert ProxiedClient(hardened_app, "198.51.100.2").get("/api/plans").status_code == 200


def test_health_probes_and_stripe_webhooks_are_never_limited(hardened_app: Flask) -> None:
    client = ProxiedClient(hardened_app, "198.51.100.3")
    for _ in range(100):
        client.get("/api/plans")
    assert client.get("/api/plans").status_code == 429
    assert client.get("/api/health").status_code != 429
    webhook = client.post("/api/billing/webhook", json={}, headers={"Stripe-Signature": "x"})
    assert webhook.status_code != 429


def test_log_in_allows_10_attempts_a_minute_per_address_whatever_the_account(
    hardened_app: Flask,
) -> None:
    client = ProxiedClient(hardened_app, "198.51.100.4")
    for _ in range(10):
        body = {"email": unique_email(), "password": WRONG}
        assert client.post("/api/auth/login", json=body).status_code == 401
    _assert_rate_limited(
        client.post("/api/auth/login", json={"email": unique_email(), "password": WRONG})
    )
    # The address still browses: only the routes that check passwords share this limit.
    assert client.get("/api/plans").status_code == 200


def test_one_account_takes_5_attempts_a_minute_from_any_number_of_addresses(
    hardened_app: Flask,
) -> None:
    owner = ProxiedClient(hardened_app, "198.51.100.5")
    email = unique_email()
    assert (
        owner.post("/api/auth/signup", json={"email": email, "password": PASSWORD}).status_code
        == 201
    )
    for n in range(4):  # the sign-up was the first
        attacker = ProxiedClient(hardened_app, f"203.0.113.{n + 1}")
        login = {"email": email.upper(), "password": WRONG}  # the same account, any case
        assert attacker.post("/api/auth/login", json=login).status_code == 401
    elsewhere = ProxiedClient(hardened_app, "203.0.113.99")
    _assert_rate_limited(
        elsewhere.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    )
    other_account = {"email": unique_email(), "password": WRONG}
    assert elsewhere.post("/api/auth/login", json=other_account).status_code == 401


def test_sign_up_and_password_reset_share_the_per_address_limit(hardened_app: Flask) -> None:
    for _ in range(5):
        client = ProxiedClient(hardened_app, "198.51.100.6")  # a new browser, no session
        signup = {"email": unique_email(), "password": PASSWORD}
        assert client.post("/api/auth/signup", json=signup).status_code == 201
    for _ in range(5):
        client = ProxiedClient(hardened_app, "198.51.100.6")
        reset = {"email": unique_email()}
        assert client.post("/api/account/password/reset", json=reset).status_code == 202
    _assert_rate_limited(
        client.post("/api/auth/signup", json={"email": unique_email(), "password": PASSWORD})
    )


def test_password_reset_mails_to_one_address_are_limited_per_account(
    hardened_app: Flask,
) -> None:
    victim = {"email": unique_email()}
    for n in range(5):
        client = ProxiedClient(hardened_app, f"203.0.114.{n + 1}")
        assert client.post("/api/account/password/reset", json=victim).status_code == 202
    client = ProxiedClient(hardened_app, "203.0.114.99")
    _assert_rate_limited(client.post("/api/account/password/reset", json=victim))


def test_two_factor_codes_are_limited_per_account_across_addresses_and_challenges(
    hardened_app: Flask,
) -> None:
    owner = ProxiedClient(hardened_app, "198.51.100.7")
    email = unique_email()
    signed_up = owner.post("/api/auth/signup", json={"email": email, "password": PASSWORD})
    csrf = {"X-CSRF-Token": signed_up.get_json()["csrf_token"]}
    secret = owner.post("/api/account/2fa/setup", json={"password": PASSWORD}, headers=csrf)
    code = totp_code(secret.get_json()["secret"])
    confirmed = owner.post("/api/account/2fa/confirm", json={"code": code}, headers=csrf)
    assert confirmed.status_code == 200
    with hardened_app.app_context():
        limiter.reset()  # only the guessing below counts

    def challenge() -> str:
        step = ProxiedClient(hardened_app, "203.0.115.1").post(
            "/api/auth/login", json={"email": email, "password": PASSWORD}
        )
        return str(step.get_json()["challenge"])

    first = challenge()
    for n in range(5):
        guess = ProxiedClient(hardened_app, f"203.0.115.{n + 10}")
        wrong = {"challenge": first, "code": "000000"}
        assert guess.post("/api/auth/login/2fa", json=wrong).status_code == 401
    # A new challenge names the same account: its codes wait too.
    guess = ProxiedClient(hardened_app, "203.0.115.99")
    right = {"challenge": challenge(), "code": code}
    _assert_rate_limited(guess.post("/api/auth/login/2fa", json=right))


# -- several gunicorn workers share the counts -------------------------------------------
@pytest.fixture(scope="module")
def gunicorn_url(app: Flask) -> Iterator[str]:
    """The app under gunicorn with four workers and a limit of 20 requests a minute."""
    env = {
        **os.environ,
        "DATABASE_URL": TestConfig.SQLALCHEMY_DATABASE_URI,
        "RATELIMIT_GLOBAL": "20 per minute",
    }
    with open(ROOT / "test-artifacts" / "gunicorn.log", "ab") as log:
        web = Web(free_port(), env, log, workers=4)
        web.start()
        yield web.url
        web.stop()


def test_the_limit_holds_across_gunicorn_workers(gunicorn_url: str) -> None:
    """A new connection per request, so the workers take turns answering."""
    statuses = []
    for _ in range(21):
        with httpx.Client(base_url=gunicorn_url, timeout=5) as fresh_connection:
            statuses.append(fresh_connection.get("/api/plans").status_code)
    assert statuses[:20] == [200] * 20
    assert statuses[20] == 429
