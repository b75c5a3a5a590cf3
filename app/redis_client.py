"""Redis clients that give up at once when Redis is away.

redis-py retries a failed command ten times with backoff by default: seconds per call
while Redis is down, which a request (or a health probe) must never spend. These clients
try once (twice with ``retries=1``, which also gets past a connection left stale by a
Redis restart), each try bounded by ``REDIS_CONNECT_TIMEOUT`` and ``timeout``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import redis
from flask import current_app
from redis.backoff import NoBackoff
from redis.retry import Retry


def failing_fast(
    url: str,
    timeout: float | None = None,
    *,
    retries: int = 0,
    decode_responses: bool = False,
    config: Mapping[str, Any] | None = None,
) -> redis.Redis:
    """A client for ``url``; ``timeout`` (seconds per command) defaults to
    ``REDIS_SOCKET_TIMEOUT``, and connecting never takes longer than it either. Settings
    come from ``config``, by default the current app's."""
    config = config if config is not None else current_app.config
    timeout = timeout or config["REDIS_SOCKET_TIMEOUT"]
    return redis.Redis.from_url(
        url,
        socket_timeout=timeout,
        socket_connect_timeout=min(timeout, config["REDIS_CONNECT_TIMEOUT"]),
        retry=Retry(NoBackoff(), retries),
        decode_responses=decode_responses,
    )
