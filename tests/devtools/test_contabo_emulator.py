"""The Contabo emulator over real HTTP: Contabo's paths, bodies, status codes and error shape."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from devtools.emulators.contabo import TOKEN_PATH, create_app
from devtools.emulators.core import EmulatorSettings
from tests.support.emulators import (
    EmulatorHandle,
    ServedEmulator,
    emulator_process,
    first_answer,
    free_port,
    quick_settings,
    serving,
    wait_until,
)
from workers.rdp_probe import probe

RDP_PORT = 33892
LOGIN = {
    "client_id": "emulator-client",
    "client_secret": "emulator-secret",
    "username": "api@example.com",
    "password": "api-password",
    "grant_type": "password",
}
GOOD_PASSWORD = "Desk2024!!x"
SHORT_TOKEN_LIFETIME = 0.3
WINDOWS = "windows-server-2022-se"
UBUNTU = "ubuntu-22.04"
ORDER = {
    "productId": "V91",
    "region": "EU",
    "displayName": "desk-1",
    "defaultUser": "administrator",
    "period": 1,
}


def settings() -> EmulatorSettings:
    return quick_settings(RDP_PORT, "127.22", boot_seconds=0.6, ip_delay_seconds=0.2)


@pytest.fixture(scope="module")
def server() -> Iterator[ServedEmulator]:
    with serving(create_app(settings())) as server:
        yield server


@pytest.fixture(scope="module")
def strict_server() -> Iterator[str]:
    """An emulator that knows one set of credentials and hands out short-lived tokens."""
    credentials = {k: v for k, v in LOGIN.items() if k != "grant_type"}
    with serving(create_app(settings(), SHORT_TOKEN_LIFETIME, credentials=credentials)) as server:
        yield server.url


@pytest.fixture()
def token(server: ServedEmulator) -> str:
    """A fresh access token (a test may revoke them all)."""
    response = server.admin.http.post(f"{server.url}{TOKEN_PATH}", data=LOGIN)
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


@pytest.fixture(scope="module")
def api_client(server: ServedEmulator) -> Iterator[httpx.Client]:
    """Sends a fresh x-request-id on every call."""

    def add_request_id(request: httpx.Request) -> None:
        request.headers.setdefault("x-request-id", str(uuid.uuid4()))

    hooks = {"request": [add_request_id]}
    with httpx.Client(base_url=f"{server.url}/v1", event_hooks=hooks, timeout=10) as client:
        yield client


@pytest.fixture()
def api(api_client: httpx.Client, admin: EmulatorHandle, token: str) -> httpx.Client:
    api_client.headers["Authorization"] = f"Bearer {token}"
    return api_client


def contabo_error(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"statusCode", "message"}
    assert body["statusCode"] == status
    return str(body["message"])


def secret(api: httpx.Client, value: str = GOOD_PASSWORD, kind: str = "password") -> int:
    response = api.post("/secrets", json={"name": "desk-password", "value": value, "type": kind})
    assert response.status_code == 201, response.text
    return int(response.json()["data"][0]["secretId"])


def image_id(api: httpx.Client, name: str) -> str:
    """The emulator's id of the standard image called ``name``."""
    response = api.get("/compute/images", params={"name": name})
    assert response.status_code == 200, response.text
    [image] = [i for i in response.json()["data"] if i["name"] == name]
    return str(image["imageId"])


