"""A Redis cache for read-mostly data that never serves a value older than the last write.

Entries live in a *namespace* (``"catalogue"``, ``"billing:invoices:42"``, ...) whose
generation is a counter in Redis; invalidating a namespace bumps the counter, so every
later read looks under fresh keys. A reader that loaded the old rows before a write and
stores them after it stores them under the old generation, where nobody looks any more,
and the orphaned entries expire on their own (``CACHE_TTL``).

    rows = cache.get_or_load("catalogue", "active", load_active_plans)
    cache.invalidate_after_commit("catalogue")  # in the unit of work that changes the rows

Values must be JSON (dump ORM rows with their schema first). If Redis cannot be reached the
loader runs every time: the cache never makes a request fail.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import TypeVar

import redis
from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from app.extensions import db
from app.redis_client import failing_fast

logger = logging.getLogger(__name__)

T = TypeVar("T")

KEY_PREFIX = "nemordp:cache"
PENDING = "cache_invalidations"  # Session.info key: namespaces to bump after the commit


def _client() -> redis.Redis:
    return current_app.extensions["cache"]


def _generation_key(namespace: str) -> str:
    return f"{KEY_PREFIX}:{namespace}:generation"


def get_or_load(namespace: str, key: str, loader: Callable[[], T], ttl: int | None = None) -> T:
    """The cached value of ``key`` in ``namespace``, or ``loader()``, stored for next time.

    ``ttl`` (seconds) defaults to ``CACHE_TTL``.
    """
    client = _client()
    try:
        generation = int(client.get(_generation_key(namespace)) or 0)
        entry_key = f"{KEY_PREFIX}:{namespace}:{generation}:{key}"
        cached = client.get(entry_key)
    except redis.RedisError:
        logger.warning("cache unreachable; loading %s:%s", namespace, key, exc_info=True)
        return loader()
    if cached is not None:
        return json.loads(cached)
    value = loader()
    try:
        client.set(entry_key, json.dumps(value), ex=ttl or current_app.config["CACHE_TTL"])
    except redis.RedisError:
        logger.warning("cache unreachable; %s:%s not stored", namespace, key, exc_info=True)
    return value


def invalidate(namespace: str) -> None:
    """Make every entry of the namespace unreachable, now (call after the commit)."""
    try:
        _client().incr(_generation_key(namespace))
    except redis.RedisError:
        # The entries then live out their TTL: say so loudly.
        logger.error("cache invalidation of %s failed", namespace, exc_info=True)


def invalidate_after_commit(namespace: str) -> None:
    """Invalidate the namespace once the current transaction commits (not if it rolls back).

    Invalidating before the commit would let a reader cache the old rows again in between.
    """
    db.session.info.setdefault(PENDING, set()).add(namespace)


@event.listens_for(Session, "after_commit")
def _invalidate_committed(session: Session) -> None:
    for namespace in session.info.pop(PENDING, ()):
        invalidate(namespace)


@event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back(session: Session, previous_transaction: SessionTransaction) -> None:
    if previous_transaction.parent is None:  # the unit of work, not a savepoint within it
        session.info.pop(PENDING, None)


def init_cache(app: Flask) -> None:
    # One try per call: a cache that is down costs a request a miss, never seconds.
    app.extensions["cache"] = failing_fast(
        app.config["CACHE_REDIS_URL"], 0.5, decode_responses=True, config=app.config
    )
