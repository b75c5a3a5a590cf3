"""The machine's password never travels in its user data, which any process on the machine
can read from the metadata service and the provider keeps: the provider's own password
facility sets it (Vultr generates it, Contabo takes ours as a secret), and the credentials
the customer sees are the ones the machine really has. Driven through the real worker and
the provider emulators."""

from __future__ import annotations

import base64
import binascii
import os
import re
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from app.models.instance import machine_label
from tests.support.api import Customer, order, wait_for_job
from tests.support.emulators import EmulatorHandle

WORKER_LOG = Path(__file__).resolve().parents[2] / "test-artifacts" / "worker.log"

# Vultr serves us-east first; Contabo alone serves australia in the catalogue.
REGION_OF = {"vultr": "us-east", "contabo": "australia"}
# How each emulator's admin view names the password it set and the user data it received.
PASSWORD_FIELD = {"vultr": "default_password", "contabo": "rootPassword"}
USER_DATA_FIELD = {"vultr": "user_data", "contabo": "userData"}
LABEL_FIELD = {"vultr": "label", "contabo": "displayName"}


def _readable(user_data: str) -> str:
    """The user data with every base64 blob in it decoded (the agent's files travel so)."""
    decoded = []
    for blob in re.findall(r"[A-Za-z0-9+/=]{16,}", user_data):
        try:
            decoded.append(base64.b64decode(blob + "=" * (-len(blob) % 4)).decode())
        except (binascii.Error, UnicodeDecodeError):
            continue
    return "\n".join([user_data, *decoded])


def _provisioned(
    client: FlaskClient, emulator: EmulatorHandle, provider: str, os_type: str
) -> tuple[dict[str, str], dict[str, Any]]:
    """Order and provision a machine; its credentials as the customer sees them, and the
    machine as the emulator holds it."""
    customer = Customer(client)
    ordered = order(customer, os_type=os_type, region=REGION_OF[provider])
    job = wait_for_job(customer, ordered["job"]["id"], timeout=45)
    assert job["state"] == "succeeded", job
    instance_id = ordered["instance"]["id"]
    instance = customer.get(f"/api/instances/{instance_id}").get_json()
    assert instance["provider"] == provider
    credentials: dict[str, str] = customer.get(
        f"/api/instances/{instance_id}/credentials"
    ).get_json()
    label = machine_label(os.environ["INSTALL_ID"], instance_id)
    [machine] = [m for m in emulator.machines() if m[LABEL_FIELD[provider]] == label]
    return credentials, machine


@pytest.mark.parametrize("os_type", ["windows", "linux"])
@pytest.mark.parametrize("provider", ["vultr", "contabo"])
def test_no_user_data_carries_the_password_and_the_credentials_are_the_machines(
    client: FlaskClient,
    vultr: EmulatorHandle,
    contabo: EmulatorHandle,
    provider: str,
    os_type: str,
) -> None:
    emulator = {"vultr": vultr, "contabo": contabo}[provider]
    log_start = WORKER_LOG.stat().st_size

    credentials, machine = _provisioned(client, emulator, provider, os_type)

    password = credentials["password"]
    assert password and password == machine[PASSWORD_FIELD[provider]]
    user_data = machine[USER_DATA_FIELD[provider]]
    assert "nrag_" in _readable(user_data)  # the first-boot script, agent token and all
    assert password not in _readable(user_data)
    assert "net user" not in user_data and "chpasswd" not in user_data
    worker_log = WORKER_LOG.read_bytes()[log_start:].decode(errors="replace")
    assert "provisioning.create_machine" in worker_log and password not in worker_log


@pytest.mark.parametrize("provider", ["vultr", "contabo"])
def test_after_a_lost_create_answer_the_credentials_are_still_the_machines(
    client: FlaskClient, vultr: EmulatorHandle, contabo: EmulatorHandle, provider: str
) -> None:
    emulator = {"vultr": vultr, "contabo": contabo}[provider]
    emulator.inject("create", "lost_response")

    credentials, machine = _provisioned(client, emulator, provider, "windows")

    assert credentials["password"] == machine[PASSWORD_FIELD[provider]]
    assert len(emulator.machines()) == 1
    assert credentials["password"] not in _readable(machine[USER_DATA_FIELD[provider]])
