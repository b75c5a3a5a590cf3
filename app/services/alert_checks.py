"""The conditions the periodic check looks for, each turned into an `Alert` when it holds:
a queue no live worker consumes, a queue backing up, and orders failing too often."""

from __future__ import annotations

import logging
from datetime import timedelta

import redis
from flask import current_app
from kombu.exceptions import OperationalError
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from app.extensions import db
from app.models import Job, JobState
from app.models.base import utcnow
from app.services import queues
from app.services.alerts import Alert
from app.tasking import QUEUES

logger = logging.getLogger(__name__)


def queues_without_workers() -> list[Alert]:
    """One alert per queue that no live worker consumes (none answering: every queue)."""
    celery = current_app.extensions["celery"]
    answers = celery.control.inspect(timeout=current_app.config["HEALTH_CHECK_TIMEOUT"])
    try:
        active = answers.active_queues() or {}
    except OperationalError:
        logger.error("workers not checked: the broker is unreachable", exc_info=True)
        return []
    consumed = {queue["name"] for worker_queues in active.values() for queue in worker_queues}
    return [
        Alert(
            f"workers_down:{queue}",
            f"no worker consumes the {queue} queue",
            f"No live Celery worker answered for the {queue} queue: its tasks wait unprocessed. "
            "Check the worker processes (Flower lists them) and their logs.",
        )
        for queue in QUEUES
        if queue not in consumed
    ]


def backlogged_queues() -> list[Alert]:
    """One alert per queue with more waiting tasks than ``ALERT_QUEUE_BACKLOG``."""
    limit = current_app.config["ALERT_QUEUE_BACKLOG"]
    try:
        depths = queues.depths()
    except redis.RedisError:
        logger.error("queue backlog not checked: the broker is unreachable", exc_info=True)
        return []
    return [
        Alert(
            f"queue_backlog:{queue}",
            f"{length} tasks waiting in the {queue} queue",
            f"The {queue} queue holds {length} waiting tasks (alert above {limit}). Workers "
            "are too few or too slow, or a provider is slowing every task down.",
        )
        for queue, length in depths.items()
        if length > limit
    ]


def provisioning_failure_rate() -> list[Alert]:
    """An alert when too many of the orders that ended recently failed."""
    config = current_app.config
    window = config["ALERT_FAILURE_WINDOW_SECONDS"]
    query = (
        select(Job.state, func.count())
        .where(
            Job.kind == "provision",
            Job.state.in_((JobState.SUCCEEDED, JobState.FAILED)),
            Job.finished_at >= utcnow() - timedelta(seconds=window),
        )
        .group_by(Job.state)
    )
    try:
        ended: dict[str, int] = {state: count for state, count in db.session.execute(query)}
    except SQLAlchemyError:
        logger.error("failure rate not checked: the database is unreachable", exc_info=True)
        return []
    finally:
        db.session.rollback()
    failed, total = ended.get(JobState.FAILED, 0), sum(ended.values())
    if total < config["ALERT_FAILURE_MIN_JOBS"] or failed / total < config["ALERT_FAILURE_RATE"]:
        return []
    return [
        Alert(
            "provisioning_failure_rate",
            f"{failed} of {total} machine orders failed",
            f"{failed} of the {total} machine orders that ended in the last {window // 60} "
            f"minutes failed ({failed / total:.0%}; alert at {config['ALERT_FAILURE_RATE']:.0%})."
            " Each failed job was mailed on its own with its reason; look for a provider "
            "refusing orders or an outage.",
        )
    ]


def due() -> list[Alert]:
    """Every alert whose condition holds now."""
    return queues_without_workers() + backlogged_queues() + provisioning_failure_rate()
