"""Enqueueing background work by task name, so the web side never imports task code."""

from __future__ import annotations

import logging
from typing import Any

from flask import current_app

logger = logging.getLogger(__name__)


def enqueue(task_name: str, *args: Any, task_id: str | None = None, countdown: float = 0) -> str:
    """Send a task (arguments are ids) to its queue; call only after the commit."""
    celery = current_app.extensions["celery"]
    result = celery.send_task(task_name, args=list(args), task_id=task_id, countdown=countdown)
    logger.info("enqueued %s", task_name, extra={"task_id": result.id})
    return str(result.id)
