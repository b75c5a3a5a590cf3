"""The Celery app for workers, beat and Flower: ``celery -A celery_app worker``.

Queues and routes come from `app.tasking`; the beat schedule lives here, intervals in config.
"""

from typing import Any

from celery.signals import worker_process_init
from kombu.transport import redis as kombu_redis

from app import create_app, task_names
from app.extensions import db
from workers.providers import registry

flask_app = create_app()
celery = flask_app.extensions["celery"]
celery.conf.include = [
    "tasks.email",
    "tasks.provisioning",
    "tasks.instances",
    "tasks.snapshots",
    "tasks.accounts",
    "tasks.billing",
    "tasks.periodic",
    "tasks.monitoring",
]
# Exactly one scheduler: beat keeps its schedule in Redis and holds a lock there; a second
# beat process waits for the lock instead of firing the same entries again. Beat rides out
# a Redis outage (`app.beat`); each of its Redis calls is bounded and tried at most twice
# (its client: `app.beat.use_platform_redis`).
celery.conf.update(
    beat_scheduler="app.beat:OutageProofScheduler",
    redbeat_key_prefix=flask_app.config["BEAT_KEY_PREFIX"],
    redbeat_lock_timeout=flask_app.config["BEAT_LOCK_TIMEOUT"],
    beat_max_loop_interval=flask_app.config["BEAT_MAX_LOOP_INTERVAL"],
)
celery.conf.beat_schedule = {
    "poll-usage": {
        "task": task_names.POLL_USAGE,
        "schedule": flask_app.config["USAGE_POLL_INTERVAL"],
    },
    "stop-idle": {
        "task": task_names.STOP_IDLE,
        "schedule": flask_app.config["IDLE_CHECK_INTERVAL"],
    },
    "reconcile": {
        "task": task_names.RECONCILE,
        "schedule": flask_app.config["RECONCILE_INTERVAL"],
    },
    "check-alerts": {
        "task": task_names.CHECK_ALERTS,
        "schedule": flask_app.config["ALERT_CHECK_INTERVAL"],
    },
    "sweep-stuck-jobs": {
        "task": task_names.SWEEP_STUCK_JOBS,
        "schedule": flask_app.config["STUCK_JOB_SWEEP_INTERVAL"],
    },
    "billing-suspend-overdue": {
        "task": task_names.SUSPEND_OVERDUE,
        "schedule": flask_app.config["SUSPEND_OVERDUE_INTERVAL"],
    },
    "billing-expire-unpaid-orders": {
        "task": task_names.EXPIRE_UNPAID_ORDERS,
        "schedule": flask_app.config["SUSPEND_OVERDUE_INTERVAL"],
    },
    "billing-sync-invoices": {
        "task": task_names.SYNC_INVOICES,
        "schedule": flask_app.config["INVOICE_SYNC_INTERVAL"],
    },
}


def _restore_unacked_while_connected(self: kombu_redis.QoS, client: Any = None) -> Any:
    """kombu's Redis QoS, once the consumer has dropped a lost connection, still tries to
    put its unacknowledged messages back while closing the channel, finds no connection
    details and raises AttributeError, which ends the worker. Redis is unreachable then
    anyway: the messages stay in its unacked set and come back after the visibility
    timeout (lost jobs sooner, through the stuck-job sweeper), and the worker reconnects."""
    if self.channel.connection is None or self.channel.connection.client is None:
        return None
    return _restore_unacked(self, client)


_restore_unacked = kombu_redis.QoS.restore_unacked
kombu_redis.QoS.restore_unacked = _restore_unacked_while_connected  # type: ignore[method-assign]


@worker_process_init.connect
def _fresh_connections(**_: Any) -> None:
    """A forked worker must not share the parent's database or HTTP connections."""
    with flask_app.app_context():
        db.engine.dispose(close=False)
    registry.reset()
