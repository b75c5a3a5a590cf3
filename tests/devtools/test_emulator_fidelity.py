"""The emulators answer the operations NemoRDP uses in the shapes the providers publish.

The schemas are `devtools/emulators/specs/`: the response schemas of those operations,
reduced from the providers' published OpenAPI descriptions to their structure (types,
required fields, nullability). A field the description marks required must be there, and a
non-nullable string is never null.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema_rs
import pytest

from devtools.emulators import contabo, vultr
from tests.support.emulators import ServedEmulator, quick_settings, serving, wait_until

SPECS = Path(vultr.__file__).parent / "specs"
PASSWORD = "Desk2024!!secret"


def schemas(name: str) -> dict[str, Any]:
    found: dict[str, Any] = json.loads((SPECS / f"{name}-responses.json").read_text())
    return found


def problems(schema: dict[str, Any] | None, response: httpx.Response) -> list[str]:
    """What in the response breaks the schema ('' for a body the operation has none of)."""
    if schema is None:
        return [] if not response.content else [f"unexpected body {response.text[:80]}"]
    validator = jsonschema_rs.validator_for(schema)
    return [
        f"{'/'.join(map(str, error.instance_path))}: {error.message}"
        for error in validator.iter_errors(response.json())
    ]


class Recorder:
    """Calls an emulator and keeps each answer under its operation's key in the schemas."""

    def __init__(self, client: httpx.Client, schemas: dict[str, Any]) -> None:
        self.client = client
        self.schemas = schemas
        self.broken: dict[str, list[str]] = {}

    def call(self, key: str, path: str, **options: Any) -> httpx.Response:
        method, _, rest = key.partition(" ")
        status = int(rest.rsplit(" ", 1)[1])
        response = self.client.request(method, path, **options)
        assert response.status_code == status, (key, response.text)
        if found := problems(self.schemas[key], response):
            self.broken[key] = found
        return response

    def checked(self) -> set[str]:
        return set(self.schemas)


# -- Vultr --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def vultr_server() -> Iterator[ServedEmulator]:
    with serving(vultr.create_app(quick_settings(33896, "127.26"))) as server:
        yield server


def test_the_vultr_emulator_answers_as_vultr_describes(vultr_server: ServedEmulator) -> None:
    vultr_server.fresh()
    headers = {"Authorization": "Bearer key"}
    with httpx.Client(base_url=f"{vultr_server.url}/v2", headers=headers, timeout=10) as client:
        api = Recorder(client, schemas("vultr-v2"))
        os_list = api.call("GET /os 200", "/os").json()["os"]
        body = {
            "region": "ewr",
            "plan": "vc2-1c-1gb",
            "os_id": os_list[0]["id"],
            "label": "desk",
            "enable_ipv6": True,
        }
        instance_id = api.call("POST /instances 202", "/instances", json=body).json()["instance"][
            "id"
        ]
        path = f"/instances/{instance_id}"
        wait_until(lambda: client.get(path).json()["instance"]["server_status"] == "ok", 5)
        api.call("GET /instances 200", "/instances")
        one = api.call("GET /instances/{instance-id} 200", path).json()["instance"]
        api.call("PATCH /instances/{instance-id} 202", path, json={"label": "renamed"})
        api.call("POST /instances/{instance-id}/reinstall 202", f"{path}/reinstall", json={})
        api.call("GET /instances/{instance-id}/bandwidth 200", f"{path}/bandwidth")
        key = {"name": "laptop", "ssh_key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA laptop"}
        api.call("POST /ssh-keys 201", "/ssh-keys", json=key)
        api.call("GET /ssh-keys 200", "/ssh-keys")
        taken = {"instance_id": instance_id, "description": "before-update"}
        snapshot = api.call("POST /snapshots 201", "/snapshots", json=taken).json()["snapshot"]
        snapshot_path = f"/snapshots/{snapshot['id']}"
        wait_until(lambda: client.get(snapshot_path).json()["snapshot"]["status"] == "complete", 5)
        api.call("GET /snapshots 200", "/snapshots")
        api.call("GET /snapshots/{snapshot-id} 200", snapshot_path)
        restore = {"snapshot_id": snapshot["id"]}
        api.call("POST /instances/{instance-id}/restore 202", f"{path}/restore", json=restore)
        api.call("DELETE /snapshots/{snapshot-id} 204", snapshot_path)

    assert api.broken == {}
    assert one["v6_networks"][0]["main_ip"]
    assert {"/os", "/instances"} <= {key.split(" ")[1] for key in api.checked()}


