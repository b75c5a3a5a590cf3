"""Enqueueing background work by task name (`app.task_names`), so the web side never imports
task code; at once, or once the current transaction has committed."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import current_app
from kombu.exceptions import OperationalError
from redis.exceptions import RedisError
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.errors import ServiceUnavailable
from app.extensions import db
from app.redis_client import failing_fast

logger = logging.getLogger(__name__)

# The session's sends waiting for its commit: (task name, arguments, task id, on_failed).
_AFTER_COMMIT = "nemordp_after_commit"


class QueueUnavailable(ServiceUnavailable):
    message = "Background work cannot be queued right now; nothing was changed. Try again shortly."


def require_broker() -> None:
    """Refuse (503, nothing written) work that would wait on a broker that is down.

    Checked before the unit of work commits; the send itself comes after the commit. If
    the broker goes away in between, the row stays queued and the stuck-job sweeper sends
    it once the broker is back.
    """
    if not _broker_answers():
        logger.warning("request refused: broker unreachable")
        raise QueueUnavailable()


def _broker_answers() -> bool:
    """A PING over the app's own pooled connection to the broker: a new connection for each
    request cost as much as the rest of a restart. Two tries, so a connection left stale by
    a broker restart is replaced instead of refusing a request."""
    client = current_app.extensions.get("broker_ping")
    if client is None:
        client = failing_fast(current_app.config["CELERY_BROKER_URL"], retries=1)
        current_app.extensions["broker_ping"] = client
    try:
        return bool(client.ping())
    except RedisError:
        return False


def enqueue(
    task_name: str, *args: Any, task_id: str | None = None, countdown: float = 0
) -> str | None:
    """Send a task (arguments are ids) to its queue; call only after the commit.

    If the broker is unreachable the work is not lost: its row stays queued and the
    stuck-job sweeper sends it again. The caller gets None.
    """
    celery = current_app.extensions["celery"]
    try:
        # ignore_result: `task_ignore_result` does not cover send_task, which would
        # otherwise subscribe to the result store first and retry for many seconds.
        result = celery.send_task(
            task_name, args=list(args), task_id=task_id, countdown=countdown, ignore_result=True
        )
    except (OperationalError, RedisError):
        logger.error("broker unreachable; %s left for the sweeper", task_name)
        return None
    logger.info("enqueued %s", task_name, extra={"task_id": result.id})
    return str(result.id)


def enqueue_after_commit(
    task_name: str,
    *args: Any,
    task_id: str | None = None,
    on_failed: Callable[[], None] | None = None,
) -> None:
    """Send a task once the current transaction has committed, so the worker finds what it
    wrote; nothing is sent if it rolls back. ``on_failed`` runs if the broker cannot take
    it (after the commit: it may not use the session)."""
    db.session().info.setdefault(_AFTER_COMMIT, []).append((task_name, args, task_id, on_failed))


@event.listens_for(Session, "after_commit")
def _send_after_commit(session: Session) -> None:
    for task_name, args, task_id, on_failed in session.info.pop(_AFTER_COMMIT, ()):
        sent = enqueue(task_name, *args, task_id=task_id)
        if sent is None and on_failed is not None:
            on_failed()


@event.listens_for(Session, "after_rollback")
def _drop_after_rollback(session: Session) -> None:
    session.info.pop(_AFTER_COMMIT, None)
