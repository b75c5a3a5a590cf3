"""Redis behind Sentinels: a master, its replica and three Sentinels (quorum 2, Debian's
redis-sentinel) on loopback ports. An app and a real Celery worker given only the
``redis+sentinel://`` URL use it for everything (cache, rate limits, alerts, queue depths,
health, beat's client, the provider throttle, Celery's broker and result store); the master
is killed, and once the Sentinels have promoted the replica all of it works again."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from flask import Flask
from redbeat.schedulers import get_redis

from app import cache, create_app
from app.services import alerts, health, queues
from config import TestConfig
from devtools.stack.platform import Worker
from devtools.stack.ports import free_port, wait_until
from devtools.stack.redis_ha import DEBIAN_REDIS_SENTINEL, PACKAGE_OF, Replica, Sentinel
from devtools.stack.services import Redis
from tests.deploy.conftest import _ensure_debian_package
from tests.support.mailbox import Mailbox
from workers.providers.throttle import Throttle

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
MASTER = "mymaster"
# Empty: each follows REDIS_URL.
DERIVED_URLS = (
    "CELERY_BROKER_URL",
    "CELERY_RESULT_BACKEND",
    "RATELIMIT_STORAGE_URI",
    "CACHE_REDIS_URL",
)


class Cluster:
    """The servers and Sentinels, and the address the Sentinels give for the master."""

    def __init__(self, directory: Path, log: Any) -> None:
        self.master = Redis(directory / "master", free_port(), log)
        self.replica = Replica(directory / "replica", free_port(), self.master.port, log)
        self.sentinels = [
            Sentinel(directory / f"sentinel-{n}", free_port(), self.master.port, log)
            for n in range(3)
        ]
        hosts = ",".join(f"127.0.0.1:{s.port}" for s in self.sentinels)
        self.url = f"redis+sentinel://{hosts}/{MASTER}/0"

    def start(self) -> None:
        self.master.start()
        self.replica.start()
        for sentinel in self.sentinels:
            sentinel.start()
        # A failover needs the Sentinels to know the replica and one another.
        assert wait_until(self._all_acquainted, 30, 0.2), "the Sentinels never met"

    def stop(self) -> None:
        for process in [*self.sentinels, self.replica, self.master]:
            process.kill()

    def _ask(self, sentinel: Sentinel) -> dict[str, Any]:
        client = redis.Redis(port=sentinel.port, socket_timeout=1, decode_responses=True)
        try:
            return client.sentinel_master(MASTER)
        finally:
            client.close()

    def _all_acquainted(self) -> bool:
        try:
            states = [self._ask(sentinel) for sentinel in self.sentinels]
        except redis.RedisError:
            return False
        return all(s["num-slaves"] == 1 and s["num-other-sentinels"] == 2 for s in states)

    def master_port(self) -> int:
        return int(self._ask(self.sentinels[0])["port"])


@pytest.fixture()
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    _ensure_debian_package(DEBIAN_REDIS_SENTINEL, PACKAGE_OF[DEBIAN_REDIS_SENTINEL])
    with open(ARTIFACTS / "sentinel.log", "ab") as log:
        servers = Cluster(tmp_path, log)
        try:
            servers.start()
            yield servers
        finally:
            servers.stop()


@pytest.fixture()
def sentinel_app(app: Flask, cluster: Cluster) -> Iterator[Flask]:
    """An app told only the Sentinels' URL; the session app's Celery is made current again
    afterwards."""
    values = dict.fromkeys(("REDIS_URL", *DERIVED_URLS), cluster.url)
    config = type("SentinelConfig", (TestConfig,), values)
    yield create_app(config)
    celery = app.extensions["celery"]
    celery.set_current()
    celery.set_default()


@pytest.fixture()
def sentinel_worker(sentinel_app: Flask, cluster: Cluster, mailbox: Mailbox) -> Iterator[Worker]:
    """A real worker started with the Sentinels' URL as its only Redis setting."""
    env = {**os.environ, "DATABASE_URL": TestConfig.SQLALCHEMY_DATABASE_URI}
    env.update({"REDIS_URL": cluster.url, **dict.fromkeys(DERIVED_URLS, "")})
    with open(ARTIFACTS / "sentinel-worker.log", "ab") as log:
        worker = Worker(env, log, celery=sentinel_app.extensions["celery"], concurrency=1)
        try:
            worker.start()
            yield worker
        finally:
            worker.stop()


def _eventually(check: Callable[[], bool], timeout: float) -> bool:
    """Whether ``check`` holds within ``timeout``: the first call after a failover may
    still meet a connection to the dead master, which is then dropped."""
    return wait_until(check, timeout, 0.2)


def _every_redis_user_works(app: Flask, mailbox: Mailbox, round_name: str) -> None:
    client = app.test_client()
    with app.app_context():
        namespace = f"sentinel-{uuid.uuid4()}"

        def cached() -> bool:
            key = str(uuid.uuid4())
            cache.get_or_load(namespace, key, lambda: "stored")
            return cache.get_or_load(namespace, key, lambda: "loaded again") == "stored"

        assert _eventually(cached, 10), "the cache never kept a value"

        def limited() -> bool:
            response = client.get("/api/plans")
            return response.status_code == 200 and "X-RateLimit-Remaining" in response.headers

        assert _eventually(limited, 10), "the rate limits never counted"

        report = health.report()
        assert report["checks"]["redis"]["status"] == "healthy", report
        assert report["checks"]["broker"]["status"] == "healthy", report
        assert set(queues.depths()) >= {"email", "default"}
        get_redis(app.extensions["celery"]).ping()  # beat's client
        app.extensions["celery"].backend.client.ping()  # the result store
        throttle = Throttle("100/second", namespace, app.config["REDIS_URL"], config=app.config)
        throttle.wait()

        mailbox.clear()
        assert alerts.raise_alert(alerts.Alert(f"sentinel:{round_name}", round_name, "body"))
    mail = mailbox.wait_for(app.config["ALERT_EMAIL"], timeout=30)
    assert round_name in mail["Subject"]


def test_everything_on_redis_follows_a_sentinel_failover(
    cluster: Cluster, sentinel_app: Flask, sentinel_worker: Worker, mailbox: Mailbox
) -> None:
    started = time.monotonic()
    _every_redis_user_works(sentinel_app, mailbox, "before")

    cluster.master.kill()  # SIGKILL: no goodbye to anyone
    assert wait_until(lambda: cluster.master_port() == cluster.replica.port, 30, 0.2), (
        "the Sentinels never promoted the replica"
    )

    _every_redis_user_works(sentinel_app, mailbox, "after")
    assert time.monotonic() - started < 90