# -- Contabo ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def contabo_server() -> Iterator[ServedEmulator]:
    with serving(contabo.create_app(quick_settings(33897, "127.27"))) as server:
        yield server


@pytest.fixture()
def contabo_api(contabo_server: ServedEmulator) -> Iterator[httpx.Client]:
    contabo_server.fresh()
    login = {"grant_type": "password", "client_id": "c", "client_secret": "s"}
    login |= {"username": "u", "password": "p"}
    token = httpx.post(f"{contabo_server.url}{contabo.TOKEN_PATH}", data=login).json()
    headers = {"Authorization": f"Bearer {token['access_token']}"}

    def add_request_id(request: httpx.Request) -> None:
        request.headers["x-request-id"] = str(uuid.uuid4())

    with httpx.Client(
        base_url=contabo_server.url,
        headers=headers,
        event_hooks={"request": [add_request_id]},
        timeout=10,
    ) as client:
        yield client


def test_the_contabo_emulator_answers_as_contabo_describes(contabo_api: httpx.Client) -> None:
    api = Recorder(contabo_api, schemas("contabo-v1"))
    images = api.call("GET /v1/compute/images 200", "/v1/compute/images").json()["data"]
    secret = {"name": "desk-password", "value": PASSWORD, "type": "password"}
    stored = api.call("POST /v1/secrets 201", "/v1/secrets", json=secret).json()["data"][0]
    api.call("GET /v1/secrets 200", "/v1/secrets", params={"type": "password"})
    order = {
        "imageId": images[0]["imageId"],
        "productId": "V91",
        "region": "EU",
        "displayName": "desk",
        "defaultUser": "root",
        "rootPassword": stored["secretId"],
        "period": 1,
    }
    created = api.call("POST /v1/compute/instances 201", "/v1/compute/instances", json=order)
    path = f"/v1/compute/instances/{created.json()['data'][0]['instanceId']}"
    wait_until(lambda: contabo_api.get(path).json()["data"][0]["status"] == "running", 5)
    api.call("GET /v1/compute/instances 200", "/v1/compute/instances")
    api.call("GET /v1/compute/instances/{instanceId} 200", path)
    for action in ("shutdown", "start", "restart"):
        key = f"POST /v1/compute/instances/{{instanceId}}/actions/{action} 201"
        api.call(key, f"{path}/actions/{action}")
    reinstall = {"imageId": images[0]["imageId"], "defaultUser": "root", "userData": ""}
    api.call("PUT /v1/compute/instances/{instanceId} 200", path, json=reinstall)
    snapshots = f"{path}/snapshots"
    key = "POST /v1/compute/instances/{instanceId}/snapshots 201"
    taken = api.call(key, snapshots, json={"name": "before-update"}).json()["data"][0]
    one_snapshot = f"{snapshots}/{taken['snapshotId']}"
    api.call("GET /v1/compute/instances/{instanceId}/snapshots 200", snapshots)
    key = "GET /v1/compute/instances/{instanceId}/snapshots/{snapshotId} 200"
    api.call(key, one_snapshot)
    key = "POST /v1/compute/instances/{instanceId}/snapshots/{snapshotId}/rollback 200"
    api.call(key, f"{one_snapshot}/rollback", json={})
    key = "DELETE /v1/compute/instances/{instanceId}/snapshots/{snapshotId} 204"
    api.call(key, one_snapshot)
    api.call("POST /v1/compute/instances/{instanceId}/cancel 201", f"{path}/cancel", json={})

    assert api.broken == {}


def test_a_contabo_instance_in_error_still_has_a_string_error_message(
    contabo_server: ServedEmulator, contabo_api: httpx.Client
) -> None:
    images = contabo_api.get("/v1/compute/images").json()["data"]
    order = {"imageId": images[0]["imageId"], "period": 1}
    created = contabo_api.post("/v1/compute/instances", json=order).json()["data"][0]
    instance_id = created["instanceId"]
    admin = contabo_server.admin.http
    admin.post(f"/instances/{instance_id}/status", json={"status": None}).raise_for_status()
    api = Recorder(contabo_api, schemas("contabo-v1"))

    found = api.call(
        "GET /v1/compute/instances/{instanceId} 200", f"/v1/compute/instances/{instance_id}"
    ).json()["data"][0]

    assert api.broken == {}
    assert found["errorMessage"] == ""
