"""The stuck-job sweeper: a job whose task was lost is sent again and finishes; one that
stays stuck is failed, its machine left in an honest state, and ops alerted."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import redis
from flask import Flask
from flask.testing import FlaskClient

from app.models import Instance, Job
from app.models.base import utcnow
from tests.periodic.conftest import ago, run_task, running_instance, set_instance
from tests.support.accounts import wait_for_mail
from tests.support.api import Customer, wait_for_job
from tests.support.database import Database
from tests.support.emulators import EmulatorHandle
from tests.support.mailbox import Mailbox


def _stop_job(database: Database, instance: Instance, deadline_at: datetime, **fields: Any) -> Job:
    """A stop as the API leaves it: the machine stopping, its job recorded."""
    set_instance(database, instance.id, status="stopping")
    job = Job(
        kind="stop",
        instance_id=instance.id,
        user_id=instance.user_id,
        from_status="active",
        deadline_at=deadline_at,
        **{"state": "queued", "context": {}, **fields},
    )
    database.add(job)
    return job


def test_a_job_never_sent_to_the_broker_is_sent_again_with_an_alert_and_finishes(
    app: Flask, client: FlaskClient, database: Database, vultr: EmulatorHandle, inbox: Mailbox
) -> None:
    owner = Customer(client)
    instance = running_instance(database, vultr, owner.id)
    _forget_alerts(app)
    lost = _stop_job(database, instance, deadline_at=ago(hours=1))  # no celery_task_id
    # Recorded a moment ago and not late: the sweeper leaves it to its task.
    waiting = _stop_job(database, running_instance(database, vultr, owner.id), utcnow())

    run_task(app, "periodic.sweep_stuck_jobs")
    run_task(app, "periodic.sweep_stuck_jobs")  # a second sweep finds nothing more to do

    finished = wait_for_job(owner, lost.id)
    assert finished["state"] == "succeeded"
    job = database.get(Job, lost.id)
    assert job is not None and job.context == {"resends": 1}
    assert database.get(Instance, instance.id).status == "stopped"  # type: ignore[union-attr]
    untouched = database.get(Job, waiting.id)
    assert untouched is not None and untouched.state == "queued" and untouched.context == {}
    alert = wait_for_mail(inbox, "ops@nemordp.local", "1 stuck job(s)").get_content()
    assert f"job {lost.id} (stop)" in alert


def _forget_alerts(app: Flask) -> None:
    """Alerts are mailed once per incident per window: start this test's window afresh."""
    client = redis.Redis.from_url(app.config["REDIS_URL"])
    for key in client.scan_iter("nemordp:alert:*"):
        client.delete(key)


def test_a_job_still_stuck_after_its_resends_is_failed_with_an_alert(
    app: Flask, client: FlaskClient, database: Database, vultr: EmulatorHandle, inbox: Mailbox
) -> None:
    owner = Customer(client)
    instance = running_instance(database, vultr, owner.id)
    stuck = _stop_job(
        database,
        instance,
        deadline_at=ago(hours=2),
        state="running",
        context={"resends": 3},
        celery_task_id="job-lost",
    )

    run_task(app, "periodic.sweep_stuck_jobs")

    job = database.get(Job, stuck.id)
    assert job is not None and job.state == "failed"
    assert job.error == "stuck past its deadline after 3 resend(s)"
    back = database.get(Instance, instance.id)
    assert back is not None and back.status == "active"  # where it was before the stop
    assert back.status_reason is not None and "stuck" in back.status_reason
    alert = wait_for_mail(inbox, "ops@nemordp.local", f"stop job {stuck.id} failed")
    assert "stuck past its deadline" in alert.get_content()
