"""/api/instances/<id>/snapshots: listing with the plan's quota and price, taking,
restoring with a typed confirmation, deleting, and who may do what. Jobs stay queued here
(`machine_jobs_held`); tests/tasks/test_snapshot_jobs.py runs them."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.models import AuditEvent, Instance, Job, Snapshot, SnapshotStatus
from tests.support.api import Customer, error_of
from tests.support.database import Database
from tests.support.factories import make_instance

pytestmark = pytest.mark.usefixtures("machine_jobs_held")


def _snapshot(database: Database, instance: Instance, status: str, name: str = "s") -> Snapshot:
    row = Snapshot(instance_id=instance.id, name=name, status=status, provider_snapshot_id="p1")
    database.add(row)
    return row


def test_a_machine_without_snapshots_shows_its_plans_quota(
    client: FlaskClient, database: Database
) -> None:
    customer = Customer(client)
    basic = make_instance(database, customer.id)
    larger = make_instance(database, customer.id, plan="performance", provider="contabo")

    listed = customer.get(f"/api/instances/{basic.id}/snapshots").get_json()
    dearer = customer.get(f"/api/instances/{larger.id}/snapshots").get_json()

    assert listed == {"snapshots": [], "available": True, "quota": 2}
    assert dearer["quota"] == 3


def test_taking_a_snapshot_is_a_job_and_the_machine_keeps_its_status(
    client: FlaskClient, database: Database
) -> None:
    customer = Customer(client)
    instance = make_instance(database, customer.id)

    response = customer.post(f"/api/instances/{instance.id}/snapshots", json={"name": " Before "})

    assert response.status_code == 202
    body = response.get_json()
    assert body["job"]["kind"] == "snapshot_create" and body["job"]["state"] == "queued"
    assert body["snapshot"]["name"] == "Before" and body["snapshot"]["status"] == "creating"
    listed = customer.get(f"/api/instances/{instance.id}/snapshots").get_json()["snapshots"]
    assert [s["id"] for s in listed] == [body["snapshot"]["id"]]
    assert client.get(f"/api/instances/{instance.id}").get_json()["status"] == "active"
    job = database.get(Job, body["job"]["id"])
    assert job is not None and job.context == {"snapshot_id": body["snapshot"]["id"]}
    events = database.scalars(
        select(AuditEvent).where(AuditEvent.action == "snapshot.create_requested")
    )
    assert [(e.user_id, e.details["snapshot"]) for e in events] == [(customer.id, "Before")]


def test_over_the_quota_is_409_naming_it_and_failed_snapshots_do_not_count(
    client: FlaskClient, database: Database
) -> None:
    customer = Customer(client)
    instance = make_instance(database, customer.id)
    _snapshot(database, instance, SnapshotStatus.FAILED)
    path = f"/api/instances/{instance.id}/snapshots"
    for name in ("one", "two"):
        assert customer.post(path, json={"name": name}).status_code == 202

    refused = customer.post(path, json={"name": "three"})

    assert refused.status_code == 409
    error = error_of(refused)
    assert "quota" in error["message"] and "keeps 2 snapshots" in error["message"]
    assert error["fields"] == {"quota": 2}
    assert database.count(Snapshot) == 3


@pytest.mark.parametrize(
    ("body", "field"),
    [({}, "name"), ({"name": "   "}, "name"), ({"name": "a\nb"}, "name"), ({"name": 7}, "name")],
)
def test_a_bad_name_is_422_naming_the_field(
    client: FlaskClient, database: Database, body: dict[str, object], field: str
) -> None:
    customer = Customer(client)
    instance = make_instance(database, customer.id)
    response = customer.post(f"/api/instances/{instance.id}/snapshots", json=body)
    assert response.status_code == 422
    assert field in error_of(response)["fields"]
    assert database.count(Snapshot) == 0


@pytest.mark.parametrize("status", ["terminated", "pending_payment", "restarting"])
def test_no_snapshot_of_a_machine_in_the_wrong_state(
    client: FlaskClient, database: Database, status: str
) -> None:
    customer = Customer(client)
    instance = make_instance(database, customer.id, status=status)
    response = customer.post(f"/api/instances/{instance.id}/snapshots", json={"name": "x"})
    assert response.status_code == 409
    assert database.count(Snapshot) == 0 and database.count(Job) == 0


def test_a_machine_not_yet_at_a_provider_has_no_snapshots(
    client: FlaskClient, database: Database
) -> None:
    customer = Customer(client)
    instance = make_instance(database, customer.id, provider_id=None)
    response = customer.post(f"/api/instances/{instance.id}/snapshots", json={"name": "x"})
    assert response.status_code == 409 and "cannot take snapshots" in error_of(response)["message"]


def test_someone_elses_machine_and_snapshots_are_404(
    client: FlaskClient, app: Flask, database: Database
) -> None:
    owner = Customer(client)
    instance = make_instance(database, owner.id)
    snapshot = _snapshot(database, instance, SnapshotStatus.AVAILABLE)
    stranger = Customer(app.test_client())
    mine = make_instance(database, stranger.id)
    base = f"/api/instances/{instance.id}/snapshots"
    confirm = {"confirm": f"nemordp-{instance.id}"}

    answers = [
        stranger.get(base),
        stranger.post(base, json={"name": "x"}),
        stranger.delete(f"{base}/{snapshot.id}"),
        stranger.post(f"{base}/{snapshot.id}/restore", json=confirm),
        # Through a machine of their own, another's snapshot is not found either.
        stranger.delete(f"/api/instances/{mine.id}/snapshots/{snapshot.id}"),
        stranger.post(
            f"/api/instances/{mine.id}/snapshots/{snapshot.id}/restore",
            json={"confirm": f"nemordp-{mine.id}"},
        ),
    ]

    assert [r.status_code for r in answers] == [404] * 6
    assert database.count(Job) == 0
    again = database.get(Snapshot, snapshot.id)
    assert again is not None and again.status == SnapshotStatus.AVAILABLE


def test_a_restore_needs_the_machines_name_typed(client: FlaskClient, database: Database) -> None:
    customer = Customer(client)
    instance = make_instance(database, customer.id)
    snapshot = _snapshot(database, instance, SnapshotStatus.AVAILABLE)
    path = f"/api/instances/{instance.id}/snapshots/{snapshot.id}/restore"

    for body in ({}, {"confirm": "yes"}):
        response = customer.post(path, json=body)
        assert response.status_code == 422
        assert "confirm" in error_of(response)["fields"]
    assert database.count(Job) == 0

    restored = customer.post(path, json={"confirm": f"nemordp-{instance.id}"})
    assert restored.status_code == 202
    assert restored.get_json()["job"]["kind"] == "snapshot_restore"
    assert restored.get_json()["snapshot"]["status"] == "restoring"
    machine = client.get(f"/api/instances/{instance.id}").get_json()
    assert machine["status"] == "restoring" and "overwritten" in machine["status_reason"]


def test_only_an_available_snapshot_is_restored_or_deleted(
    client: FlaskClient, database: Database
) -> None:
    customer = Customer(client)
    instance = make_instance(database, customer.id)
    busy = _snapshot(database, instance, SnapshotStatus.CREATING)
    failed = _snapshot(database, instance, SnapshotStatus.FAILED)
    base = f"/api/instances/{instance.id}/snapshots"
    confirm = {"confirm": f"nemordp-{instance.id}"}

    assert customer.post(f"{base}/{busy.id}/restore", json=confirm).status_code == 409
    assert customer.post(f"{base}/{failed.id}/restore", json=confirm).status_code == 409
    assert customer.delete(f"{base}/{busy.id}").status_code == 409
    deleted = customer.delete(f"{base}/{failed.id}")

    assert deleted.status_code == 202
    assert deleted.get_json()["job"]["kind"] == "snapshot_delete"
    assert deleted.get_json()["snapshot"]["status"] == "deleting"
    assert client.get(f"/api/instances/{instance.id}").get_json()["status"] == "active"


def test_the_snapshot_routes_are_described_in_the_openapi_document(client: FlaskClient) -> None:
    paths = client.get("/api/openapi.json").get_json()["paths"]
    assert {"get", "post"} <= set(paths["/api/instances/{instance_id}/snapshots"])
    assert "post" in paths["/api/instances/{instance_id}/snapshots/{snapshot_id}/restore"]
    assert "delete" in paths["/api/instances/{instance_id}/snapshots/{snapshot_id}"]
