"""Enqueueing background work by task name, so the web side never imports task code."""

from __future__ import annotations

import logging
from typing import Any

from flask import current_app
from kombu.exceptions import OperationalError
from redis.exceptions import RedisError

from app.errors import ServiceUnavailable
from app.redis_client import reachable

logger = logging.getLogger(__name__)


class QueueUnavailable(ServiceUnavailable):
    message = "Background work cannot be queued right now; nothing was changed. Try again shortly."


def require_broker() -> None:
    """Refuse (503, nothing written) work that would wait on a broker that is down.

    Checked before the unit of work commits; the send itself comes after the commit. If
    the broker goes away in between, the row stays queued and the stuck-job sweeper sends
    it once the broker is back.
    """
    if not reachable(current_app.config["CELERY_BROKER_URL"]):
        logger.warning("request refused: broker unreachable")
        raise QueueUnavailable()


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
