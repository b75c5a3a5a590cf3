"""GET /api/health with each dependency really up or really down."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from devtools.emulators.core import BackgroundServer
from devtools.stack.services import Redis
from tests.monitoring.conftest import settings
from tests.support.emulators import free_port

ALL_CHECKS = {"database", "redis", "broker", "workers", "vultr", "contabo", "stripe"}
CLOSED = f"http://127.0.0.1:{free_port()}"  # nothing listens there


def _health(client: FlaskClient) -> tuple[int, dict[str, Any]]:
    response = client.get("/api/health")
    return response.status_code, response.get_json()


@pytest.fixture()
def fresh_health(app: Flask) -> Iterator[None]:
    """Health checks run afresh on every call during the test."""
    app.extensions["health"] = {}
    with settings(app, HEALTH_CACHE_SECONDS=0):
        yield
    app.extensions["health"] = {}


@pytest.fixture()
def failing_api() -> Iterator[str]:
    """An HTTP server that answers every request with 503."""
    app = Flask("failing")

    @app.route("/", defaults={"anything": ""})
    @app.route("/<path:anything>")
    def down(anything: str) -> tuple[str, int]:
        return "down", 503

    server = BackgroundServer(app, free_port()).start()
    yield server.url
    server.stop()


def test_everything_up_is_healthy_with_a_latency_per_check(
    client: FlaskClient, worker: Any, fresh_health: None
) -> None:
    status, body = _health(client)
    assert status == 200
    assert body["status"] == "healthy", body
    assert set(body["checks"]) == ALL_CHECKS
    for name, check in body["checks"].items():
        assert check["status"] == "healthy", (name, check)
        assert check["latency_ms"] >= 0
        assert check["critical"] == (name in {"database", "redis"})
        assert check["cached"] is False


def test_no_worker_listening_is_degraded_but_still_200(isolated_app: Flask) -> None:
    status, body = _health(isolated_app.test_client())
    assert status == 200
    assert body["status"] == "degraded"
    assert body["checks"]["workers"] == {**body["checks"]["workers"], "status": "unhealthy"}
    assert body["checks"]["workers"]["error"] == "no worker answered"
    assert body["checks"]["broker"]["status"] == "healthy"
    assert body["checks"]["redis"]["status"] == "healthy"


def test_a_killed_redis_is_unhealthy_and_503(isolated_app: Flask, private_redis: Redis) -> None:
    private_redis.stop()
    status, body = _health(isolated_app.test_client())
    assert status == 503
    assert body["status"] == "unhealthy"
    assert body["checks"]["redis"]["status"] == "unhealthy"
    assert body["checks"]["broker"]["status"] == "unhealthy"
    assert body["checks"]["database"]["status"] == "healthy"


def test_an_unreachable_database_is_unhealthy_and_503(make_app: Callable[..., Flask]) -> None:
    app = make_app(SQLALCHEMY_DATABASE_URI=f"postgresql+psycopg://postgres@{CLOSED[7:]}/x")
    status, body = _health(app.test_client())
    assert status == 503
    assert body["status"] == "unhealthy"
    assert body["checks"]["database"]["status"] == "unhealthy"
    assert body["checks"]["database"]["error"] == "OperationalError"
    assert body["checks"]["redis"]["status"] == "healthy"


def test_a_provider_that_does_not_answer_degrades_the_platform(
    app: Flask, client: FlaskClient, worker: Any, fresh_health: None
) -> None:
    with settings(app, VULTR_API_URL=f"{CLOSED}/v2"):
        status, body = _health(client)
    assert status == 200
    assert body["status"] == "degraded"
    assert body["checks"]["vultr"]["status"] == "unhealthy"
    assert body["checks"]["vultr"]["error"] == "ConnectError"
    assert body["checks"]["contabo"]["status"] == "healthy"


def test_stripe_answering_5xx_degrades_the_platform(
    app: Flask, client: FlaskClient, worker: Any, fresh_health: None, failing_api: str
) -> None:
    with settings(app, STRIPE_API_BASE=failing_api):
        status, body = _health(client)
    assert status == 200
    assert body["status"] == "degraded"
    assert body["checks"]["stripe"] == {**body["checks"]["stripe"], "status": "unhealthy"}
    assert body["checks"]["stripe"]["error"] == "HTTP 503"


def test_outside_checks_are_reused_for_a_few_seconds_the_critical_ones_never(
    app: Flask, client: FlaskClient, worker: Any, fresh_health: None
) -> None:
    with settings(app, HEALTH_CACHE_SECONDS=60):
        _, first = _health(client)
        with settings(app, VULTR_API_URL=f"{CLOSED}/v2"):
            _, second = _health(client)
    assert first["checks"]["vultr"]["status"] == "healthy"
    assert second["checks"]["vultr"] == {**first["checks"]["vultr"], "cached": True}
    assert second["checks"]["database"]["cached"] is False

    app.extensions["health"] = {}  # the period is over
    with settings(app, VULTR_API_URL=f"{CLOSED}/v2"):
        _, third = _health(client)
    assert third["checks"]["vultr"]["status"] == "unhealthy"
