"""The strict Content-Security-Policy lets a page open the console's WebSocket and nothing
more: the site itself when nginx forwards /console/, else the gateway's own origin."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient


def _policy(client: FlaskClient) -> dict[str, str]:
    header = client.get("/login").headers["Content-Security-Policy"]
    return dict(directive.strip().split(" ", 1) for directive in header.split(";"))


def test_a_console_on_this_site_needs_no_exception(client: FlaskClient) -> None:
    policy = _policy(client)
    assert policy["default-src"] == "'self'" and "connect-src" not in policy


def test_a_gateway_elsewhere_is_the_one_origin_added(app: Flask, client: FlaskClient) -> None:
    app.config["CONSOLE_URL"] = "wss://console.example.com:8443/console/"
    try:
        policy = _policy(client)
    finally:
        app.config["CONSOLE_URL"] = "/console/"
    assert policy["connect-src"] == "'self' wss://console.example.com:8443"
    assert policy["default-src"] == "'self'" and policy["object-src"] == "'none'"
