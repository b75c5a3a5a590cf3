"""The Celery app, configured from the Flask config and running tasks in its app context."""

from __future__ import annotations

from typing import Any

from celery import Celery, Task
from flask import Flask
from kombu import Queue

QUEUES = ("default", "provisioning", "billing", "email", "periodic")

# Tasks are named "<area>.<action>"; the area picks the queue, so a slow provider
# never starves e-mail or webhooks.
TASK_ROUTES = {
    "provisioning.*": {"queue": "provisioning"},
    "instances.*": {"queue": "provisioning"},
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
    connect_timeout, socket_timeout = (
        app.config["REDIS_CONNECT_TIMEOUT"],
        app.config["REDIS_SOCKET_TIMEOUT"],
    )
    redis_timeouts = {"socket_connect_timeout": connect_timeout, "socket_timeout": socket_timeout}
    celery.conf.update(
        broker_url=app.config["CELERY_BROKER_URL"],
        result_backend=app.config["CELERY_RESULT_BACKEND"],
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
        broker_connection_timeout=connect_timeout,
        task_publish_retry_policy={"max_retries": 1, "interval_start": 0, "interval_step": 0.2},
        broker_transport_options={
            "visibility_timeout": app.config["CELERY_VISIBILITY_TIMEOUT"],
            **redis_timeouts,
        },
        redis_socket_connect_timeout=connect_timeout,
        redis_socket_timeout=socket_timeout,
        result_backend_transport_options={
            "visibility_timeout": app.config["CELERY_VISIBILITY_TIMEOUT"],
            **redis_timeouts,
        },
        timezone="UTC",
    )
    celery.set_default()
    app.extensions["celery"] = celery
    return celery
