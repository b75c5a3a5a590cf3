"""How many tasks wait in each Celery queue, read straight from the Redis broker."""

from __future__ import annotations

import redis
from flask import current_app
from kombu.transport.redis import PRIORITY_STEPS, Channel

from app.tasking import QUEUES


def _keys(queue: str) -> list[str]:
    """The Redis lists kombu keeps for a queue: one per priority step."""
    return [queue] + [f"{queue}{Channel.sep}{step}" for step in PRIORITY_STEPS if step]


def depths() -> dict[str, int]:
    """Tasks waiting per queue (not those a worker has already taken); raises
    `redis.RedisError` when the broker cannot be reached."""
    timeout = current_app.config["HEALTH_CHECK_TIMEOUT"]
    client = redis.Redis.from_url(
        current_app.config["CELERY_BROKER_URL"],
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
    )
    try:
        with client.pipeline(transaction=False) as pipe:
            for queue in QUEUES:
                for key in _keys(queue):
                    pipe.llen(key)
            lengths = iter(pipe.execute())
    finally:
        client.close()
    return {queue: sum(next(lengths) for _ in _keys(queue)) for queue in QUEUES}
