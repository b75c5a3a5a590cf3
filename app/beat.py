"""Beat's scheduler: celery-redbeat's (schedule and lock in Redis), made to ride out a
Redis outage instead of exiting.

While Redis cannot be reached, beat sends nothing and tries again every loop. If its lock
expired meanwhile (the outage outlasted ``BEAT_LOCK_TIMEOUT``, or Redis came back empty),
it never sends on the strength of a lock it no longer holds: it takes the lock again only
if no other beat took it, and puts back its schedule, which an emptied Redis lost;
otherwise it waits as the standby.

Its Redis client comes from the platform's factory (`use_platform_redis`), so beat follows a
Sentinel failover and speaks TLS as every other Redis user does.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from celery import Celery
from redbeat import RedBeatScheduler
from redbeat.schedulers import LUA_EXTEND_TO_SCRIPT, REDBEAT_REDIS_KEY, get_redis
from redis.exceptions import LockError, RedisError
from redis.lock import Lock

from app.redis_client import failing_fast

logger = logging.getLogger(__name__)


def use_platform_redis(celery: Celery, config: Mapping[str, Any]) -> None:
    """Give redbeat its client for ``CELERY_BROKER_URL`` (redbeat opens none of its own
    once one is set): each call bounded and tried at most twice. Nothing connects until
    beat runs."""
    client = failing_fast(
        config["CELERY_BROKER_URL"], retries=1, decode_responses=True, config=config
    )
    setattr(celery, REDBEAT_REDIS_KEY, client)
    # Its URL shows in beat's banner (password masked); its options are the client's own.
    celery.conf.update(redbeat_redis_url=celery.conf.broker_url, redbeat_redis_options={})


class OutageProofScheduler(RedBeatScheduler):
    lock: Lock | None = None

    def tick(self, *args: Any, **kwargs: Any) -> float:
        try:
            if self.lock_key and self.lock is None and not self._take_lock():
                return float(self.max_interval)  # the standby: another beat holds the lock
            return float(super().tick(*args, **kwargs))  # renews the lock, then sends
        except LockError:
            logger.warning("beat: lock lost; taking it again unless another beat has")
            self.lock = None
        except RedisError as exc:
            logger.warning("beat: Redis unreachable (%r); trying again", exc)
        return float(self.max_interval)

    def _take_lock(self) -> bool:
        """Take the lock if no beat holds it, then put the schedule back (an emptied Redis
        lost it); False if another beat holds it."""
        client = get_redis(self.app)
        lock = client.lock(self.lock_key, timeout=self.lock_timeout, sleep=self.max_interval)
        lock.lua_extend = client.register_script(LUA_EXTEND_TO_SCRIPT)  # as redbeat does
        if not lock.acquire(blocking=False):
            return False
        self.lock = lock
        logger.info("beat: Acquired lock; restoring the schedule")
        self.setup_schedule()
        return True
