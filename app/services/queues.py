"""How many tasks wait in each Celery queue, read straight from the Redis broker."""

from __future__ import annotations

from flask import current_app
from kombu.transport.redis import PRIORITY_STEPS, Channel

from app.redis_client import failing_fast
from app.tasking import QUEUES


def _keys(queue: str) -> list[str]:
    """The Redis lists kombu keeps for a queue: one per priority step."""
    return [queue] + [f"{queue}{Channel.sep}{step}" for step in PRIORITY_STEPS if step]


def depths() -> dict[str, int]:
    """Tasks waiting per queue (not those a worker has already taken); raises
    `redis.RedisError` when the broker cannot be reached."""
    config = current_app.config
    client = failing_fast(config["CELERY_BROKER_URL"], config["HEALTH_CHECK_TIMEOUT"])
    try:
        with client.pipeline(transaction=False) as pipe:
            for queue in QUEUES:
                for key in _keys(queue):
                    pipe.llen(key)
            lengths = iter(pipe.execute())
    finally:
        client.close()
    return {queue: sum(next(lengths) for _ in _keys(queue)) for queue in QUEUES}
