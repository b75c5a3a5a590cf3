"""A job is written with the task id it is sent under; one the broker did not take is left
without it, for the stuck-job sweeper."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from celery import Celery
from flask import Flask
from flask.testing import FlaskClient
from kombu.exceptions import OperationalError
from sqlalchemy import select

from app.models import Job
from app.models.base import utcnow
from app.services import stuck_jobs
from tests.support.api import Customer
from tests.support.database import Database
from tests.support.factories import make_instance


def _restart(customer: Customer, database: Database, provider_id: str) -> Job:
    instance = make_instance(database, customer.id, provider_id=provider_id)
    response = customer.post(f"/api/instances/{instance.id}/restart")
    assert response.status_code == 202, response.get_json()
    job: Job = database.scalar(select(Job).where(Job.id == response.get_json()["job"]["id"]))
    return job


def test_a_sent_job_records_the_task_id_it_was_sent_under(
    app: Flask, client: FlaskClient, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    customer = Customer(client)
    sent: list[str] = []
    send_task = Celery.send_task

    def recording(self: Celery, name: str, *args: Any, **kwargs: Any) -> Any:
        sent.append(kwargs["task_id"])
        return send_task(self, name, *args, **kwargs)

    monkeypatch.setattr(Celery, "send_task", recording)
    job = _restart(customer, database, "sent")
    assert sent == [job.celery_task_id]
    with app.app_context():
        assert job.id not in stuck_jobs.stuck_job_ids(utcnow() + timedelta(minutes=2))


def test_a_job_the_broker_did_not_take_is_left_for_the_sweeper(
    app: Flask, client: FlaskClient, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    customer = Customer(client)

    def refusing(self: Celery, *args: Any, **kwargs: Any) -> Any:
        raise OperationalError("the broker went away after the check")

    monkeypatch.setattr(Celery, "send_task", refusing)
    job = _restart(customer, database, "unsent")
    assert job.state == "queued" and job.celery_task_id is None
    with app.app_context():
        assert job.id in stuck_jobs.stuck_job_ids(utcnow() + timedelta(minutes=2))
