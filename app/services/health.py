"""Health of the services the platform depends on, each check timed.

The database and Redis are *critical*: without them no request can be served, so the
platform is ``unhealthy`` (HTTP 503, a load balancer takes the node out). The broker, the
Celery workers, the providers' APIs and Stripe are not: orders are still taken and their
jobs wait (the stuck-job sweeper re-sends what could not be queued), so the platform is
``degraded`` (HTTP 200) while one of them is down.

The non-critical checks reach other machines, so their results are reused for
``HEALTH_CACHE_SECONDS`` and run side by side, each bounded by ``HEALTH_CHECK_TIMEOUT``:
polling every few seconds costs at most one round of them per cache period per process.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

import httpx
import redis
from celery import Celery
from flask import current_app
from sqlalchemy import text

from app.extensions import db

HEALTHY = "healthy"
DEGRADED = "degraded"
UNHEALTHY = "unhealthy"

STRIPE_DEFAULT_BASE = "https://api.stripe.com"


class CheckFailed(Exception):
    """A dependency answered, but not as a healthy one does."""


def _timed(check: Callable[[], None]) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        check()
        result: dict[str, Any] = {"status": HEALTHY}
    except CheckFailed as exc:
        result = {"status": UNHEALTHY, "error": str(exc)}
    except Exception as exc:  # a health check reports every failure, it never raises
        result = {"status": UNHEALTHY, "error": type(exc).__name__}
    result["latency_ms"] = round((time.perf_counter() - started) * 1000, 2)
    return result


def _database() -> None:
    db.session.execute(text("SELECT 1"))
    db.session.rollback()


def _ping_redis(url: str, timeout: float) -> None:
    client = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
    try:
        client.ping()
    finally:
        client.close()


def _ping_workers(celery: Celery, timeout: float) -> None:
    # limit=1: the first answer is enough, so a live worker answers in milliseconds.
    if not celery.control.ping(timeout=timeout, limit=1):
        raise CheckFailed("no worker answered")


def _reach(url: str, timeout: float) -> None:
    """Any HTTP answer below 500 means the API is up (unauthenticated calls get 401/404)."""
    response = httpx.get(url, timeout=timeout)
    if response.status_code >= 500:
        raise CheckFailed(f"HTTP {response.status_code}")


def _external_checks() -> dict[str, Callable[[], None]]:
    """The non-critical checks, bound to plain values so they can run in threads."""
    config = current_app.config
    timeout = config["HEALTH_CHECK_TIMEOUT"]
    celery = current_app.extensions["celery"]
    broker, stripe_base = config["CELERY_BROKER_URL"], config["STRIPE_API_BASE"]
    vultr, contabo = config["VULTR_API_URL"], config["CONTABO_API_URL"]
    return {
        "broker": lambda: _ping_redis(broker, timeout),
        "workers": lambda: _ping_workers(celery, timeout),
        "vultr": lambda: _reach(vultr, timeout),
        "contabo": lambda: _reach(contabo, timeout),
        "stripe": lambda: _reach(stripe_base or STRIPE_DEFAULT_BASE, timeout),
    }


def _run_external() -> dict[str, dict[str, Any]]:
    """Fresh results of the checks whose cached result expired, the rest from the cache."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    cache: dict[str, tuple[float, dict[str, Any]]] = app.extensions.setdefault("health", {})
    now = time.monotonic()
    results = {
        name: {**entry[1], "cached": True} for name, entry in cache.items() if entry[0] > now
    }
    due = {name: check for name, check in _external_checks().items() if name not in results}
    if due:
        # A check stuck past its own timeout (e.g. a broker connection retrying) is reported
        # as timed out; its thread is left to finish on its own.
        budget = app.config["HEALTH_CHECK_TIMEOUT"] * 2
        pool = ThreadPoolExecutor(max_workers=len(due), thread_name_prefix="health")
        futures = {name: pool.submit(_timed, check) for name, check in due.items()}
        for name, future in futures.items():
            try:
                result = future.result(timeout=budget)
            except FutureTimeout:
                result = {"status": UNHEALTHY, "error": "timeout", "latency_ms": budget * 1000}
            cache[name] = (now + app.config["HEALTH_CACHE_SECONDS"], result)
            results[name] = {**result, "cached": False}
        pool.shutdown(wait=False)
    return results


def report() -> dict[str, Any]:
    """Every check with its status, latency and criticality, and the overall status."""
    config = current_app.config
    timeout = config["HEALTH_CHECK_TIMEOUT"]
    critical = {
        "database": _timed(_database),
        "redis": _timed(lambda: _ping_redis(config["REDIS_URL"], timeout)),
    }
    checks = {
        name: {**result, "critical": True, "cached": False} for name, result in critical.items()
    }
    checks.update({name: {**result, "critical": False} for name, result in _run_external().items()})
    if any(c["status"] != HEALTHY for c in checks.values() if c["critical"]):
        overall = UNHEALTHY
    elif any(c["status"] != HEALTHY for c in checks.values()):
        overall = DEGRADED
    else:
        overall = HEALTHY
    return {"status": overall, "checks": dict(sorted(checks.items()))}
