"""Snapshot jobs on a real worker against the emulators: taken until complete, a machine
restored from one, deleted; provider faults retried without a second snapshot, a refusal
failing the job cleanly."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import update

from app.models import Job, Snapshot
from app.models.base import utcnow
from tests.support.api import Customer, order, wait_for_job
from tests.support.database import Database
from tests.support.emulators import EmulatorHandle, wait_until


def _active_machine(client: FlaskClient, region: str = "us-east") -> tuple[Customer, dict]:
    customer = Customer(client)
    ordered = order(customer, region=region)
    assert wait_for_job(customer, ordered["job"]["id"], timeout=45)["state"] == "succeeded"
    return customer, customer.get(f"/api/instances/{ordered['instance']['id']}").get_json()


def _run(customer: Customer, response: Any) -> tuple[dict, dict]:
    """The job a snapshot request started, once finished, and the snapshot it was about."""
    assert response.status_code == 202, response.get_json()
    body = response.get_json()
    return wait_for_job(customer, body["job"]["id"], timeout=45), body["snapshot"]


def _listed(customer: Customer, instance: dict) -> list[dict]:
    found: list[dict] = customer.get(f"/api/instances/{instance['id']}/snapshots").get_json()[
        "snapshots"
    ]
    return found


def test_a_snapshot_is_taken_restored_from_and_deleted(
    client: FlaskClient, vultr: EmulatorHandle
) -> None:
    customer, instance = _active_machine(client)
    base = f"/api/instances/{instance['id']}/snapshots"

    job, snapshot = _run(customer, customer.post(base, json={"name": "clean install"}))
    assert job["state"] == "succeeded", job
    [taken] = _listed(customer, instance)
    assert taken["status"] == "available" and taken["size_bytes"] == 80 * 2**30
    [at_vultr] = vultr.snapshots()
    assert at_vultr["name"] == f"testsuite-s{snapshot['id']}"

    confirm = {"confirm": instance["name"]}
    job, _ = _run(customer, customer.post(f"{base}/{snapshot['id']}/restore", json=confirm))
    assert job["state"] == "succeeded", job
    assert customer.get(f"/api/instances/{instance['id']}").get_json()["status"] == "active"
    assert [s["status"] for s in _listed(customer, instance)] == ["available"]
    assert vultr.calls()["restore"] == 1

    job, _ = _run(customer, customer.delete(f"{base}/{snapshot['id']}"))
    assert job["state"] == "succeeded", job
    assert _listed(customer, instance) == [] and vultr.snapshots() == []


def test_a_contabo_rollback_forgets_the_snapshots_it_dropped(
    client: FlaskClient, contabo: EmulatorHandle
) -> None:
    customer, instance = _active_machine(client, region="australia")
    assert instance["provider"] == "contabo"
    base = f"/api/instances/{instance['id']}/snapshots"
    older = _run(customer, customer.post(base, json={"name": "older"}))[1]
    assert _run(customer, customer.post(base, json={"name": "newer"}))[0]["state"] == "succeeded"

    confirm = {"confirm": instance["name"]}
    job, _ = _run(customer, customer.post(f"{base}/{older['id']}/restore", json=confirm))

    assert job["state"] == "succeeded", job
    assert [s["name"] for s in _listed(customer, instance)] == ["older"]
    assert len(contabo.snapshots()) == 1


@pytest.mark.parametrize(
    "fault",
    [
        {"kind": "error_500", "count": 2},
        {"kind": "rate_limit_429", "count": 2, "retry_after": 1},
        {"kind": "lost_response"},
        {"kind": "timeout"},
    ],
    ids=lambda fault: str(fault["kind"]),
)
def test_a_transient_fault_on_taking_a_snapshot_is_retried_and_takes_one(
    client: FlaskClient, vultr: EmulatorHandle, fault: dict[str, Any]
) -> None:
    customer, instance = _active_machine(client)
    vultr.inject("snapshot_create", **fault)

    job, _ = _run(
        customer, customer.post(f"/api/instances/{instance['id']}/snapshots", json={"name": "x"})
    )

    assert job["state"] == "succeeded", job
    assert job["attempts"] >= 2
    assert len(vultr.snapshots()) == 1  # never a second snapshot at the provider
    assert [s["status"] for s in _listed(customer, instance)] == ["available"]


def test_a_contabo_snapshot_whose_answer_was_lost_is_adopted_not_taken_twice(
    client: FlaskClient, contabo: EmulatorHandle
) -> None:
    customer, instance = _active_machine(client, region="australia")
    contabo.inject("snapshot_create", "lost_response")

    job, _ = _run(
        customer, customer.post(f"/api/instances/{instance['id']}/snapshots", json={"name": "x"})
    )

    assert job["state"] == "succeeded", job
    assert len(contabo.snapshots()) == 1
    assert contabo.calls()["snapshot_create"] == 1  # found by its name, not asked for again


def test_a_refused_snapshot_fails_its_job_and_frees_its_place_in_the_quota(
    client: FlaskClient, vultr: EmulatorHandle
) -> None:
    customer, instance = _active_machine(client)
    vultr.inject("snapshot_create", "permanent", status=400, message="Snapshot limit reached.")
    base = f"/api/instances/{instance['id']}/snapshots"

    job, _ = _run(customer, customer.post(base, json={"name": "refused"}))

    assert job["state"] == "failed" and "Snapshot limit reached." in job["error"]
    [failed] = _listed(customer, instance)
    assert failed["status"] == "failed" and "Snapshot limit reached." in failed["error"]
    assert customer.get(f"/api/instances/{instance['id']}").get_json()["status"] == "active"
    assert vultr.snapshots() == []
    for name in ("one", "two"):  # the failed one takes no place in the quota of 2
        assert _run(customer, customer.post(base, json={"name": name}))[0]["state"] == "succeeded"


def test_a_refused_restore_puts_the_machine_and_the_snapshot_back(
    client: FlaskClient, vultr: EmulatorHandle
) -> None:
    customer, instance = _active_machine(client)
    base = f"/api/instances/{instance['id']}/snapshots"
    snapshot = _run(customer, customer.post(base, json={"name": "kept"}))[1]
    vultr.inject("restore", "permanent", status=400, message="Unable to restore.")

    confirm = {"confirm": instance["name"]}
    job, _ = _run(customer, customer.post(f"{base}/{snapshot['id']}/restore", json=confirm))

    assert job["state"] == "failed" and "Unable to restore." in job["error"]
    machine = customer.get(f"/api/instances/{instance['id']}").get_json()
    assert machine["status"] == "active" and "Unable to restore." in machine["status_reason"]
    assert [s["status"] for s in _listed(customer, instance)] == ["available"]


def test_a_terminated_machines_snapshots_are_deleted_at_the_provider(
    client: FlaskClient, vultr: EmulatorHandle, database: Database
) -> None:
    customer, instance = _active_machine(client)
    base = f"/api/instances/{instance['id']}/snapshots"
    assert _run(customer, customer.post(base, json={"name": "kept"}))[0]["state"] == "succeeded"
    assert len(vultr.snapshots()) == 1  # Vultr keeps (and bills) it beyond the machine

    terminated = customer.delete(f"/api/instances/{instance['id']}")
    assert wait_for_job(customer, terminated.get_json()["job"]["id"])["state"] == "succeeded"

    wait_until(lambda: vultr.snapshots() == [] and database.count(Snapshot) == 0, 15)


def test_a_snapshot_never_complete_fails_at_the_deadline(
    client: FlaskClient, vultr: EmulatorHandle, database: Database
) -> None:
    customer, instance = _active_machine(client)
    vultr.settings(snapshot_seconds=600)
    try:
        started = customer.post(f"/api/instances/{instance['id']}/snapshots", json={"name": "x"})
        wait_until(lambda: len(vultr.snapshots()) == 1)
        with database.session() as session:
            session.execute(
                update(Job)
                .where(Job.id == started.get_json()["job"]["id"])
                .values(deadline_at=utcnow() - timedelta(seconds=1))
            )
            session.commit()
        job = wait_for_job(customer, started.get_json()["job"]["id"])
    finally:
        vultr.settings(snapshot_seconds=1.0)

    assert job["state"] == "failed" and "deadline" in job["error"]
    [failed] = _listed(customer, instance)
    assert failed["status"] == "failed" and "deadline" in failed["error"]