def order(api: httpx.Client, **fields: Any) -> dict[str, Any]:
    body = {**ORDER, "imageId": image_id(api, WINDOWS), **fields}
    response = api.post("/compute/instances", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()["data"][0]
    return created


def instance(api: httpx.Client, instance_id: int) -> dict[str, Any]:
    response = api.get(f"/compute/instances/{instance_id}")
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()["data"][0]
    return found


def answering_rdp(api: httpx.Client) -> tuple[int, str]:
    """Order an instance and wait until it answers RDP; its id and address."""
    instance_id = order(api)["instanceId"]
    ip = wait_until(lambda: instance(api, instance_id)["ipConfig"]["v4"]["ip"], timeout=5)
    wait_until(lambda: probe(ip, RDP_PORT, timeout=0.5), timeout=5)
    return instance_id, ip


# -- OAuth2 -----------------------------------------------------------------------------
def test_the_password_grant_issues_an_access_and_a_refresh_token(
    server: ServedEmulator,
) -> None:
    response = httpx.post(f"{server.url}{TOKEN_PATH}", data=LOGIN)

    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 300
    assert body["refresh_expires_in"] > body["expires_in"]
    assert body["access_token"] and body["refresh_token"]


def test_the_refresh_grant_issues_a_working_access_token(server: ServedEmulator) -> None:
    first = httpx.post(f"{server.url}{TOKEN_PATH}", data=LOGIN).json()
    form = {**LOGIN, "grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    del form["username"], form["password"]

    refreshed = httpx.post(f"{server.url}{TOKEN_PATH}", data=form).json()
    response = httpx.get(
        f"{server.url}/v1/compute/instances",
        headers={
            "Authorization": f"Bearer {refreshed['access_token']}",
            "x-request-id": str(uuid.uuid4()),
        },
    )

    assert refreshed["access_token"] != first["access_token"]
    assert response.status_code == 200


def test_an_unknown_refresh_token_is_refused_like_keycloak_does(server: ServedEmulator) -> None:
    form = {**LOGIN, "grant_type": "refresh_token", "refresh_token": "made-up"}

    response = httpx.post(f"{server.url}{TOKEN_PATH}", data=form)

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_configured_credentials_refuse_a_wrong_api_password(strict_server: str) -> None:
    wrong = httpx.post(f"{strict_server}{TOKEN_PATH}", data={**LOGIN, "password": "guess"})
    wrong_client = httpx.post(
        f"{strict_server}{TOKEN_PATH}", data={**LOGIN, "client_secret": "guess"}
    )
    right = httpx.post(f"{strict_server}{TOKEN_PATH}", data=LOGIN)

    assert (wrong.status_code, wrong.json()["error"]) == (401, "invalid_grant")
    assert (wrong_client.status_code, wrong_client.json()["error"]) == (401, "unauthorized_client")
    assert right.status_code == 200


def test_api_calls_without_a_valid_bearer_token_are_401(
    server: ServedEmulator, admin: EmulatorHandle
) -> None:
    headers = {"x-request-id": str(uuid.uuid4())}
    missing = httpx.get(f"{server.url}/v1/compute/instances", headers=headers)
    unknown = httpx.get(
        f"{server.url}/v1/compute/instances",
        headers={**headers, "Authorization": "Bearer not-a-token"},
    )

    assert contabo_error(missing, 401)
    assert contabo_error(unknown, 401)


def test_an_access_token_stops_working_after_its_lifetime(strict_server: str) -> None:
    access = httpx.post(f"{strict_server}{TOKEN_PATH}", data=LOGIN).json()["access_token"]
    headers = {"Authorization": f"Bearer {access}", "x-request-id": str(uuid.uuid4())}

    fresh = httpx.get(f"{strict_server}/v1/compute/instances", headers=headers)
    time.sleep(SHORT_TOKEN_LIFETIME + 0.1)
    stale = httpx.get(f"{strict_server}/v1/compute/instances", headers=headers)

    assert fresh.status_code == 200
    assert stale.json() == {"statusCode": 401, "message": "Unauthorized"}
    assert stale.status_code == 401


@pytest.mark.parametrize("request_id", [None, "", "12345", "not-a-uuid-at-all-not-a-uuid-at-all"])
def test_api_calls_without_a_uuid_x_request_id_are_400(
    server: ServedEmulator, token: str, admin: EmulatorHandle, request_id: str | None
) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    if request_id is not None:
        headers["x-request-id"] = request_id

    response = httpx.get(f"{server.url}/v1/compute/instances", headers=headers)

    assert "x-request-id" in contabo_error(response, 400)


# -- secrets ----------------------------------------------------------------------------
def test_a_password_secret_is_stored_and_answered_with_its_id_and_value(
    api: httpx.Client,
) -> None:
    response = api.post(
        "/secrets", json={"name": "desk", "value": GOOD_PASSWORD, "type": "password"}
    )

    assert response.status_code == 201
    data = response.json()["data"][0]
    assert isinstance(data["secretId"], int)
    assert data["type"] == "password"
    assert data["value"] == GOOD_PASSWORD  # Contabo's answer repeats it


@pytest.mark.parametrize(
    ("password", "rule"),
    [
        ("Ab1!!", "at least 8 characters"),
        ("desk2024!!", "upper case and one lower case"),
        ("DESK2024!!", "upper case and one lower case"),
        ("Deskdesk1!", "one number and two special characters"),
        ("Desk12!x", "three numbers and one"),
        ("Deskdesk123", "three numbers and one"),
    ],
)
def test_a_password_breaking_contabos_rules_is_400_naming_the_rule(
    api: httpx.Client, password: str, rule: str
) -> None:
    response = api.post("/secrets", json={"name": "desk", "value": password, "type": "password"})

    message = contabo_error(response, 400)
    assert rule in message
    assert password not in message


@pytest.mark.parametrize("password", ["Deskdesk1!!", "Deskdesk123!", "Ab1!@cdefg"])
def test_passwords_meeting_either_rule_are_accepted(api: httpx.Client, password: str) -> None:
    assert secret(api, password) > 0


# -- create -----------------------------------------------------------------------------
def test_create_answers_201_with_the_ordered_instance(api: httpx.Client) -> None:
    password_id = secret(api)

    created = order(api, rootPassword=password_id, userData="#ps1_sysnative\necho hi")

    assert isinstance(created["instanceId"], int)
    assert created["status"] == "provisioning"
    assert created["productId"] == "V91"
    assert created["region"] == "EU"
    assert created["imageId"] == image_id(api, WINDOWS)
    assert created["osType"] == "Windows"
    assert created["createdDate"].endswith("Z")


def test_a_body_with_only_period_orders_a_default_machine(
    api: httpx.Client, admin: EmulatorHandle
) -> None:
    response = api.post("/compute/instances", json={"period": 1})

    assert response.status_code == 201, response.text
    created = response.json()["data"][0]
    assert (created["productId"], created["region"]) == ("V92", "EU")
    assert created["imageId"] == image_id(api, UBUNTU)
    [machine] = admin.machines()
    assert machine["displayName"] == ""
    assert machine["defaultUser"] == "admin"


def test_the_admin_view_shows_the_root_password_and_plain_user_data(
    api: httpx.Client, admin: EmulatorHandle
) -> None:
    order(api, rootPassword=secret(api), userData="#cloud-config\nruncmd: []")

    [machine] = admin.machines()

    assert machine["rootPassword"] == GOOD_PASSWORD
    assert machine["userData"] == "#cloud-config\nruncmd: []"
    assert machine["period"] == 1


@pytest.mark.parametrize(
    ("fields", "status", "words"),
    [
        ({"period": None}, 400, "period"),
        ({"period": 2}, 400, "period"),
        ({"region": "MARS"}, 400, "region"),
        ({"productId": "V999"}, 400, "productId"),
        ({"displayName": "x" * 256}, 400, "displayName"),
        ({"defaultUser": "root"}, 400, "defaultUser"),
        ({"defaultUser": "god"}, 400, "defaultUser"),
        ({"userData": 42}, 400, "userData"),
        ({"rootPassword": 999999}, 404, "Secret not found"),
        ({"rootPassword": "one"}, 400, "integers"),
        ({"sshKeys": [999999]}, 404, "Secret not found"),
        ({"imageId": str(uuid.uuid4())}, 404, "Image not found"),
    ],
)
def test_create_refuses_invalid_fields(
    api: httpx.Client, admin: EmulatorHandle, fields: dict[str, Any], status: int, words: str
) -> None:
    wanted = {**ORDER, "imageId": image_id(api, WINDOWS), **fields}
    body = {k: v for k, v in wanted.items() if v is not None}

    response = api.post("/compute/instances", json=body)

    assert words in contabo_error(response, status)
    assert admin.machines() == []


def test_a_root_password_secret_must_be_a_password_not_an_ssh_key(api: httpx.Client) -> None:
    key_id = secret(api, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI desk", kind="ssh")

    response = api.post("/compute/instances", json={"period": 1, "rootPassword": key_id})

    assert "Secret not found" in contabo_error(response, 404)


def test_a_body_that_is_not_json_is_400(api: httpx.Client) -> None:
    response = api.post(
        "/compute/instances", content=b"period=1", headers={"Content-Type": "text/plain"}
    )

    contabo_error(response, 400)


# -- reading ----------------------------------------------------------------------------
def test_an_instance_shows_contabos_fields(api: httpx.Client) -> None:
    created = order(api)

    found = instance(api, created["instanceId"])

    assert found["instanceId"] == created["instanceId"]
    assert found["name"] == f"vmi{created['instanceId']}"
    assert found["displayName"] == "desk-1"
    assert (found["cpuCores"], found["ramMb"], found["diskMb"]) == (4, 8192, 75 * 1024)
    assert found["osType"] == "Windows"
    assert found["defaultUser"] == "administrator"
    assert found["cancelDate"] == ""
    assert set(found["ipConfig"]) == {"v4", "v6"}
    assert {"ip", "netmaskCidr", "gateway"} <= set(found["ipConfig"]["v4"])


def test_a_new_instance_is_404_for_the_first_not_found_seconds(
    api: httpx.Client, admin: EmulatorHandle
) -> None:
    admin.settings(not_found_seconds=0.4)
    created = order(api)

    early = api.get(f"/compute/instances/{created['instanceId']}")
    time.sleep(0.5)
    later = api.get(f"/compute/instances/{created['instanceId']}")

    assert "not found" in contabo_error(early, 404)
    assert later.status_code == 200


def test_an_unknown_instance_is_404(api: httpx.Client) -> None:
    assert "not found" in contabo_error(api.get("/compute/instances/123"), 404)


def test_an_unknown_route_is_404_in_contabos_shape(api: httpx.Client) -> None:
    contabo_error(api.get("/compute/nothing-here"), 404)


def test_an_instance_is_provisioned_then_installed_then_running_and_its_ip_comes_late(
    api: httpx.Client, admin: EmulatorHandle
) -> None:
    admin.settings(boot_seconds=1.0, ip_delay_seconds=0.3)
    instance_id = order(api)["instanceId"]

    first = instance(api, instance_id)
    statuses = {first["status"]}
    ip = wait_until(lambda: instance(api, instance_id)["ipConfig"]["v4"]["ip"], timeout=5)
    while (status := instance(api, instance_id)["status"]) != "running":
        statuses.add(status)
        time.sleep(0.05)

    assert first["ipConfig"]["v4"]["ip"] == ""
    assert ip.startswith("127.22.")
    assert statuses == {"provisioning", "installing"}
    wait_until(lambda: probe(ip, RDP_PORT, timeout=0.5), timeout=5)


def test_list_pages_count_from_one_with_pagination_metadata(api: httpx.Client) -> None:
    ids = [order(api, displayName=f"desk-{n}")["instanceId"] for n in range(5)]

    pages = [api.get("/compute/instances", params={"page": p, "size": 2}).json() for p in (1, 2, 3)]

    assert [i["instanceId"] for page in pages for i in page["data"]] == ids
    assert pages[0]["_pagination"] == {"size": 2, "totalElements": 5, "totalPages": 3, "page": 1}
    assert pages[0]["_links"]["next"].startswith("/v1/compute/instances?page=2")
    assert "next" not in pages[2]["_links"]


def test_list_uses_a_page_size_of_10_by_default(api: httpx.Client) -> None:
    for n in range(11):
        order(api, displayName=f"desk-{n}")

    body = api.get("/compute/instances").json()

    assert len(body["data"]) == 10
    assert body["_pagination"]["totalPages"] == 2


@pytest.mark.parametrize("params", [{"page": "0"}, {"size": "-1"}, {"page": "x"}])
def test_list_refuses_a_bad_page_or_size(api: httpx.Client, params: dict[str, str]) -> None:
    contabo_error(api.get("/compute/instances", params=params), 400)


def test_list_filters_by_display_name_as_a_part_and_by_status(
    api: httpx.Client, admin: EmulatorHandle
) -> None:
    admin.settings(boot_seconds=30)
    order(api, displayName="nemordp-1")
    order(api, displayName="nemordp-10")
    order(api, displayName="other")

    named = api.get("/compute/instances", params={"displayName": "nemordp-1"}).json()
    running = api.get("/compute/instances", params={"status": "running,stopped"}).json()

    assert sorted(i["displayName"] for i in named["data"]) == ["nemordp-1", "nemordp-10"]
    assert running["data"] == []


# -- actions ----------------------------------------------------------------------------
def test_stop_and_shutdown_power_off_and_start_brings_rdp_back(api: httpx.Client) -> None:
    instance_id, ip = answering_rdp(api)

    for action in ("stop", "shutdown"):
        response = api.post(f"/compute/instances/{instance_id}/actions/{action}")
        assert response.status_code == 201
        assert response.json()["data"][0]["action"] == action
        assert instance(api, instance_id)["status"] == "stopped"
        wait_until(lambda: not probe(ip, RDP_PORT, timeout=0.5), timeout=5)
        assert api.post(f"/compute/instances/{instance_id}/actions/start").status_code == 201
        assert instance(api, instance_id)["status"] == "running"
        wait_until(lambda: probe(ip, RDP_PORT, timeout=0.5), timeout=5)


def test_restart_takes_rdp_down_for_restart_seconds(
    api: httpx.Client, admin: EmulatorHandle
) -> None:
    instance_id, ip = answering_rdp(api)
    admin.settings(restart_seconds=1.0)

    response = api.post(f"/compute/instances/{instance_id}/actions/restart")

    assert response.status_code == 201
    assert instance(api, instance_id)["status"] == "running"
    wait_until(lambda: not probe(ip, RDP_PORT, timeout=0.5), timeout=2)
    wait_until(lambda: probe(ip, RDP_PORT, timeout=0.5), timeout=5)


def test_actions_on_an_unknown_instance_are_404(api: httpx.Client) -> None:
    contabo_error(api.post("/compute/instances/77/actions/start"), 404)


def test_reinstall_answers_200_and_installs_the_new_image(
    api: httpx.Client, admin: EmulatorHandle
) -> None:
    instance_id = order(api)["instanceId"]
    wait_until(lambda: instance(api, instance_id)["status"] == "running", timeout=5)
    new_password = secret(api, "Other2024!!y")

    response = api.put(
        f"/compute/instances/{instance_id}",
        json={
            "imageId": image_id(api, UBUNTU),
            "rootPassword": new_password,
            "defaultUser": "root",
            "userData": "#cloud-config",
        },
    )

    assert response.status_code == 200, response.text
    assert response.json()["data"][0]["instanceId"] == instance_id
    reinstalled = instance(api, instance_id)
    assert reinstalled["status"] == "installing"
    assert (reinstalled["imageId"], reinstalled["osType"]) == (image_id(api, UBUNTU), "Linux")
    assert admin.machines()[0]["rootPassword"] == "Other2024!!y"
    wait_until(lambda: instance(api, instance_id)["status"] == "running", timeout=5)


def test_reinstall_requires_an_image(api: httpx.Client) -> None:
    instance_id = order(api)["instanceId"]

    response = api.put(f"/compute/instances/{instance_id}", json={"defaultUser": "admin"})

    assert "imageId" in contabo_error(response, 400)


def test_there_is_no_endpoint_to_change_an_instances_product(api: httpx.Client) -> None:
    instance_id = order(api)["instanceId"]

    patched = api.patch(f"/compute/instances/{instance_id}", json={"productId": "V97"})
    upgraded = api.post(f"/compute/instances/{instance_id}/upgrade", json={"productId": "V97"})

    contabo_error(patched, 405)
    contabo_error(upgraded, 404)
    assert instance(api, instance_id)["productId"] == "V91"


# -- cancel -----------------------------------------------------------------------------
def test_cancel_answers_201_with_the_cancel_date_and_the_instance_is_gone(
    api: httpx.Client, admin: EmulatorHandle
) -> None:
    instance_id, ip = answering_rdp(api)

    response = api.post(f"/compute/instances/{instance_id}/cancel", json={})

    assert response.status_code == 201
    data = response.json()["data"][0]
    assert data["instanceId"] == instance_id
    assert len(data["cancelDate"]) == len("2026-01-31")
    cancelled = instance(api, instance_id)
    assert (cancelled["status"], cancelled["cancelDate"]) == ("uninstalled", data["cancelDate"])
    assert api.get("/compute/instances").json()["data"] == []
    assert admin.machines() == []
    wait_until(lambda: not probe(ip, RDP_PORT, timeout=0.5), timeout=5)


def test_cancel_takes_the_cancel_date_from_the_body(api: httpx.Client) -> None:
    instance_id = order(api)["instanceId"]

    response = api.post(
        f"/compute/instances/{instance_id}/cancel", json={"cancelDate": "2030-02-03T00:00:00Z"}
    )

    assert response.json()["data"][0]["cancelDate"] == "2030-02-03"


def test_cancelling_twice_is_422_not_cancellable(api: httpx.Client) -> None:
    instance_id = order(api)["instanceId"]
    api.post(f"/compute/instances/{instance_id}/cancel", json={})

    again = api.post(f"/compute/instances/{instance_id}/cancel", json={})

    assert "not cancellable" in contabo_error(again, 422)


def test_cancelling_an_unknown_instance_is_404(api: httpx.Client) -> None:
    contabo_error(api.post("/compute/instances/55/cancel", json={}), 404)


# -- audits, faults, admin --------------------------------------------------------------
def test_the_audit_log_says_what_a_create_with_a_given_request_id_did(
    api: httpx.Client,
) -> None:
    request_id = str(uuid.uuid4())
    response = api.post(
        "/compute/instances",
        json={"period": 1, "displayName": "desk-audit", "productId": "V94"},
        headers={"x-request-id": request_id},
    )
    order(api, displayName="someone-else")

    audits = api.get("/compute/instances/audits", params={"requestId": request_id.upper()}).json()

    [entry] = audits["data"]
    assert entry["action"] == "CREATED"
    assert entry["instanceId"] == response.json()["data"][0]["instanceId"]
    assert entry["requestId"] == request_id
    assert entry["changes"]["new"]["displayName"] == "desk-audit"
    assert audits["_pagination"]["totalElements"] == 1


def test_an_injected_fault_answers_in_contabos_error_shape(
    api: httpx.Client, admin: EmulatorHandle
) -> None:
    admin.inject("create", "error_500")
    admin.inject("list", "rate_limit_429", retry_after=7)

    failed = api.post("/compute/instances", json={"period": 1})
    limited = api.get("/compute/instances")

    contabo_error(failed, 500)
    contabo_error(limited, 429)
    assert limited.headers["Retry-After"] == "7"
    assert admin.machines() == []


def test_a_lost_create_response_still_creates_the_instance(
    api: httpx.Client, admin: EmulatorHandle
) -> None:
    admin.inject("create", "lost_response")

    with pytest.raises(httpx.RemoteProtocolError):
        api.post("/compute/instances", json={"period": 1, "displayName": "desk-lost"})

    assert [m["displayName"] for m in admin.machines()] == ["desk-lost"]


def test_faults_can_be_injected_into_the_token_endpoint(
    server: ServedEmulator, admin: EmulatorHandle
) -> None:
    admin.inject("token", "error_500")

    response = httpx.post(f"{server.url}{TOKEN_PATH}", data=LOGIN)

    assert response.status_code == 500
    assert response.json()["error"] == "server_error"
    assert admin.calls()["token"] == 1


def test_the_admin_api_can_pin_a_failure_status(api: httpx.Client, admin: EmulatorHandle) -> None:
    instance_id = order(api)["instanceId"]

    pinned = admin.http.post(
        f"/instances/{instance_id}/status",
        json={"status": "error", "errorMessage": "installation failed"},
    )

    assert pinned.status_code == 200
    found = instance(api, instance_id)
    assert (found["status"], found["errorMessage"]) == ("error", "installation failed")


def test_revoking_tokens_through_the_admin_api_makes_them_401(
    api: httpx.Client, admin: EmulatorHandle
) -> None:
    assert api.get("/compute/instances").status_code == 200

    admin.http.post("/tokens/revoke").raise_for_status()

    contabo_error(api.get("/compute/instances"), 401)


def test_the_module_runs_as_a_server_from_the_command_line() -> None:
    options = ["--boot-seconds", "1", "--ip-prefix", "127.25", "--rdp-port", str(free_port())]
    with emulator_process("contabo", *options) as url:
        response = first_answer(lambda: httpx.post(f"{url}{TOKEN_PATH}", data=LOGIN))

    assert response.status_code == 200
