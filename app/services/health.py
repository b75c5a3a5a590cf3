"""Health of the services the platform depends on, each check timed.

The database and Redis are *critical*: without them no request can be served, so the
platform is ``unhealthy`` (HTTP 503, a load balancer takes the node out). The broker, the
Celery workers, the providers' APIs and Stripe are not: orders are still taken and pages
served (actions on machines answer 503 while the broker is down), so the platform is
``degraded`` (HTTP 200) while one of them is down.

The non-critical checks reach other machines, so their results are reused for
``HEALTH_CACHE_SECONDS``; they and Redis run side by side, one try each (never redis-py's
retries), and a probe waits for them at most 0.9 times ``HEALTH_CHECK_TIMEOUT``: it
answers within that whatever is down.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

import httpx
from celery import Celery
from flask import current_app
from sqlalchemy import text

from app.extensions import db
from app.redis_client import failing_fast
from workers.providers import registry

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


def _ping_redis(url: str, timeout: float, config: Mapping[str, Any]) -> None:
    client = failing_fast(url, timeout, config=config)
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
    providers = {
        name: functools.partial(_reach, url, timeout)
        for name, url in registry.api_urls(config).items()
    }
    return {
        "broker": lambda: _ping_redis(broker, timeout, config),
        # Answers are awaited for less than the probe waits, so "none" is told apart from
        # a timeout.
        "workers": lambda: _ping_workers(celery, timeout * 0.7),
        **providers,  # one check per provider, named as the provider
        "stripe": lambda: _reach(stripe_base or STRIPE_DEFAULT_BASE, timeout),
    }


def _result(future: Future[dict[str, Any]], deadline: float, budget: float) -> dict[str, Any]:
    """The check's result, or timed out at ``deadline`` (e.g. a broker connection retrying);
    its thread is then left to finish on its own."""
    try:
        return future.result(timeout=max(0.0, deadline - time.monotonic()))
    except FutureTimeout:
        return {"status": UNHEALTHY, "error": "timeout", "latency_ms": budget * 1000}


def report() -> dict[str, Any]:
    """Every check with its status, latency and criticality, and the overall status.

    Redis and the non-critical checks whose cached result expired run side by side, in
    threads, while the database is checked; the probe waits for them at most 0.9 times
    ``HEALTH_CHECK_TIMEOUT``."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    config = app.config
    timeout, redis_url = config["HEALTH_CHECK_TIMEOUT"], config["REDIS_URL"]
    cache: dict[str, tuple[float, dict[str, Any]]] = app.extensions.setdefault("health", {})
    now = time.monotonic()
    cached = {name: {**entry[1], "cached": True} for name, entry in cache.items() if entry[0] > now}
    due = {name: check for name, check in _external_checks().items() if name not in cached}
    checks = {"redis": lambda: _ping_redis(redis_url, timeout, config), **due}
    pool = ThreadPoolExecutor(max_workers=len(checks), thread_name_prefix="health")
    futures = {name: pool.submit(_timed, check) for name, check in checks.items()}
    pool.shutdown(wait=False)
    budget = timeout * 0.9
    deadline = time.monotonic() + budget
    database = _timed(_database)
    fresh = {name: _result(future, deadline, budget) for name, future in futures.items()}
    for name in due:
        cache[name] = (now + config["HEALTH_CACHE_SECONDS"], fresh[name])
    results: dict[str, dict[str, Any]] = {
        "database": {**database, "critical": True, "cached": False},
        "redis": {**fresh.pop("redis"), "critical": True, "cached": False},
    }
    results.update({name: {**r, "critical": False, "cached": False} for name, r in fresh.items()})
    results.update({name: {**r, "critical": False} for name, r in cached.items()})
    if any(c["status"] != HEALTHY for c in results.values() if c["critical"]):
        overall = UNHEALTHY
    elif any(c["status"] != HEALTHY for c in results.values()):
        overall = DEGRADED
    else:
        overall = HEALTHY
    return {"status": overall, "checks": dict(sorted(results.items()))}
