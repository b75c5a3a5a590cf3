"""The Celery app for workers, beat and Flower: ``celery -A celery_app worker``.

Queues and routes come from `app.tasking`; the beat schedule lives here, intervals in config.
"""

from typing import Any

from celery.signals import worker_process_init

from app import create_app
from app.extensions import db
from workers.providers import registry

flask_app = create_app()
celery = flask_app.extensions["celery"]
celery.conf.include = [
    "tasks.email",
    "tasks.provisioning",
    "tasks.instances",
    "tasks.accounts",
    "tasks.billing",
    "tasks.periodic",
    "tasks.monitoring",
]
# Exactly one scheduler: beat keeps its schedule in Redis and holds a lock there; a second
# beat process waits for the lock instead of firing the same entries again.
celery.conf.update(
    beat_scheduler="redbeat.RedBeatScheduler",
    redbeat_redis_url=flask_app.config["CELERY_BROKER_URL"],
    redbeat_key_prefix=flask_app.config["BEAT_KEY_PREFIX"],
    redbeat_lock_timeout=flask_app.config["BEAT_LOCK_TIMEOUT"],
    beat_max_loop_interval=flask_app.config["BEAT_MAX_LOOP_INTERVAL"],
)
celery.conf.beat_schedule = {
    "poll-usage": {
        "task": "periodic.poll_usage",
        "schedule": flask_app.config["USAGE_POLL_INTERVAL"],
    },
    "stop-idle": {
        "task": "periodic.stop_idle",
        "schedule": flask_app.config["IDLE_CHECK_INTERVAL"],
    },
    "reconcile": {
        "task": "periodic.reconcile",
        "schedule": flask_app.config["RECONCILE_INTERVAL"],
    },
    "check-alerts": {
        "task": "periodic.check_alerts",
        "schedule": flask_app.config["ALERT_CHECK_INTERVAL"],
    },
    "sweep-stuck-jobs": {
        "task": "periodic.sweep_stuck_jobs",
        "schedule": flask_app.config["STUCK_JOB_SWEEP_INTERVAL"],
    },
    "billing-suspend-overdue": {
        "task": "billing.suspend_overdue",
        "schedule": flask_app.config["SUSPEND_OVERDUE_INTERVAL"],
    },
    "billing-sync-invoices": {
        "task": "billing.sync_invoices",
        "schedule": flask_app.config["INVOICE_SYNC_INTERVAL"],
    },
}


@worker_process_init.connect
def _fresh_connections(**_: Any) -> None:
    """A forked worker must not share the parent's database or HTTP connections."""
    with flask_app.app_context():
        db.engine.dispose(close=False)
    registry.reset()
