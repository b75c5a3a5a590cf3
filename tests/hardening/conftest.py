"""An app with production's security settings (rate limits, HTTPS behind a proxy), built
on the test services, and clients that reach it as a browser behind the proxy would."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from app.security.rate_limits import limiter
from config import BaseConfig, ProductionConfig, TestConfig


class HardenedConfig(TestConfig):
    RATELIMIT_GLOBAL = BaseConfig.RATELIMIT_GLOBAL
    RATELIMIT_AUTH_PER_ADDRESS = BaseConfig.RATELIMIT_AUTH_PER_ADDRESS
    RATELIMIT_AUTH_PER_ACCOUNT = BaseConfig.RATELIMIT_AUTH_PER_ACCOUNT
    # One TLS proxy on this host, as production is documented to run.
    PROXY_TRUSTED_NETWORKS = "127.0.0.1/32"
    PROXY_FIX_FOR = 1
    PROXY_FIX_PROTO = 1
    FORCE_HTTPS = ProductionConfig.FORCE_HTTPS
    SESSION_COOKIE_SECURE = ProductionConfig.SESSION_COOKIE_SECURE
    REMEMBER_COOKIE_SECURE = ProductionConfig.REMEMBER_COOKIE_SECURE


@pytest.fixture(scope="session")
def hardened_app(app: Flask) -> Flask:
    """Built after the suite's app, whose database and Redis it shares."""
    return create_app(HardenedConfig)


@pytest.fixture()
def fresh_limits(hardened_app: Flask) -> Iterator[None]:
    """Every count starts at zero, and none is left for the next test."""
    with hardened_app.app_context():
        limiter.reset()
    yield
    with hardened_app.app_context():
        limiter.reset()


class ProxiedClient:
    """A test client whose requests arrive through the TLS proxy from one address."""

    def __init__(self, app: Flask, address: str, scheme: str = "https") -> None:
        self.client: FlaskClient = app.test_client()
        # Over HTTPS, CSRF checks also want a same-origin Referer, as browsers send.
        self.headers = {
            "X-Forwarded-For": address,
            "X-Forwarded-Proto": scheme,
            "Referer": f"{scheme}://localhost/app",
        }

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.client.get(
            path, headers={**self.headers, **kwargs.pop("headers", {})}, **kwargs
        )

    def post(self, path: str, **kwargs: Any) -> Any:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return self.client.post(path, headers=headers, **kwargs)
