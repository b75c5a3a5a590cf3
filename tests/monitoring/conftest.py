"""Fixtures for monitoring: settings changed for one test, a Redis of our own that a test
can kill, and a second app wired to it (no worker ever listens there)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from app import create_app
from config import TestConfig
from devtools.stack.ports import free_port
from devtools.stack.services import Redis


@contextmanager
def settings(app: Flask, **values: Any) -> Iterator[None]:
    """Change some settings of a running app for the length of the block."""
    saved = {name: app.config[name] for name in values}
    app.config.update(values)
    try:
        yield
    finally:
        app.config.update(saved)


@pytest.fixture()
def private_redis(tmp_path: Path) -> Iterator[Redis]:
    server = Redis(tmp_path / "redis", free_port(), subprocess.DEVNULL)
    server.start()
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
def isolated_app(make_app: Callable[..., Flask], private_redis: Redis) -> Flask:
    """An app whose Redis, broker and result store are `private_redis`."""
    return make_app(
        REDIS_URL=private_redis.url,
        CELERY_BROKER_URL=private_redis.url,
        CELERY_RESULT_BACKEND=private_redis.url,
        RATELIMIT_STORAGE_URI=private_redis.url,
        CACHE_REDIS_URL=private_redis.url,
    )
