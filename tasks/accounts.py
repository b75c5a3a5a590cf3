"""Account tasks: the deletion that waits for the machines, then erases."""

from __future__ import annotations

import random

from celery import Task, shared_task
from flask import current_app

from app import task_names
from app.services import account_deletion


@shared_task(name=task_names.DELETE_ACCOUNT, bind=True)
def delete(self: Task, user_id: int) -> None:
    """One step of an account deletion; looks again later while machines are terminating."""
    if account_deletion.advance(user_id):
        return
    interval = current_app.config["STATUS_CHECK_INTERVAL"]
    self.apply_async((user_id,), countdown=interval * random.uniform(1.0, 1.5))
