"""The Celery app, configured from the Flask config and running tasks in its app context."""

from __future__ import annotations

from typing import Any

from celery import Celery, Task
from flask import Flask
from kombu import Queue

from app import redis_client, task_names
from app.beat import use_platform_redis

QUEUES = ("default", "actions", "provisioning", "checks", "billing", "email", "periodic")

# Tasks are named "<area>.<action>"; the area picks the queue, so a slow provider
# never starves e-mail or webhooks. What a customer asked of an existing machine (power
# actions, terminate, a plan change) has a queue of its own, never behind orders; so have
# the status rounds and snapshot polls, which watch work in flight, never behind a burst of
# orders.
TASK_ROUTES = {
    task_names.CHECK_MACHINES: {"queue": "checks"},
    task_names.CHECK_SNAPSHOT: {"queue": "checks"},
    task_names.CHANGE_PLAN: {"queue": "actions"},
    "provisioning.*": {"queue": "provisioning"},
    "instances.*": {"queue": "actions"},
    "billing.*": {"queue": "billing"},
    "email.*": {"queue": "email"},
    "periodic.*": {"queue": "periodic"},
}


def celery_init_app(app: Flask) -> Celery:
    class FlaskTask(Task):
        # The app context's teardown also ends the task's database session.
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            with app.app_context():
                return self.run(*args, **kwargs)

    celery = Celery(app.name, task_cls=FlaskTask)
    celery.conf.update(
        # Broker and result store (Sentinel, TLS, timeouts) as the one Redis factory says.
        **redis_client.celery_settings(app.config),
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_time_limit=app.config["CELERY_TASK_TIME_LIMIT"],
        task_soft_time_limit=app.config["CELERY_TASK_TIME_LIMIT"] - 10,
        worker_prefetch_multiplier=1,
        task_default_queue="default",
        task_queues=[Queue(name) for name in QUEUES],
        task_routes=TASK_ROUTES,
        task_send_sent_event=True,
        worker_send_task_events=True,
        # Workers ride out a broker outage: they reconnect, however long it lasts, instead
        # of exiting. A task running when the connection drops cannot be acknowledged
        # (acks_late), so it is cancelled and redelivered once instead of finishing here
        # and running again.
        broker_connection_retry=True,
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,
        worker_cancel_long_running_tasks_on_connection_loss=True,
        # A request must not hang on a dead broker: one more try (a connection a Redis
        # restart left stale), each bounded; work not sent is re-sent later (the sweeper).
        broker_connection_timeout=app.config["REDIS_CONNECT_TIMEOUT"],
        task_publish_retry_policy={"max_retries": 1, "interval_start": 0, "interval_step": 0.2},
        timezone="UTC",
    )
    use_platform_redis(celery, app.config)
    celery.set_default()
    app.extensions["celery"] = celery
    return celery
