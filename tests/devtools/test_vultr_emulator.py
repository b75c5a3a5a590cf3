"""The Vultr emulator over real HTTP: Vultr's paths, bodies, status codes and error shape."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from devtools.emulators.vultr import create_app
from tests.support.emulators import (
    EmulatorHandle,
    ServedEmulator,
    emulator_process,
    first_answer,
    quick_settings,
    serving,
    wait_until,
)

API_KEY = "emulator-test-key"
RDP_PORT = 33891
WINDOWS_2022 = 501


@pytest.fixture(scope="module")
def server() -> Iterator[ServedEmulator]:
    with serving(create_app(quick_settings(RDP_PORT, "127.21"), api_key=API_KEY)) as server:
        yield server


@pytest.fixture()
def api(server: ServedEmulator, admin: EmulatorHandle) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {API_KEY}"}
    with httpx.Client(base_url=f"{server.url}/v2", headers=headers, timeout=10) as client:
        yield client


def order(api: httpx.Client, **overrides: Any) -> dict[str, Any]:
    body = {"region": "ewr", "plan": "vc2-2c-4gb", "os_id": WINDOWS_2022, "label": "desk-1"}
    response = api.post("/instances", json={**body, **overrides})
    assert response.status_code == 202, response.text
    instance: dict[str, Any] = response.json()["instance"]
    return instance


def instance(api: httpx.Client, instance_id: str) -> dict[str, Any]:
    response = api.get(f"/instances/{instance_id}")
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()["instance"]
    return found


def assert_vultr_error(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "status"} and body["status"] == status
    assert isinstance(body["error"], str) and body["error"]
    return str(body["error"])


def backdated(api: httpx.Client, admin: EmulatorHandle, days: int) -> str:
    """Order an instance, move its creation ``days`` back; the path of its bandwidth."""
    created = order(api)
    admin.http.post(f"/machines/{created['id']}/backdate", json={"days": days}).raise_for_status()
    return f"/instances/{created['id']}/bandwidth"


def test_create_answers_202_with_a_pending_instance_and_its_password(api: httpx.Client) -> None:
    user_data = base64.b64encode(b"<powershell>Write-Host hi</powershell>").decode()
    created = order(api, label="desk-7", tags=["nemordp"], user_data=user_data, hostname="desk-7")

    assert created["status"] == "pending"
    assert created["power_status"] == "running"
    assert created["server_status"] == "none"
    assert created["main_ip"] == "0.0.0.0"
    assert len(created["default_password"]) >= 12
    assert (created["label"], created["tags"], created["hostname"]) == (
        "desk-7",
        ["nemordp"],
        "desk-7",
    )
    assert (created["plan"], created["region"], created["os_id"]) == ("vc2-2c-4gb", "ewr", 501)
    assert (created["vcpu_count"], created["ram"], created["disk"]) == (2, 4096, 80)
    assert created["os"].startswith("Windows 2022")
    assert datetime.fromisoformat(created["date_created"]).tzinfo is not None


def test_the_password_is_never_shown_after_the_create(api: httpx.Client) -> None:
    created = order(api)

    assert "default_password" not in instance(api, created["id"])
    listed = api.get("/instances").json()["instances"]
    assert [i["id"] for i in listed] == [created["id"]]
    assert "default_password" not in listed[0]


def test_the_admin_view_shows_the_password_and_decoded_user_data(
    api: httpx.Client, admin: EmulatorHandle
) -> None:
    created = order(api, user_data=base64.b64encode(b"echo hello").decode())

    [machine] = admin.machines()
    assert machine["default_password"] == created["default_password"]
    assert machine["user_data"] == "echo hello"


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"plan": "vc2-2c-4gb", "os_id": 501}, "region"),
        ({"region": "ewr", "os_id": 501}, "plan"),
        ({"region": "ewr", "plan": "vc2-99c-1tb", "os_id": 501}, "plan"),
        ({"region": "mars", "plan": "vc2-2c-4gb", "os_id": 501}, "region"),
        ({"region": "ewr", "plan": "vc2-2c-4gb"}, "os_id"),
        ({"region": "ewr", "plan": "vc2-2c-4gb", "os_id": 501, "app_id": 3}, "exactly one"),
        ({"region": "ewr", "plan": "vc2-2c-4gb", "os_id": 9999}, "operating system"),
        (
            {"region": "ewr", "plan": "vc2-2c-4gb", "os_id": 501, "user_data": "not base64!"},
            "base64",
        ),
        ({"region": "ewr", "plan": "vc2-2c-4gb", "os_id": 501, "label": 42}, "label"),
        ({"region": "ewr", "plan": "vc2-2c-4gb", "os_id": 501, "sshkey_id": ["k"]}, "Windows"),
    ],
    ids=[
        "no-region",
        "no-plan",
        "unknown-plan",
        "unknown-region",
        "no-image",
        "two-images",
        "unknown-os",
        "user-data-not-base64",
        "label-not-string",
        "ssh-key-on-windows",
    ],
)
def test_create_refuses_invalid_bodies_with_a_400(
    api: httpx.Client, admin: EmulatorHandle, body: dict[str, Any], words: str
) -> None:
    message = assert_vultr_error(api.post("/instances", json=body), 400)

    assert words.lower() in message.lower()
    assert admin.machines() == []


def test_create_refuses_a_body_that_is_not_json(api: httpx.Client) -> None:
    response = api.post("/instances", content=b"region=ewr", headers={"Content-Type": "text/plain"})

    assert_vultr_error(response, 400)


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong-key"}, {"Authorization": f"Basic {API_KEY}"}],
    ids=["missing", "wrong", "not-bearer"],
)
def test_requests_without_the_right_bearer_key_are_401(
    server: ServedEmulator, admin: EmulatorHandle, headers: dict[str, str]
) -> None:
    response = httpx.get(f"{server.url}/v2/instances", headers=headers)

    assert_vultr_error(response, 401)
    assert admin.calls() == {}


def test_without_a_configured_key_any_bearer_key_is_accepted() -> None:
    with serving(create_app(quick_settings(RDP_PORT, "127.21"))) as server:
        ok = httpx.get(f"{server.url}/v2/instances", headers={"Authorization": "Bearer anything"})
        missing = httpx.get(f"{server.url}/v2/instances")

    assert ok.status_code == 200
    assert_vultr_error(missing, 401)


def test_an_unknown_instance_is_404(api: httpx.Client) -> None:
    assert_vultr_error(api.get("/instances/7a2f1e0c-0000-4000-8000-000000000000"), 404)
    assert_vultr_error(api.post("/instances/nope/reboot"), 404)


def test_an_unknown_route_is_404_in_vultr_shape(api: httpx.Client) -> None:
    assert_vultr_error(api.get("/block-storage"), 404)


def test_a_new_instance_is_404_for_the_first_not_found_seconds(
    api: httpx.Client, admin: EmulatorHandle
) -> None:
    admin.settings(not_found_seconds=0.6)
    created = order(api)

    assert_vultr_error(api.get(f"/instances/{created['id']}"), 404)
    wait_until(lambda: api.get(f"/instances/{created['id']}").status_code == 200, timeout=5)


def test_an_instance_installs_then_becomes_active_and_its_ip_comes_late(
    api: httpx.Client, admin: EmulatorHandle
) -> None:
    admin.settings(boot_seconds=1.0, ip_delay_seconds=0.4)
    created = order(api)
    seen: list[tuple[str, str, bool]] = []

    def active() -> bool:
        now = instance(api, created["id"])
        seen.append((now["status"], now["server_status"], now["main_ip"] != "0.0.0.0"))
        return now["status"] == "active"

    wait_until(active, timeout=5, interval=0.05)

    assert seen[0] == ("pending", "installingbooting", False)
    assert ("pending", "installingbooting", True) in seen  # the address comes before the boot ends
    assert seen[-1] == ("active", "ok", True)
    assert instance(api, created["id"])["main_ip"].startswith("127.21.")


def test_ipv6_is_only_given_when_enabled(api: httpx.Client) -> None:
    with_v6 = order(api, enable_ipv6=True)
    without = order(api, label="desk-2")

    wait_until(lambda: instance(api, with_v6["id"])["main_ip"] != "0.0.0.0", timeout=5)
    assert instance(api, with_v6["id"])["v6_main_ip"].startswith("2001:db8:")
    assert instance(api, without["id"])["v6_main_ip"] == ""


def test_list_pages_through_cursors(api: httpx.Client) -> None:
    ids = [order(api, label=f"desk-{n}")["id"] for n in range(7)]

    pages, cursor = [], ""
    while True:
        params = {"per_page": "3", **({"cursor": cursor} if cursor else {})}
        body = api.get("/instances", params=params).json()
        assert body["meta"]["total"] == 7
        pages.append(body)
        cursor = body["meta"]["links"]["next"]
        if not cursor:
            break

    assert [len(page["instances"]) for page in pages] == [3, 3, 1]
    assert [i["id"] for page in pages for i in page["instances"]] == ids
    assert pages[0]["meta"]["links"]["prev"] == ""
    back = api.get(
        "/instances", params={"per_page": "3", "cursor": pages[1]["meta"]["links"]["prev"]}
    )
    assert [i["id"] for i in back.json()["instances"]] == [i["id"] for i in pages[0]["instances"]]


def test_list_shows_100_a_page_by_default_and_500_at_most(
    api: httpx.Client, admin: EmulatorHandle
) -> None:
    admin.settings(boot_seconds=600)  # no machine boots, so no RDP listener opens
    for n in range(501):
        order(api, label=f"bulk-{n}")

    assert len(api.get("/instances").json()["instances"]) == 100
    capped = api.get("/instances", params={"per_page": "1000"}).json()
    assert len(capped["instances"]) == 500 and capped["meta"]["total"] == 501


def test_list_filters_by_label_and_tag(api: httpx.Client) -> None:
    tagged = order(api, label="desk-a", tags=["nemordp"])
    order(api, label="desk-b")

    by_label = api.get("/instances", params={"label": "desk-a"}).json()
    by_tag = api.get("/instances", params={"tag": "nemordp"}).json()

    assert [i["id"] for i in by_label["instances"]] == [tagged["id"]]
    assert by_label["meta"]["total"] == 1
    assert [i["id"] for i in by_tag["instances"]] == [tagged["id"]]


@pytest.mark.parametrize("params", [{"per_page": "zero"}, {"per_page": "0"}, {"cursor": "%%%"}])
def test_list_refuses_a_bad_page_size_or_cursor(api: httpx.Client, params: dict[str, str]) -> None:
    assert_vultr_error(api.get("/instances", params=params), 400)


def test_halt_start_and_reboot_answer_204_and_move_the_power(api: httpx.Client) -> None:
    created = order(api)
    path = f"/instances/{created['id']}"

    assert api.post(f"{path}/halt").status_code == 204
    assert instance(api, created["id"])["power_status"] == "stopped"
    assert api.post(f"{path}/start").status_code == 204
    assert instance(api, created["id"])["power_status"] == "running"
    assert api.post(f"{path}/reboot").status_code == 204
    assert instance(api, created["id"])["power_status"] == "running"


def test_the_call_log_records_when_each_call_reached_which_machine(
    api: httpx.Client, admin: EmulatorHandle
) -> None:
    created = order(api)
    before = datetime.now(UTC).timestamp()
    assert api.post(f"/instances/{created['id']}/reboot").status_code == 204
    after = datetime.now(UTC).timestamp()

    logged = admin.http.get("/call-log").json()
    assert [entry["operation"] for entry in logged] == ["create", "reboot"]
    assert logged[1]["machine"] == created["id"]
    assert before <= logged[1]["at"] <= after
    admin.reset()
    assert admin.http.get("/call-log").json() == []


def test_reinstall_answers_202_and_installs_again(api: httpx.Client, admin: EmulatorHandle) -> None:
    created = order(api)
    wait_until(lambda: instance(api, created["id"])["server_status"] == "ok", timeout=5)
    admin.settings(boot_seconds=5)

    response = api.post(f"/instances/{created['id']}/reinstall", json={"hostname": "fresh"})

    assert response.status_code == 202
    reinstalled = response.json()["instance"]
    assert (reinstalled["status"], reinstalled["server_status"]) == ("active", "installingbooting")
    assert reinstalled["hostname"] == "fresh"
    # A new password, shown in this answer only; the old one is void.
    assert reinstalled["default_password"] not in ("", created["default_password"])
    assert "default_password" not in instance(api, created["id"])


def test_patching_the_os_reinstalls_with_a_new_password(api: httpx.Client) -> None:
    created = order(api)
    debian = 2136

    response = api.patch(f"/instances/{created['id']}", json={"os_id": debian})

    assert response.status_code == 202
    answer = response.json()["instance"]
    assert (answer["os_id"], answer["server_status"]) == (debian, "installingbooting")
    assert answer["default_password"] != created["default_password"]


def test_ssh_keys_are_kept_and_named_by_an_order(api: httpx.Client) -> None:
    key = {"name": "laptop", "ssh_key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA laptop"}
    added = api.post("/ssh-keys", json=key)
    assert added.status_code == 201
    key_id = added.json()["ssh_key"]["id"]
    assert [k["id"] for k in api.get("/ssh-keys").json()["ssh_keys"]] == [key_id]

    unknown = api.post(
        "/instances",
        json={"region": "ewr", "plan": "vc2-1c-1gb", "os_id": 1743, "sshkey_id": ["nope"]},
    )
    assert unknown.status_code == 400
    assert api.delete(f"/ssh-keys/{key_id}").status_code == 204
    assert api.get(f"/ssh-keys/{key_id}").status_code == 404


def test_patching_the_plan_resizes_the_instance(api: httpx.Client, admin: EmulatorHandle) -> None:
    admin.settings(restart_seconds=5)
    created = order(api, plan="vc2-1c-1gb")
    wait_until(lambda: instance(api, created["id"])["status"] == "active", timeout=5)

    response = api.patch(f"/instances/{created['id']}", json={"plan": "vc2-4c-8gb"})

    assert response.status_code == 202
    resized = response.json()["instance"]
    assert (resized["status"], resized["plan"]) == ("resizing", "vc2-4c-8gb")
    assert (resized["vcpu_count"], resized["ram"], resized["disk"]) == (4, 8192, 160)


def test_a_resize_ends_and_the_instance_is_active_again(
    api: httpx.Client, admin: EmulatorHandle
) -> None:
    created = order(api, plan="vc2-1c-1gb")
    api.patch(f"/instances/{created['id']}", json={"plan": "vc2-2c-4gb"})

    wait_until(lambda: instance(api, created["id"])["status"] == "active", timeout=5)
    assert instance(api, created["id"])["plan"] == "vc2-2c-4gb"


def test_a_plan_with_a_smaller_disk_is_refused(api: httpx.Client) -> None:
    created = order(api, plan="vc2-4c-8gb")

    response = api.patch(f"/instances/{created['id']}", json={"plan": "vc2-2c-4gb"})

    assert "disk" in assert_vultr_error(response, 400)
    assert instance(api, created["id"])["plan"] == "vc2-4c-8gb"


def test_delete_answers_204_then_the_instance_is_gone(api: httpx.Client) -> None:
    created = order(api)

    assert api.delete(f"/instances/{created['id']}").status_code == 204
    assert_vultr_error(api.get(f"/instances/{created['id']}"), 404)
    assert_vultr_error(api.delete(f"/instances/{created['id']}"), 404)
    assert api.get("/instances").json()["meta"]["total"] == 0


def test_bandwidth_has_stable_daily_counts_for_each_day_since_creation(
    api: httpx.Client, admin: EmulatorHandle
) -> None:
    bandwidth = backdated(api, admin, days=3)

    first = api.get(bandwidth).json()["bandwidth"]
    again = api.get(bandwidth).json()["bandwidth"]

    today = datetime.now(UTC).date()
    assert sorted(first) == [(today - timedelta(days=n)).isoformat() for n in (3, 2, 1, 0)]
    assert first == again
    for counts in first.values():
        assert 0 < counts["incoming_bytes"] < counts["outgoing_bytes"] < 5 * 10**9
    assert len({c["outgoing_bytes"] for c in first.values()}) == 4  # days differ


def test_bandwidth_reports_at_most_the_last_31_days(
    api: httpx.Client, admin: EmulatorHandle
) -> None:
    days = api.get(backdated(api, admin, days=90)).json()["bandwidth"]

    assert len(days) == 31
    assert max(days) == datetime.now(UTC).date().isoformat()
    assert date.fromisoformat(min(days)) == datetime.now(UTC).date() - timedelta(days=30)


NEW = {"region": "ewr", "plan": "vc2-2c-4gb", "os_id": 501}
OPERATIONS: list[tuple[str, str, str, dict[str, Any] | None]] = [
    ("create", "POST", "/instances", NEW),
    ("list", "GET", "/instances", None),
    ("get", "GET", "/instances/{id}", None),
    ("reboot", "POST", "/instances/{id}/reboot", None),
    ("start", "POST", "/instances/{id}/start", None),
    ("halt", "POST", "/instances/{id}/halt", None),
    ("delete", "DELETE", "/instances/{id}", None),
    ("reinstall", "POST", "/instances/{id}/reinstall", {}),
    ("resize", "PATCH", "/instances/{id}", {"plan": "vc2-4c-8gb"}),
    ("update", "PATCH", "/instances/{id}", {"label": "renamed"}),
    ("bandwidth", "GET", "/instances/{id}/bandwidth", None),
]


@pytest.mark.parametrize(
    ("operation", "method", "path", "body"), OPERATIONS, ids=[o[0] for o in OPERATIONS]
)
def test_a_fault_can_be_injected_into_every_operation(
    api: httpx.Client,
    admin: EmulatorHandle,
    operation: str,
    method: str,
    path: str,
    body: dict[str, Any] | None,
) -> None:
    created = order(api)
    admin.inject(operation, "permanent", status=503, message="injected outage")
    before = admin.calls()

    response = api.request(method, path.format(id=created["id"]), json=body)

    assert assert_vultr_error(response, 503) == "injected outage"
    after = admin.calls()
    assert {op: n - before.get(op, 0) for op, n in after.items() if n != before.get(op)} == {
        operation: 1
    }
    assert api.request(method, path.format(id=created["id"]), json=body).status_code < 300


def test_an_injected_429_carries_retry_after(api: httpx.Client, admin: EmulatorHandle) -> None:
    admin.inject("list", "rate_limit_429", retry_after=4)

    response = api.get("/instances")

    assert_vultr_error(response, 429)
    assert response.headers["Retry-After"] == "4"
    assert api.get("/instances").status_code == 200  # the fault was used up


def test_a_lost_response_still_creates_the_instance(
    api: httpx.Client, admin: EmulatorHandle
) -> None:
    admin.inject("create", "lost_response")

    with pytest.raises(httpx.RemoteProtocolError):
        api.post("/instances", json={"region": "ewr", "plan": "vc2-2c-4gb", "os_id": 501})

    assert len(admin.machines()) == 1


def test_more_than_30_requests_a_second_are_answered_429(
    api: httpx.Client, admin: EmulatorHandle
) -> None:
    admin.settings(rate_limit_per_second=30)

    statuses: list[int] = []
    while 429 not in statuses and len(statuses) < 300:
        response = api.get("/instances")
        statuses.append(response.status_code)

    assert statuses[-1] == 429, "no 429 within 300 back-to-back requests"
    assert statuses.count(200) >= 30  # never refused below the limit
    assert_vultr_error(response, 429)


def test_rdp_answers_once_booted_and_not_while_halted(api: httpx.Client) -> None:
    from workers.rdp_probe import probe

    created = order(api)
    ip = wait_until(
        lambda: instance(api, created["id"])["main_ip"].replace("0.0.0.0", ""), timeout=5
    )

    wait_until(lambda: probe(ip, RDP_PORT, timeout=0.5), timeout=5)
    api.post(f"/instances/{created['id']}/halt")
    wait_until(lambda: not probe(ip, RDP_PORT, timeout=0.5), timeout=5)


def test_the_module_serves_the_api_from_the_command_line() -> None:
    options = ["--boot-seconds", "1", "--rdp-port", str(RDP_PORT), "--ip-prefix", "127.21"]
    with emulator_process("vultr", *options, "--rate-limit", "30", "--api-key", "cli-key") as url:
        headers = {"Authorization": "Bearer cli-key"}
        response = first_answer(lambda: httpx.get(f"{url}/v2/instances", headers=headers))
        settings = httpx.post(f"{url}/_emulator/settings", json={}).json()

    assert response.status_code == 200
    assert response.json() == {
        "instances": [],
        "meta": {"total": 0, "links": {"next": "", "prev": ""}},
    }
    assert (settings["boot_seconds"], settings["rate_limit_per_second"]) == (1.0, 30)
