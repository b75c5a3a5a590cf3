"""X-Forwarded-* headers count only from the configured proxies, and only the headers each
is said to set: no client chooses its address (dodging per-address limits), the host our
redirects point to, or a path prefix."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from app import create_app
from app.models import AuditEvent
from config import ProductionConfig, TestConfig
from tests.support.database import Database

PROXY = "10.0.0.2"  # in the trusted network below
STRANGER = "203.0.113.5"
FORGED = {
    "X-Forwarded-For": "192.0.2.66",
    "X-Forwarded-Host": "evil.example",
    "X-Forwarded-Prefix": "/evil",
    "X-Forwarded-Port": "8443",
}


@pytest.fixture()
def make_app(app: Flask) -> Iterator[Callable[..., Flask]]:
    """An app with some proxy settings; the suite's Celery app is current again after."""

    def build(**values: Any) -> Flask:
        return create_app(type("ProxiedConfig", (TestConfig,), values))

    yield build
    app.extensions["celery"].set_current()
    app.extensions["celery"].set_default()


def _login_address(app: Flask, database: Database, peer: str, headers: dict[str, str]) -> str:
    """The address the audit trail records for a failed log-in from ``peer``."""
    app.test_client().post(
        "/api/auth/login",
        json={"email": "nobody@example.com", "password": "x" * 12},
        headers=headers,
        environ_base={"REMOTE_ADDR": peer},
    )
    event = database.scalar(select(AuditEvent).where(AuditEvent.action == "auth.login_failed"))
    assert event is not None and event.ip_address is not None
    return event.ip_address


def _redirect(app: Flask, peer: str, headers: dict[str, str]) -> str:
    response = app.test_client().get(
        "/app/instances", headers=headers, environ_base={"REMOTE_ADDR": peer}
    )
    assert response.status_code == 301
    return str(response.headers["Location"])


def test_production_trusts_no_proxy_until_told(make_app: Callable[..., Flask]) -> None:
    assert ProductionConfig.PROXY_TRUSTED_NETWORKS == ""
    for name in ("FOR", "PROTO", "HOST", "PORT", "PREFIX"):
        assert getattr(ProductionConfig, f"PROXY_FIX_{name}") == 0


def test_a_client_not_behind_a_trusted_proxy_cannot_choose_its_address(
    make_app: Callable[..., Flask], database: Database
) -> None:
    app = make_app(PROXY_TRUSTED_NETWORKS="10.0.0.0/8", PROXY_FIX_FOR=1, PROXY_FIX_PROTO=1)
    assert _login_address(app, database, STRANGER, FORGED) == STRANGER


def test_the_trusted_proxy_gives_the_clients_address(
    make_app: Callable[..., Flask], database: Database
) -> None:
    app = make_app(PROXY_TRUSTED_NETWORKS="10.0.0.0/8", PROXY_FIX_FOR=1, PROXY_FIX_PROTO=1)
    assert _login_address(app, database, PROXY, FORGED) == "192.0.2.66"


def test_forwarded_host_and_prefix_never_steer_a_redirect_unless_configured(
    make_app: Callable[..., Flask],
) -> None:
    app = make_app(
        PROXY_TRUSTED_NETWORKS="10.0.0.0/8", PROXY_FIX_FOR=1, PROXY_FIX_PROTO=1, FORCE_HTTPS=True
    )
    plain = {**FORGED, "X-Forwarded-Proto": "http"}
    # From the proxy: its scheme counts, the headers it is not said to set do not.
    assert _redirect(app, PROXY, plain) == "https://localhost/app/instances"
    # From anyone else, nothing forwarded counts, not even the scheme.
    assert _redirect(app, STRANGER, {**plain, "X-Forwarded-Proto": "https"}) == (
        "https://localhost/app/instances"
    )


def test_a_proxy_said_to_set_the_host_is_believed_only_from_its_network(
    make_app: Callable[..., Flask],
) -> None:
    app = make_app(
        PROXY_TRUSTED_NETWORKS="10.0.0.0/8",
        PROXY_FIX_PROTO=1,
        PROXY_FIX_HOST=1,
        FORCE_HTTPS=True,
    )
    plain = {"X-Forwarded-Proto": "http", "X-Forwarded-Host": "rdp.example.com"}
    assert _redirect(app, PROXY, plain) == "https://rdp.example.com/app/instances"
    assert _redirect(app, STRANGER, plain) == "https://localhost/app/instances"


@pytest.mark.parametrize(
    ("settings", "refusal"),
    [
        ({"PROXY_FIX_FOR": 1}, "PROXY_TRUSTED_NETWORKS is empty"),
        (
            {"PROXY_FIX_FOR": 1, "PROXY_TRUSTED_NETWORKS": "10.0.0.0/33"},
            "PROXY_TRUSTED_NETWORKS: ",
        ),
        ({"PROXY_FIX_HOST": -1, "PROXY_TRUSTED_NETWORKS": "10.0.0.0/8"}, "PROXY_FIX_HOST"),
    ],
)
def test_proxy_settings_that_would_trust_anyone_stop_the_start(
    make_app: Callable[..., Flask], settings: dict[str, Any], refusal: str
) -> None:
    with pytest.raises(ValueError, match=refusal):
        make_app(**settings)
