"""Fixtures for monitoring: settings changed for one test, a Redis of our own that a test
can kill, and a second app wired to it (no worker ever listens there)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import redis
from flask import Flask

from app import create_app
from config import TestConfig
from tests.support.emulators import free_port, wait_until


@contextmanager
def settings(app: Flask, **values: Any) -> Iterator[None]:
    """Change some settings of a running app for the length of the block."""
    saved = {name: app.config[name] for name in values}
    app.config.update(values)
    try:
        yield
    finally:
        app.config.update(saved)


class RedisServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        binary = Path(sys.executable).parent / "redis-server"
        command = str(binary) if binary.exists() else shutil.which("redis-server")
        assert command, "no redis-server binary"
        self.process = subprocess.Popen(
            [
                command,
                *("--bind", "127.0.0.1", "--port", str(self.port)),
                *("--save", "", "--appendonly", "no"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url)
        wait_until(lambda: self._answers(client), timeout=10)
        client.close()

    @staticmethod
    def _answers(client: redis.Redis) -> bool:
        try:
            return bool(client.ping())
        except redis.ConnectionError:
            return False

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@pytest.fixture()
def private_redis() -> Iterator[RedisServer]:
    server = RedisServer()
    yield server
    server.stop()


@pytest.fixture()
def make_app(app: Flask) -> Iterator[Callable[..., Flask]]:
    """Build another app with some settings changed. Building one makes its Celery app the
    current one, so the session app's Celery is made current again afterwards."""

    def build(**values: Any) -> Flask:
        config = type("ChangedConfig", (TestConfig,), values)
        return create_app(config)

    yield build
    celery = app.extensions["celery"]
    celery.set_current()
    celery.set_default()


@pytest.fixture()
def isolated_app(make_app: Callable[..., Flask], private_redis: RedisServer) -> Flask:
    """An app whose Redis, broker and result store are `private_redis`."""
    return make_app(
        REDIS_URL=private_redis.url,
        CELERY_BROKER_URL=private_redis.url,
        CELERY_RESULT_BACKEND=private_redis.url,
        RATELIMIT_STORAGE_URI=private_redis.url,
        CACHE_REDIS_URL=private_redis.url,
    )
