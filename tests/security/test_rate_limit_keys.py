"""Whom each rate limit counts, with production's numbers: the account a sign-in names
(whoever is signed in), the signed-in client per route group, and what happens while the
limits' storage is down."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from app import create_app
from app.security.rate_limits import limiter
from config import BaseConfig, TestConfig
from tests.support.api import PASSWORD, Customer, error_of, unique_email

WRONG = "not the password"


class LimitedConfig(TestConfig):
    RATELIMIT_GLOBAL = BaseConfig.RATELIMIT_GLOBAL
    RATELIMIT_AUTH_PER_ADDRESS = BaseConfig.RATELIMIT_AUTH_PER_ADDRESS
    RATELIMIT_AUTH_PER_ACCOUNT = BaseConfig.RATELIMIT_AUTH_PER_ACCOUNT


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # nothing listens once the socket is closed


class StorageDownConfig(LimitedConfig):
    RATELIMIT_STORAGE_URI = f"redis://127.0.0.1:{_closed_port()}/0"


@pytest.fixture(scope="module")
def limited_app(app: Flask) -> Flask:
    """Built after the suite's app, whose database and Redis it shares."""
    return create_app(LimitedConfig)


@pytest.fixture(autouse=True)
def fresh_limits(limited_app: Flask) -> Iterator[None]:
    with limited_app.app_context():
        limiter.reset()
    yield
    with limited_app.app_context():
        limiter.reset()


def _from(client: FlaskClient, address: str) -> FlaskClient:
    """The client's next requests come from this address."""
    client.environ_base["REMOTE_ADDR"] = address
    return client


def _customer(app: Flask, address: str) -> Customer:
    return Customer(_from(app.test_client(), address))


def _reset_counts(app: Flask) -> None:
    with app.app_context():
        limiter.reset()


def _assert_rate_limited(response: TestResponse) -> None:
    assert response.status_code == 429
    assert error_of(response)["code"] == "rate_limited"
    assert 1 <= int(response.headers["Retry-After"]) <= 60


# -- the account a sign-in names ---------------------------------------------------------
def test_signed_in_guessers_are_counted_against_the_account_they_guess(
    limited_app: Flask,
) -> None:
    victim = unique_email()
    attackers = [_customer(limited_app, f"198.51.100.{11 + n}") for n in range(3)]
    signup = {"email": victim, "password": PASSWORD}
    assert limited_app.test_client().post("/api/auth/signup", json=signup).status_code == 201
    _reset_counts(limited_app)  # only the guessing below counts

    statuses = []
    for n in range(12):
        attacker = attackers[n % 3]
        _from(attacker.client, f"203.0.113.{20 + n}")
        guess = {"email": victim, "password": WRONG}
        statuses.append(attacker.post("/api/auth/login", json=guess).status_code)
    assert statuses == [401] * 5 + [429] * 7


def test_reset_mails_asked_by_signed_in_callers_are_counted_against_the_address_asked_for(
    limited_app: Flask,
) -> None:
    victim = {"email": unique_email()}
    attackers = [_customer(limited_app, f"198.51.100.{20 + n}") for n in range(2)]
    _reset_counts(limited_app)
    statuses = []
    for n in range(6):
        attacker = attackers[n % 2]
        _from(attacker.client, f"203.0.114.{20 + n}")
        statuses.append(attacker.post("/api/account/password/reset", json=victim).status_code)
    assert statuses == [202] * 5 + [429]


def test_a_password_change_is_still_counted_against_the_signed_in_account(
    limited_app: Flask,
) -> None:
    customer = _customer(limited_app, "198.51.100.25")
    _reset_counts(limited_app)
    statuses = []
    for n in range(6):
        _from(customer.client, f"203.0.115.{20 + n}")
        change = {"current_password": WRONG, "new_password": "a brand new password"}
        statuses.append(customer.post("/api/account/password", json=change).status_code)
    assert statuses == [403] * 5 + [429]


# -- the global limit: per client and route group ----------------------------------------
def test_a_signed_in_client_shares_100_requests_a_minute_across_a_route_group_and_addresses(
    limited_app: Flask,
) -> None:
    customer = _customer(limited_app, "198.51.100.30")
    for n in range(50):
        _from(customer.client, "198.51.100.31")
        assert customer.get("/api/instances").status_code == 200
        _from(customer.client, "198.51.100.32")
        assert customer.get(f"/api/instances/{1_000_000 + n}").status_code == 404
    limited = customer.get("/api/instances")
    _assert_rate_limited(limited)
    assert limited.headers["X-RateLimit-Limit"] == "100"
    assert limited.headers["X-RateLimit-Remaining"] == "0"
    # Another route group of the same account, and another account at the same address,
    # have counts of their own.
    assert customer.get("/api/billing/invoices").status_code == 200
    neighbour = _customer(limited_app, "198.51.100.32")
    assert neighbour.get("/api/instances").status_code == 200


def test_limited_responses_carry_the_rate_limit_headers(limited_app: Flask) -> None:
    client = _from(limited_app.test_client(), "198.51.100.40")
    response = client.get("/api/plans")
    assert response.status_code == 200
    assert response.headers["X-RateLimit-Limit"] == "100"
    assert response.headers["X-RateLimit-Remaining"] == "99"
    assert int(response.headers["X-RateLimit-Reset"]) > time.time()
    login = client.post("/api/auth/login", json={"email": unique_email(), "password": WRONG})
    assert login.status_code == 401
    assert login.headers["X-RateLimit-Limit"] in {"5", "10"}


# -- while the limits' storage is down ---------------------------------------------------
@pytest.fixture(scope="module")
def storage_down_app(limited_app: Flask) -> Flask:
    return create_app(StorageDownConfig)


def test_with_the_storage_down_reads_proceed_and_sign_in_answers_503_at_once(
    storage_down_app: Flask, limited_app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    client = _from(storage_down_app.test_client(), "198.51.100.50")
    started = time.monotonic()
    with caplog.at_level(logging.ERROR, logger="app.security.rate_limits"):
        assert client.get("/api/plans").status_code == 200
    assert "served unlimited" in caplog.text
    for path, body in [
        ("/api/auth/login", {"email": unique_email(), "password": WRONG}),
        ("/api/auth/signup", {"email": unique_email(), "password": PASSWORD}),
        ("/api/account/password/reset", {"email": unique_email()}),
    ]:
        refused = client.post(path, json=body)
        assert refused.status_code == 503, path
        assert error_of(refused)["code"] == "service_unavailable"
        assert int(refused.headers["Retry-After"]) > 0
    assert time.monotonic() - started < 2
    # The app next to it still counts in its own storage.
    other = _from(limited_app.test_client(), "198.51.100.51")
    for _ in range(100):
        other.get("/api/plans")
    _assert_rate_limited(other.get("/api/plans"))


def test_the_account_export_is_never_cached(limited_app: Flask) -> None:
    customer = _customer(limited_app, "198.51.100.60")
    response = customer.get("/api/account/export")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
