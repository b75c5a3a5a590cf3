"""Log lines: JSON with the request, user, task and job ids, and never a secret."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.logs import ContextFilter, RedactingFormatter, RedactingJsonFormatter, Redactor
from app.models import Job
from tests.support.api import Customer, order, wait_for_job
from tests.support.database import Database
from tests.support.emulators import EmulatorHandle

WORKER_LOG = Path(__file__).resolve().parents[2] / "test-artifacts" / "worker.log"


@pytest.fixture()
def json_lines(app: Flask) -> Iterator[io.StringIO]:
    """What the app logs during the test, as the production JSON handler writes it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(RedactingJsonFormatter(Redactor(app.config)))
    handler.addFilter(ContextFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    yield stream
    root.removeHandler(handler)


def _records(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_request_lines_carry_the_request_id_and_the_signed_in_user(
    client: FlaskClient, json_lines: io.StringIO
) -> None:
    customer = Customer(client)
    response = customer.post(
        "/api/support/tickets",
        json={"subject": "Cannot connect", "priority": "urgent", "message": "RDP times out."},
        headers={"X-Request-ID": "req-logs-1"},
    )
    assert response.status_code == 201
    urgent = [r for r in _records(json_lines) if r["message"].startswith("urgent support ticket")]
    assert len(urgent) == 1
    assert urgent[0]["request_id"] == "req-logs-1"
    assert urgent[0]["user_id"] == customer.id
    assert urgent[0]["level"] == "WARNING" and urgent[0]["logger"] == "app.services.support"
    assert "time" in urgent[0]


def test_worker_lines_carry_the_task_and_the_job_they_work_on(
    client: FlaskClient, vultr: EmulatorHandle, database: Database
) -> None:
    customer = Customer(client)
    ordered = order(customer)
    job = wait_for_job(customer, ordered["job"]["id"])
    assert job["state"] == "succeeded"
    record = database.get(Job, job["id"])
    assert record is not None and record.celery_task_id
    # Every line its task wrote, the provider's create call among them, names the job.
    lines = [
        line
        for line in WORKER_LOG.read_text(errors="replace").splitlines()
        if f"task_id={record.celery_task_id} " in line
    ]
    assert any("POST" in line and "/v2/instances " in line for line in lines), lines[:3]
    assert all(line.endswith(f"job_id={job['id']}]") for line in lines), lines[:3]


def test_secret_settings_and_secret_shaped_values_never_reach_the_output(app: Flask) -> None:
    config = {
        **app.config,
        "STRIPE_SECRET_KEY": "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
        "MAIL_PASSWORD": "mail-pa55word",
        "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://app:db-pa55word@db.internal/nemordp",
    }
    redactor = Redactor(config)
    record = logging.LogRecord(
        "test", logging.ERROR, __file__, 1, "login %s with %s to %s; hook %s; %s", None, None
    )
    record.args = (
        config["MAIL_PASSWORD"],
        config["STRIPE_SECRET_KEY"],
        config["SQLALCHEMY_DATABASE_URI"],
        "whsec_8TmKjq2bVx9Lw0PzR4sN",
        "Authorization: Bearer 0b1c2d3e4f5a6b7c8d9e",
    )
    record.api_token = "tok-not-a-config-value"
    record.machine_password = "Mach1ne-Passw0rd"
    for formatter in (RedactingFormatter(redactor), RedactingJsonFormatter(redactor)):
        line = formatter.format(record)
        for secret in (
            "mail-pa55word",
            "4eC39HqLyjWDarjtT1zdp7dc",
            "db-pa55word",
            "8TmKjq2bVx9Lw0PzR4sN",
            "0b1c2d3e4f5a6b7c8d9e",
            "tok-not-a-config-value",
            "Mach1ne-Passw0rd",
        ):
            assert secret not in line, (type(formatter).__name__, line)
        assert "[redacted]" in line
        assert "db.internal" in line  # the rest of the message stays readable
