"""Health of the services the platform depends on, each check timed."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import redis
from flask import current_app
from sqlalchemy import text

from app.extensions import db

HEALTHY = "healthy"
UNHEALTHY = "unhealthy"


def _timed(check: Callable[[], None]) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        check()
        status = HEALTHY
        error = None
    except Exception as exc:  # a health check reports every failure, it never raises
        status = UNHEALTHY
        error = type(exc).__name__
    result: dict[str, Any] = {
        "status": status,
        "latency_ms": round((time.perf_counter() - started) * 1000, 2),
    }
    if error:
        result["error"] = error
    return result


def _database() -> None:
    db.session.execute(text("SELECT 1"))
    db.session.rollback()


def _redis() -> None:
    timeout = current_app.config["HEALTH_CHECK_TIMEOUT"]
    client = redis.Redis.from_url(
        current_app.config["REDIS_URL"], socket_timeout=timeout, socket_connect_timeout=timeout
    )
    try:
        client.ping()
    finally:
        client.close()


def report() -> dict[str, Any]:
    checks = {"database": _timed(_database), "redis": _timed(_redis)}
    overall = HEALTHY if all(c["status"] == HEALTHY for c in checks.values()) else UNHEALTHY
    return {"status": overall, "checks": checks}
