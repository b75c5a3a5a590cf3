"""Reinstalling a machine with a chosen system: typed confirmation, a job, new credentials,
the old ones void; on each provider with a real worker and the emulators over HTTP."""

from __future__ import annotations

import json

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from app.models import AuditEvent, Instance, Job
from tests.support.api import Customer, error_of, order, wait_for_job
from tests.support.database import Database
from tests.support.emulators import EmulatorHandle
from tests.support.factories import make_instance
from tests.support.ssh import public_key

# Vultr serves us-east first; Contabo alone serves australia in the catalogue.
REGION_OF = {"vultr": "us-east", "contabo": "australia"}


def _reinstall(customer: Customer, instance_id: int, **body: object) -> TestResponse:
    return customer.post(f"/api/instances/{instance_id}/reinstall", json=body)


def test_a_mistyped_name_is_422_naming_confirm_and_changes_nothing(
    client: FlaskClient, database: Database, machine_jobs_held: None
) -> None:
    customer = Customer(client)
    instance = make_instance(database, customer.id)
    for confirm in ("", "nemordp", f"nemordp-{instance.id + 1}"):
        response = _reinstall(customer, instance.id, os="linux", confirm=confirm)
        assert response.status_code == 422
        assert "confirm" in error_of(response)["fields"]
    response = _reinstall(customer, instance.id, os="beos", confirm=instance.name)
    assert "os" in error_of(response)["fields"]
    assert database.count(Job) == 0
    assert client.get(f"/api/instances/{instance.id}").get_json()["status"] == "active"


def test_a_reinstall_starts_a_job_once_and_is_audited(
    client: FlaskClient, database: Database, machine_jobs_held: None
) -> None:
    customer = Customer(client)
    instance = make_instance(database, customer.id)

    first = _reinstall(customer, instance.id, os="linux", confirm=f" nemordp-{instance.id} ")
    second = _reinstall(customer, instance.id, os="linux", confirm=f"nemordp-{instance.id}")

    assert first.status_code == second.status_code == 202
    job = first.get_json()["job"]
    assert (job["kind"], job["id"]) == ("reinstall", second.get_json()["job"]["id"])
    shown = client.get(f"/api/instances/{instance.id}").get_json()
    assert shown["status"] == "reinstalling"
    assert "erased" in shown["status_reason"]
    details = database.scalars(
        select(AuditEvent.details).where(AuditEvent.action == "instance.reinstall_requested")
    )
    assert details == [{"instance_id": instance.id, "os": "linux", "ssh_keys": []}]
    assert customer.post(f"/api/instances/{instance.id}/restart").status_code == 409


@pytest.mark.parametrize("status", ["terminated", "pending_payment", "restarting", "failed"])
def test_a_reinstall_from_a_status_that_forbids_it_is_409(
    client: FlaskClient, database: Database, status: str
) -> None:
    customer = Customer(client)
    instance = make_instance(database, customer.id, status=status)
    response = _reinstall(customer, instance.id, os="windows", confirm=instance.name)
    assert response.status_code == 409
    assert status in error_of(response)["message"]
    assert database.count(Job) == 0


def test_someone_elses_machine_is_404(client: FlaskClient, app: Flask, database: Database) -> None:
    instance = make_instance(database, Customer(client).id)
    intruder = Customer(app.test_client())
    response = _reinstall(intruder, instance.id, os="windows", confirm=instance.name)
    assert response.status_code == 404


def test_keys_for_windows_are_422_naming_ssh_key_ids(
    client: FlaskClient, database: Database
) -> None:
    customer = Customer(client)
    key = {"name": "k", "public_key": public_key()}
    key_id = customer.post("/api/account/ssh-keys", json=key).get_json()["id"]
    instance = make_instance(database, customer.id)
    response = _reinstall(
        customer, instance.id, os="windows", confirm=instance.name, ssh_key_ids=[key_id]
    )
    assert response.status_code == 422
    assert "ssh_key_ids" in error_of(response)["fields"]
    assert database.count(Job) == 0


@pytest.mark.parametrize("provider", ["vultr", "contabo"])
def test_a_reinstall_installs_the_chosen_system_with_new_credentials(
    client: FlaskClient,
    database: Database,
    vultr: EmulatorHandle,
    contabo: EmulatorHandle,
    provider: str,
) -> None:
    emulator = {"vultr": vultr, "contabo": contabo}[provider]
    customer = Customer(client)
    ordered = order(customer, os_type="windows", region=REGION_OF[provider])
    instance_id = ordered["instance"]["id"]
    assert wait_for_job(customer, ordered["job"]["id"])["state"] == "succeeded"
    before = client.get(f"/api/instances/{instance_id}/credentials").get_json()
    key = {"name": "laptop", "public_key": public_key()}
    key_id = customer.post("/api/account/ssh-keys", json=key).get_json()["id"]

    response = _reinstall(
        customer, instance_id, os="linux", confirm=f"nemordp-{instance_id}", ssh_key_ids=[key_id]
    )

    assert response.status_code == 202, response.get_json()
    job = wait_for_job(customer, response.get_json()["job"]["id"], timeout=60)
    assert job["state"] == "succeeded", job
    shown = client.get(f"/api/instances/{instance_id}").get_json()
    assert (shown["status"], shown["os_type"], shown["username"]) == ("active", "linux", "nemordp")
    after = client.get(f"/api/instances/{instance_id}/credentials").get_json()
    assert after["password"] != before["password"]
    [machine] = emulator.machines()
    at_provider = machine.get("default_password") or machine.get("rootPassword")
    assert after["password"] == at_provider  # the one the machine now takes; the old is void
    if provider == "contabo":  # Vultr's reinstall takes no keys, only user data
        assert len(machine["sshKeys"]) == 1
    # Either way the desktop user has the key, from the new system's first-boot script.
    user_data = machine["user_data" if provider == "vultr" else "userData"]
    assert f"ssh_authorized_keys:\n      - {json.dumps(key['public_key'])}" in user_data
    assert emulator.calls()["reinstall" if provider == "contabo" else "update"] >= 1
    stored = database.get(Instance, instance_id)
    assert stored is not None and before["password"] not in str(stored.password_encrypted)
    job_row = database.get(Job, job["id"])
    assert job_row is not None and "password" not in job_row.context


def test_a_reinstall_whose_answer_was_lost_is_tried_again_and_its_credentials_hold(
    client: FlaskClient, contabo: EmulatorHandle
) -> None:
    customer = Customer(client)
    ordered = order(customer, os_type="linux", region=REGION_OF["contabo"])
    instance_id = ordered["instance"]["id"]
    assert wait_for_job(customer, ordered["job"]["id"])["state"] == "succeeded"
    contabo.inject("reinstall", "lost_response")  # done at the provider, the answer lost

    response = _reinstall(customer, instance_id, os="linux", confirm=f"nemordp-{instance_id}")

    job = wait_for_job(customer, response.get_json()["job"]["id"], timeout=60)
    assert job["state"] == "succeeded" and job["attempts"] == 2, job
    assert contabo.calls()["reinstall"] == 2
    credentials = client.get(f"/api/instances/{instance_id}/credentials").get_json()
    [machine] = contabo.machines()
    assert credentials["password"] == machine["rootPassword"]
