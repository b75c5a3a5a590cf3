"""Order → active → .rdp → restart → stop → start → terminate, on each provider, with a real
worker, Redis, PostgreSQL and the provider emulators over HTTP."""

from __future__ import annotations

import os

import pytest
from flask.testing import FlaskClient

from tests.support.api import Customer, order, wait_for_job
from tests.support.emulators import EmulatorHandle
from workers.rdp_probe import probe

# Vultr serves us-east first; Contabo alone serves australia in the catalogue.
REGION_OF = {"vultr": "us-east", "contabo": "australia"}


@pytest.mark.parametrize("provider", ["vultr", "contabo"])
def test_a_machine_goes_through_its_whole_life(
    client: FlaskClient,
    vultr: EmulatorHandle,
    contabo: EmulatorHandle,
    provider: str,
) -> None:
    emulator = {"vultr": vultr, "contabo": contabo}[provider]
    customer = Customer(client)
    ordered = order(customer, os_type="windows", region=REGION_OF[provider])
    instance_id = ordered["instance"]["id"]

    job = wait_for_job(customer, ordered["job"]["id"])
    assert job["state"] == "succeeded", job
    instance = client.get(f"/api/instances/{instance_id}").get_json()
    assert instance["status"] == "active" and instance["provider"] == provider
    machines = emulator.machines()
    assert len(machines) == 1
    assert instance["ip_address"] and probe(instance["ip_address"], _rdp_port(), 1)

    rdp = client.get(f"/api/instances/{instance_id}/rdp-file")
    assert rdp.status_code == 200
    assert f"full address:s:{instance['ip_address']}:{_rdp_port()}" in rdp.get_data(as_text=True)
    credentials = client.get(f"/api/instances/{instance_id}/credentials").get_json()
    assert credentials["username"] == "Administrator" and len(credentials["password"]) >= 16

    for action, final in (("restart", "active"), ("stop", "stopped"), ("start", "active")):
        response = customer.post(f"/api/instances/{instance_id}/{action}")
        assert response.status_code == 202
        assert wait_for_job(customer, response.get_json()["job"]["id"])["state"] == "succeeded"
        assert client.get(f"/api/instances/{instance_id}").get_json()["status"] == final
    assert probe(instance["ip_address"], _rdp_port(), 1)  # answering again after start

    response = customer.delete(f"/api/instances/{instance_id}")
    assert wait_for_job(customer, response.get_json()["job"]["id"])["state"] == "succeeded"
    assert client.get(f"/api/instances/{instance_id}").get_json()["status"] == "terminated"
    assert emulator.machines() == []
    assert client.get(f"/api/instances/{instance_id}/credentials").status_code == 409


def test_a_stopped_machine_no_longer_answers_rdp(
    client: FlaskClient, vultr: EmulatorHandle
) -> None:
    customer = Customer(client)
    ordered = order(customer, os_type="linux")
    wait_for_job(customer, ordered["job"]["id"])
    instance = client.get(f"/api/instances/{ordered['instance']['id']}").get_json()
    assert instance["username"] == "nemordp"
    stop = customer.post(f"/api/instances/{instance['id']}/stop").get_json()["job"]
    assert wait_for_job(customer, stop["id"])["state"] == "succeeded"
    assert not probe(instance["ip_address"], _rdp_port(), 0.5)


def _rdp_port() -> int:
    return int(os.environ["RDP_PORT"])
