"""HTTPS in production behind a TLS proxy: redirects, HSTS, secure cookies, client address."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.models import AuditEvent
from tests.hardening.conftest import ProxiedClient
from tests.support.api import PASSWORD, Customer
from tests.support.database import Database


def test_plain_http_is_redirected_to_the_same_address_over_https(hardened_app: Flask) -> None:
    browser = ProxiedClient(hardened_app, "198.51.100.20", scheme="http")
    page = browser.get("/app/instances?page=2")
    assert page.status_code == 301
    assert page.headers["Location"] == "https://localhost/app/instances?page=2"
    # A POST keeps its method and body through the redirect.
    login = browser.post("/api/auth/login", json={"email": "a@example.com", "password": "x"})
    assert login.status_code == 308
    assert login.headers["Location"] == "https://localhost/api/auth/login"


def test_health_probes_from_inside_are_answered_over_plain_http(hardened_app: Flask) -> None:
    probe = ProxiedClient(hardened_app, "10.0.0.2", scheme="http").get("/api/health")
    assert probe.status_code in (200, 503)


def test_https_responses_carry_hsts(hardened_app: Flask) -> None:
    response = ProxiedClient(hardened_app, "198.51.100.21").get("/api/plans")
    assert response.status_code == 200
    assert response.headers["Strict-Transport-Security"] == ("max-age=31536000; includeSubDomains")


def test_session_cookies_are_secure_httponly_and_same_site(
    hardened_app: Flask, fresh_limits: None
) -> None:
    browser = ProxiedClient(hardened_app, "198.51.100.22")
    body = {"email": "secure-cookie@example.com", "password": PASSWORD}
    response = browser.post("/api/auth/signup", json=body)
    assert response.status_code == 201
    [cookie] = [c for c in response.headers.getlist("Set-Cookie") if "nemordp_session" in c]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_the_clients_address_comes_from_the_trusted_proxy(
    hardened_app: Flask, database: Database, fresh_limits: None
) -> None:
    browser = ProxiedClient(hardened_app, "198.51.100.23")
    browser.post("/api/auth/login", json={"email": "nobody@example.com", "password": "x" * 12})
    event = database.scalar(select(AuditEvent).where(AuditEvent.action == "auth.login_failed"))
    assert event is not None and event.ip_address == "198.51.100.23"


def test_without_a_trusted_proxy_a_client_cannot_choose_its_address(
    client: FlaskClient, database: Database
) -> None:
    customer = Customer(client)
    client.post("/api/auth/logout", headers={"X-CSRF-Token": customer.csrf})
    spoofed = {"X-Forwarded-For": "192.0.2.66"}
    client.post(
        "/api/auth/login", json={"email": customer.email, "password": PASSWORD}, headers=spoofed
    )
    event = database.scalar(select(AuditEvent).where(AuditEvent.action == "auth.login"))
    assert event is not None and event.ip_address == "127.0.0.1"
