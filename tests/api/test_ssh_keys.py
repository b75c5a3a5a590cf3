"""SSH keys on the account: checked, fingerprinted, owner-scoped, and chosen by Linux orders."""

from __future__ import annotations

import subprocess

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.models import AuditEvent, Instance, SshKey, instance_ssh_keys
from tests.support.api import Customer, error_of, pay, wait_for_instance_job, wait_for_job
from tests.support.database import Database
from tests.support.emulators import EmulatorHandle
from tests.support.ssh import public_key

KEYS = "/api/account/ssh-keys"


def test_a_key_is_added_with_its_sha256_fingerprint_and_listed(
    client: FlaskClient, database: Database
) -> None:
    customer = Customer(client)
    key = public_key("ed25519", "me@laptop")

    response = customer.post(KEYS, json={"name": "Laptop", "public_key": f"  {key}  "})

    assert response.status_code == 201, response.get_json()
    added = response.get_json()
    assert (added["name"], added["public_key"]) == ("Laptop", key)
    assert added["fingerprint"] == _ssh_keygen_fingerprint(key)
    assert client.get(KEYS).get_json() == {"ssh_keys": [added]}
    events = database.scalars(
        select(AuditEvent.details).where(AuditEvent.action == "ssh_key.added")
    )
    assert events == [{"ssh_key_id": added["id"], "fingerprint": added["fingerprint"]}]
    assert key.split()[1] not in str(events)  # the key itself is named only by fingerprint


def _ssh_keygen_fingerprint(key: str) -> str:
    """What OpenSSH shows for the key (when ssh-keygen is there; else the same formula)."""
    try:
        shown = subprocess.run(
            ["ssh-keygen", "-l", "-f", "-"], input=key, capture_output=True, text=True, check=True
        ).stdout
    except (FileNotFoundError, subprocess.CalledProcessError):
        import base64
        import hashlib

        digest = hashlib.sha256(base64.b64decode(key.split()[1])).digest()
        return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")
    return shown.split()[1]


def test_ecdsa_and_rsa_keys_of_2048_bits_are_accepted(client: FlaskClient) -> None:
    customer = Customer(client)
    for kind in ("ecdsa", "rsa2048"):
        response = customer.post(KEYS, json={"name": kind, "public_key": public_key(kind)})
        assert response.status_code == 201, (kind, response.get_json())
    assert len(client.get(KEYS).get_json()["ssh_keys"]) == 2


def test_bad_keys_are_422_naming_public_key(client: FlaskClient, database: Database) -> None:
    customer = Customer(client)
    ed25519 = public_key("ed25519")
    for bad in (
        public_key("rsa1024"),  # too short
        "ssh-ed25519 AAAA",  # not a key
        "-----BEGIN OPENSSH PRIVATE KEY-----",  # a private key must never be taken
        ed25519.replace("ssh-ed25519", "ssh-dss", 1),
    ):
        response = customer.post(KEYS, json={"name": "bad", "public_key": bad})
        assert response.status_code == 422, bad
        assert "public_key" in error_of(response)["fields"], bad
    response = customer.post(KEYS, json={"name": "", "public_key": ed25519})
    assert "name" in error_of(response)["fields"]
    assert database.count(SshKey) == 0


def test_the_same_key_twice_is_409(client: FlaskClient) -> None:
    customer = Customer(client)
    key = public_key()
    assert customer.post(KEYS, json={"name": "one", "public_key": key}).status_code == 201
    again = customer.post(KEYS, json={"name": "two", "public_key": f"{key.rsplit(' ', 1)[0]} x"})
    assert again.status_code == 409


def test_keys_are_the_owners_alone(client: FlaskClient, app: Flask, database: Database) -> None:
    owner = Customer(client)
    key_id = owner.post(KEYS, json={"name": "mine", "public_key": public_key()}).get_json()["id"]
    intruder = Customer(app.test_client())

    assert intruder.get(KEYS).get_json() == {"ssh_keys": []}
    assert intruder.delete(f"{KEYS}/{key_id}").status_code == 404
    assert database.count(SshKey) == 1
    assert owner.delete(f"{KEYS}/{key_id}").status_code == 204
    assert database.count(SshKey) == 0
    assert owner.delete(f"{KEYS}/{key_id}").status_code == 404


def test_a_linux_order_keeps_the_keys_it_chose(
    client: FlaskClient, database: Database, stripe_server: str
) -> None:
    customer = Customer(client)
    key_id = customer.post(KEYS, json={"name": "k", "public_key": public_key()}).get_json()["id"]

    response = customer.post(
        "/api/instances",
        json={"plan": "basic", "os_type": "linux", "region": "us-east", "ssh_key_ids": [key_id]},
    )

    assert response.status_code == 202, response.get_json()
    instance_id = response.get_json()["instance"]["id"]
    chosen = select(instance_ssh_keys.c.ssh_key_id).where(
        instance_ssh_keys.c.instance_id == instance_id
    )
    assert database.scalars(chosen) == [key_id]


def test_an_order_with_keys_for_windows_or_someone_elses_keys_is_422(
    client: FlaskClient, app: Flask, database: Database
) -> None:
    customer = Customer(client)
    mine = customer.post(KEYS, json={"name": "k", "public_key": public_key()}).get_json()["id"]
    other = Customer(app.test_client())
    theirs = other.post(KEYS, json={"name": "k", "public_key": public_key()}).get_json()["id"]
    for os_type, ids in (("windows", [mine]), ("linux", [theirs]), ("linux", [mine, 999999])):
        response = customer.post(
            "/api/instances",
            json={"plan": "basic", "os_type": os_type, "region": "us-east", "ssh_key_ids": ids},
        )
        assert response.status_code == 422, (os_type, ids)
        assert "ssh_key_ids" in error_of(response)["fields"], (os_type, ids)
    assert database.count(Instance) == 0


@pytest.mark.parametrize("provider", ["vultr", "contabo"])
def test_a_paid_linux_order_is_built_with_its_keys_at_the_provider(
    client: FlaskClient, vultr: EmulatorHandle, contabo: EmulatorHandle, provider: str
) -> None:
    emulator = {"vultr": vultr, "contabo": contabo}[provider]
    customer = Customer(client)
    key = public_key()
    key_id = customer.post(KEYS, json={"name": "k", "public_key": key}).get_json()["id"]
    region = {"vultr": "us-east", "contabo": "australia"}[provider]
    body = {"plan": "basic", "os_type": "linux", "region": region, "ssh_key_ids": [key_id]}
    ordered = customer.post("/api/instances", json=body).get_json()
    assert pay(ordered["checkout_url"]).status_code == 303

    job = wait_for_instance_job(customer, ordered["instance"]["id"], "provision")
    assert wait_for_job(customer, job["id"])["state"] == "succeeded"

    [machine] = emulator.machines()
    assert len(machine.get("sshkey_ids") or machine.get("sshKeys") or []) == 1
