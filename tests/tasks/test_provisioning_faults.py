"""Provider failures at every step of provisioning and actions: retried, adopted, failed
over or failed with a reason — never a duplicate machine, never one left running unknown."""

from __future__ import annotations

import os
import signal
from datetime import timedelta
from typing import Any

import psutil
import pytest
from flask.testing import FlaskClient
from sqlalchemy import update

from app.models import Job
from app.models.base import utcnow
from devtools.stack.platform import Worker
from tests.support.api import Customer, order, wait_for_job
from tests.support.database import Database
from tests.support.emulators import EmulatorHandle, wait_until
from tests.support.mailbox import Mailbox


def _provision(client: FlaskClient, **kwargs: Any) -> tuple[Customer, dict[str, Any], dict]:
    customer = Customer(client)
    ordered = order(customer, **kwargs)
    job = wait_for_job(customer, ordered["job"]["id"], timeout=45)
    instance = client.get(f"/api/instances/{ordered['instance']['id']}").get_json()
    return customer, job, instance


@pytest.mark.parametrize(
    ("operation", "fault"),
    [
        ("create", {"kind": "error_500", "count": 2}),
        ("create", {"kind": "rate_limit_429", "count": 2, "retry_after": 1}),
        ("create", {"kind": "timeout"}),
        ("create", {"kind": "reset"}),
        ("create", {"kind": "lost_response"}),
        ("list", {"kind": "error_500", "count": 2}),
        ("get", {"kind": "error_500", "count": 3}),
        ("get", {"kind": "timeout"}),
    ],
    ids=lambda value: value if isinstance(value, str) else value["kind"],
)
def test_transient_provider_faults_during_provisioning_are_survived(
    client: FlaskClient, vultr: EmulatorHandle, operation: str, fault: dict[str, Any]
) -> None:
    vultr.inject(operation, **fault)
    _, job, instance = _provision(client)
    assert job["state"] == "succeeded", job
    assert instance["status"] == "active"
    machines = vultr.machines()
    assert len(machines) == 1, machines  # a lost or retried create never makes a second one


def test_a_permanent_refusal_falls_over_to_the_other_provider(
    client: FlaskClient, vultr: EmulatorHandle, contabo: EmulatorHandle
) -> None:
    vultr.inject("create", "permanent", status=400, message="Plan is not available")
    _, job, instance = _provision(client, region="eu-central")
    assert job["state"] == "succeeded", job
    assert instance["provider"] == "contabo" and instance["status"] == "active"
    assert vultr.machines() == [] and len(contabo.machines()) == 1


def test_refused_everywhere_fails_the_order_with_a_reason_and_alerts(
    client: FlaskClient, vultr: EmulatorHandle, contabo: EmulatorHandle, inbox: Mailbox
) -> None:
    vultr.inject("create", "permanent", status=400, message="Plan is not available")
    contabo.inject("create", "permanent", status=400, message="product not available")
    _, job, instance = _provision(client, region="eu-central")
    assert job["state"] == "failed"
    assert "product not available" in job["error"]
    assert instance["status"] == "failed" and "product not available" in instance["status_reason"]
    assert vultr.machines() == [] and contabo.machines() == []
    alert = inbox.wait_for("ops@nemordp.local")
    assert f"job {job['id']} failed" in str(alert["Subject"])


def test_endless_transient_failures_end_in_a_failed_job_not_a_loop(
    client: FlaskClient, vultr: EmulatorHandle, contabo: EmulatorHandle
) -> None:
    vultr.inject("create", "error_500", count=50)
    contabo.inject("create", "error_500", count=50)  # the provider the order moves to
    _, job, instance = _provision(client)
    assert job["state"] == "failed" and "gave up after" in job["error"]
    assert job["attempts"] >= 5
    assert instance["status"] == "failed"
    assert vultr.machines() == []


def test_a_machine_that_never_boots_is_destroyed_at_the_deadline(
    client: FlaskClient, vultr: EmulatorHandle, database: Database, inbox: Mailbox
) -> None:
    vultr.settings(boot_seconds=600)
    try:
        customer = Customer(client)
        ordered = order(customer)
        wait_until(lambda: len(vultr.machines()) == 1)
        with database.session() as session:
            session.execute(
                update(Job)
                .where(Job.id == ordered["job"]["id"])
                .values(deadline_at=utcnow() - timedelta(seconds=1))
            )
            session.commit()
        job = wait_for_job(customer, ordered["job"]["id"])
    finally:
        vultr.settings(boot_seconds=1.0)
    assert job["state"] == "failed" and "deadline" in job["error"]
    assert vultr.machines() == []
    inbox.wait_for("ops@nemordp.local")


def test_a_worker_killed_mid_create_leaves_exactly_one_machine(
    client: FlaskClient, vultr: EmulatorHandle, worker: Worker
) -> None:
    vultr.inject("create", "slow_response", delay=1.2)
    customer = Customer(client)
    ordered = order(customer)
    wait_until(lambda: vultr.calls().get("create", 0) >= 1, interval=0.02)
    for child in psutil.Process(worker.pid).children():
        os.kill(child.pid, signal.SIGKILL)  # the pool process holding the create dies
    job = wait_for_job(customer, ordered["job"]["id"], timeout=45)
    assert job["state"] == "succeeded", job
    assert len(vultr.machines()) == 1


@pytest.mark.parametrize("action", ["restart", "stop"])
def test_transient_faults_on_actions_are_retried(
    client: FlaskClient, vultr: EmulatorHandle, action: str
) -> None:
    customer, _, instance = _provision(client)
    operation = {"restart": "reboot", "stop": "halt"}[action]
    vultr.inject(operation, "error_500", count=2)
    response = customer.post(f"/api/instances/{instance['id']}/{action}")
    job = wait_for_job(customer, response.get_json()["job"]["id"])
    assert job["state"] == "succeeded" and job["attempts"] == 3
    assert vultr.calls()[operation] == 3


def test_a_refused_restart_fails_and_the_machine_stays_active(
    client: FlaskClient, vultr: EmulatorHandle
) -> None:
    customer, _, instance = _provision(client)
    vultr.inject("reboot", "permanent", status=400, message="Server is locked")
    response = customer.post(f"/api/instances/{instance['id']}/restart")
    job = wait_for_job(customer, response.get_json()["job"]["id"])
    assert job["state"] == "failed" and "Server is locked" in job["error"]
    after = client.get(f"/api/instances/{instance['id']}").get_json()
    assert after["status"] == "active" and "Server is locked" in after["status_reason"]


def test_termination_survives_faults_and_destroys_the_machine(
    client: FlaskClient, vultr: EmulatorHandle
) -> None:
    customer, _, instance = _provision(client)
    vultr.inject("delete", "lost_response")
    response = customer.delete(f"/api/instances/{instance['id']}")
    job = wait_for_job(customer, response.get_json()["job"]["id"])
    assert job["state"] == "succeeded"
    assert vultr.machines() == []


def test_terminating_during_provisioning_leaves_no_machine(
    client: FlaskClient, vultr: EmulatorHandle
) -> None:
    vultr.settings(boot_seconds=600)
    try:
        customer = Customer(client)
        ordered = order(customer)
        wait_until(lambda: len(vultr.machines()) == 1)
        response = customer.delete(f"/api/instances/{ordered['instance']['id']}")
        assert response.status_code == 202
        job = wait_for_job(customer, response.get_json()["job"]["id"])
    finally:
        vultr.settings(boot_seconds=1.0)
    assert job["state"] == "succeeded"
    assert wait_for_job(customer, ordered["job"]["id"])["state"] == "failed"
    assert vultr.machines() == []
