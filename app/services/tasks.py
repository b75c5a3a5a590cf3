"""Enqueueing background work by task name, so the web side never imports task code."""

from __future__ import annotations

import logging
from typing import Any

from flask import current_app
from kombu.exceptions import OperationalError

logger = logging.getLogger(__name__)


def enqueue(
    task_name: str, *args: Any, task_id: str | None = None, countdown: float = 0
) -> str | None:
    """Send a task (arguments are ids) to its queue; call only after the commit.

    If the broker is unreachable the work is not lost: its row stays queued and the
    stuck-job sweeper sends it again. The caller gets None.
    """
    celery = current_app.extensions["celery"]
    try:
        result = celery.send_task(task_name, args=list(args), task_id=task_id, countdown=countdown)
    except OperationalError:
        logger.error("broker unreachable; %s left for the sweeper", task_name)
        return None
    logger.info("enqueued %s", task_name, extra={"task_id": result.id})
    return str(result.id)
