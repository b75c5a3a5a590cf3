"""Redis over TLS: a server that speaks only TLS (Debian's redis-server) with a self-signed
certificate made here. An app told ``rediss://`` and the certificate's CA uses it for the
cache, rate limits, health, queue depths, beat's client, the throttle and Celery's broker and
result store; without the CA it refuses the server's certificate."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from celery import Celery
from flask import Flask
from redbeat.schedulers import get_redis

from app import cache, create_app
from app.redis_client import failing_fast
from app.services import health, queues
from config import TestConfig
from devtools.stack.ports import free_port
from devtools.stack.redis_ha import DEBIAN_REDIS_SERVER, PACKAGE_OF, TlsRedis
from tests.deploy.conftest import _ensure_debian_package
from workers.providers.throttle import Throttle

URL_SETTINGS = (
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "CELERY_RESULT_BACKEND",
    "RATELIMIT_STORAGE_URI",
    "CACHE_REDIS_URL",
)


@pytest.fixture()
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, and its key."""
    cert, key = tmp_path / "redis.pem", tmp_path / "redis.key"
    command = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
    command += ["-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1"]
    command += ["-addext", "subjectAltName=IP:127.0.0.1"]
    subprocess.run(command, check=True, capture_output=True)
    return cert, key


@pytest.fixture()
def tls_redis(tmp_path: Path, certificate: tuple[Path, Path]) -> Iterator[TlsRedis]:
    _ensure_debian_package(DEBIAN_REDIS_SERVER, PACKAGE_OF[DEBIAN_REDIS_SERVER])  # built with TLS
    server = TlsRedis(tmp_path / "redis", free_port(), *certificate, subprocess.DEVNULL)
    server.start()
    yield server
    server.stop()


@pytest.fixture()
def make_app(app: Flask, tls_redis: TlsRedis) -> Iterator[Any]:
    """Apps on the TLS server; the session app's Celery is made current again afterwards."""

    def build(**values: Any) -> Flask:
        url = f"rediss://127.0.0.1:{tls_redis.port}/0"
        config = type("TlsConfig", (TestConfig,), {**dict.fromkeys(URL_SETTINGS, url), **values})
        return create_app(config)

    yield build
    celery: Celery = app.extensions["celery"]
    celery.set_current()
    celery.set_default()


def test_every_redis_user_speaks_tls_checking_the_certificate(
    make_app: Any, certificate: tuple[Path, Path]
) -> None:
    app = make_app(REDIS_TLS_CA_PATH=str(certificate[0]))
    celery: Celery = app.extensions["celery"]
    with app.app_context():
        namespace = f"tls-{uuid.uuid4()}"
        cache.get_or_load(namespace, "k", lambda: "stored")
        assert cache.get_or_load(namespace, "k", lambda: "loaded again") == "stored"

        response = app.test_client().get("/api/plans")
        assert response.status_code == 200 and "X-RateLimit-Remaining" in response.headers

        report = health.report()
        assert report["checks"]["redis"]["status"] == "healthy", report
        assert report["checks"]["broker"]["status"] == "healthy", report

        celery.send_task("email.send_alert", args=["tls", "subject", "body"], ignore_result=True)
        assert queues.depths()["email"] == 1
        assert get_redis(celery).ping()  # beat's client
        assert celery.backend.client.ping()  # the result store
        Throttle("10/second", namespace, app.config["REDIS_URL"], config=app.config).wait()


def test_without_the_ca_the_servers_certificate_is_refused(make_app: Any) -> None:
    app = make_app(REDIS_TLS_CA_PATH="")
    with app.app_context():
        with pytest.raises(redis.ConnectionError, match="certificate verify failed"):
            failing_fast(app.config["REDIS_URL"]).ping()
        assert health.report()["checks"]["redis"]["status"] == "unhealthy"
