"""What Flower shows: every task the scheduled work sends carries a dotted name and ids
(or a provider's name) as arguments, never a token, password or address. Read from the
same task events Flower reads."""

from __future__ import annotations

import ast
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.models import Job
from tests.periodic.conftest import (
    ago,
    run_task,
    running_instance,
    set_instance,
    set_preferences,
    status_of,
    vultr_machine,
)
from tests.support.accounts import wait_for_mail
from tests.support.api import Customer
from tests.support.database import Database
from tests.support.emulators import EmulatorHandle, wait_until
from tests.support.factories import label_of, make_instance
from tests.support.mailbox import Mailbox
from workers.providers.registry import PROVIDERS

# What must never show in a task's arguments.
SECRETS = ("nrag_", "password", "Bearer", "test-vultr-key")


class TaskEvents:
    """Collects task-sent and task-received events, as Flower does, in a thread."""

    def __init__(self, app: Flask) -> None:
        self.celery = app.extensions["celery"]
        self.events: list[dict[str, Any]] = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._listen, daemon=True)

    def _listen(self) -> None:
        with self.celery.connection_for_read() as connection:
            receiver = self.celery.events.Receiver(
                connection,
                handlers={"task-sent": self.events.append, "task-received": self.events.append},
            )
            while not self.stopping.is_set():
                try:
                    receiver.capture(limit=None, timeout=0.5, wakeup=False)
                except TimeoutError:  # quiet for a moment: look at the stop flag
                    continue

    def __enter__(self) -> TaskEvents:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stopping.set()
        self.thread.join(timeout=10)


@pytest.fixture()
def task_events(app: Flask) -> Iterator[TaskEvents]:
    with TaskEvents(app) as events:
        yield events


def _plain(value: object) -> bool:
    """An id, a list of ids, or a provider's name."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    if isinstance(value, list):
        return all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    return value in PROVIDERS


def test_tasks_sent_by_the_scheduled_work_carry_only_ids(
    app: Flask,
    client: FlaskClient,
    database: Database,
    vultr: EmulatorHandle,
    inbox: Mailbox,
    task_events: TaskEvents,
) -> None:
    owner = Customer(client)
    set_preferences(database, owner, auto_shutdown=True, idle_minutes=30)
    idle = running_instance(database, vultr, owner.id)
    set_instance(database, idle.id, last_heartbeat_at=ago(minutes=1), last_accessed=ago(hours=2))
    ended = make_instance(database, owner.id, status="terminated", provider_id=None)
    vultr_machine(vultr, label_of(ended))  # an orphan, so reconciliation reports
    stuck = make_instance(database, owner.id, status="restarting")
    database.add(
        Job(
            kind="restart",
            instance_id=stuck.id,
            user_id=owner.id,
            state="queued",
            deadline_at=ago(days=1),
            context={"resends": 9},
            from_status="active",
        )
    )

    for name in ("periodic.poll_usage", "periodic.reconcile", "periodic.sweep_stuck_jobs"):
        run_task(app, name)
    wait_for_mail(inbox, "ops@nemordp.local", "reconciliation")
    wait_for_mail(inbox, "ops@nemordp.local", "restart job")
    run_task(app, "periodic.stop_idle")
    wait_until(lambda: status_of(database, idle.id) == "stopped")
    wait_for_mail(inbox, owner.email, idle.name)

    names = {e["name"] for e in task_events.events if e.get("name")}
    assert {
        "periodic.poll_usage_batch",
        "periodic.reconcile_provider",
        "email.send_alert",
        "email.send_job_alert",
        "instances.stop",
        "email.send_idle_stop_notice",
    } <= names, names
    with_arguments = [e for e in task_events.events if e.get("args") is not None]
    assert len(with_arguments) >= len(names)
    for event in with_arguments:
        assert not any(secret in event["args"] for secret in SECRETS), event["args"]
        assert ast.literal_eval(event.get("kwargs") or "{}") == {}, event
        if _name_of(event, task_events.events) == "email.send_alert":
            continue  # an operator alert carries its incident key, subject and text
        args = ast.literal_eval(event["args"])
        assert all(_plain(a) for a in args), (event.get("name"), event["args"])


def _name_of(event: dict[str, Any], events: list[dict[str, Any]]) -> str | None:
    """A task-sent event names its task; task-received may only carry the task id."""
    if event.get("name"):
        return str(event["name"])
    named = (e.get("name") for e in events if e.get("uuid") == event.get("uuid"))
    return next((n for n in named if n), None)
