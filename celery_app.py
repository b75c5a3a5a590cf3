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
celery.conf.include = ["tasks.email", "tasks.provisioning", "tasks.instances", "tasks.accounts"]
celery.conf.beat_schedule = {}


@worker_process_init.connect
def _fresh_connections(**_: Any) -> None:
    """A forked worker must not share the parent's database or HTTP connections."""
    with flask_app.app_context():
        db.engine.dispose(close=False)
    registry.reset()
