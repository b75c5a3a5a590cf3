"""Security headers on every response, and a dashboard that lives within its CSP."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from tests.support.api import Customer

TEMPLATES = Path(__file__).resolve().parents[2] / "app" / "templates"

EXPECTED = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


@pytest.mark.parametrize(
    "path",
    [
        "/api/plans",  # JSON
        "/api/nothing-here",  # an error in the contract
        "/login",  # a dashboard page
        "/static/css/app.css",  # an asset
        "/",  # a redirect
    ],
)
def test_every_response_carries_the_security_headers(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    for name, value in EXPECTED.items():
        assert response.headers[name] == value, name
    policy = dict(
        directive.strip().split(" ", 1)
        for directive in response.headers["Content-Security-Policy"].split(";")
    )
    assert policy["default-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert policy["object-src"] == "'none'"
    assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"]
    permissions = response.headers["Permissions-Policy"]
    assert "camera=()" in permissions and "microphone=()" in permissions


def test_signed_in_api_responses_carry_them_too(client: FlaskClient) -> None:
    customer = Customer(client)
    response = customer.get("/api/auth/me")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "Content-Security-Policy" in response.headers


def test_no_hsts_where_https_is_not_enforced(client: FlaskClient) -> None:
    assert "Strict-Transport-Security" not in client.get("/api/plans").headers


def test_the_dashboard_templates_have_no_inline_script_or_style() -> None:
    """What the CSP forbids: <script> without src, <style>, style= and on*= handlers."""
    for template in TEMPLATES.rglob("*.html"):
        html = template.read_text()
        for script in re.findall(r"<script\b[^>]*>", html):
            assert "src=" in script, f"{template.name}: inline script {script}"
        assert "<style" not in html, template.name
        assert not re.search(r"\sstyle\s*=", html), template.name
        assert not re.search(r"\son[a-z]+\s*=", html), template.name
