"""The Vultr client against the Vultr emulator over real HTTP: lifecycle, pagination,
actions, error sorting under injected faults, and the request throttle."""

from __future__ import annotations

import logging
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from config import TestConfig
from devtools.emulators.vultr import create_app
from tests.support.emulators import (
    EmulatorHandle,
    ServedEmulator,
    quick_settings,
    serving,
    wait_until,
)
from tests.support.ssh import public_key
from workers.outside_errors import PermanentError, TransientError
from workers.providers.base import (
    CreateRequest,
    Machine,
    MachineNotFound,
    MachineState,
    ssh_key_name,
)
from workers.providers.system_images import WantedImage
from workers.providers.throttle import NoSlot, Throttle
from workers.providers.vultr import VultrClient, hostname_for
from workers.rdp_probe import probe

ROOT = Path(__file__).resolve().parents[2]
API_KEY = "client-test-key"
RDP_PORT = 33891


@pytest.fixture(scope="module")
def server() -> Iterator[ServedEmulator]:
    with serving(create_app(quick_settings(RDP_PORT, "127.21"), api_key=API_KEY)) as server:
        yield server


@pytest.fixture()
def make_client(
    server: ServedEmulator, admin: EmulatorHandle
) -> Iterator[Callable[..., VultrClient]]:
    with ExitStack() as clients:

        def make(**options: Any) -> VultrClient:
            api_key = options.pop("api_key", API_KEY)
            client = VultrClient(f"{server.url}/v2", api_key, **{"timeout": 5.0, **options})
            return clients.enter_context(closing(client))

        yield make


@pytest.fixture()
def vultr_client(make_client: Callable[..., VultrClient]) -> VultrClient:
    return make_client()


def order(vultr_client: VultrClient, label: str = "nemordp-1", **overrides: Any) -> Machine:
    fields = {
        "label": label,
        "plan": "vc2-2c-4gb",
        "region": "ewr",
        "os_type": "windows",
        "user_data": "<powershell>Enable-RDP</powershell>",
        "password": "Unused-by-Vultr-1!",
        **overrides,
    }
    return vultr_client.create(CreateRequest(**fields))


def ready(vultr_client: VultrClient, provider_id: str, timeout: float = 5.0) -> Machine:
    machine: Machine = wait_until(lambda: (m := vultr_client.get(provider_id)).ready and m, timeout)
    return machine


def test_a_machine_goes_from_order_to_remote_desktop_through_the_client(
    vultr_client: VultrClient, admin: EmulatorHandle
) -> None:
    admin.settings(not_found_seconds=0.8, ip_delay_seconds=1.5, boot_seconds=2.0)

    created = order(vultr_client)
    assert (created.state, created.ready, created.ip_address) == (MachineState.PENDING, False, None)
    assert created.default_password
    with pytest.raises(MachineNotFound):
        vultr_client.get(created.provider_id)  # Vultr answers 404 for a while after the order

    first = wait_until(lambda: _found(vultr_client, created.provider_id), timeout=5, interval=0.05)
    assert (first.state, first.ready, first.ip_address) == (MachineState.PENDING, False, None)
    booted = ready(vultr_client, created.provider_id)
    assert booted.state == MachineState.RUNNING and booted.ip_address
    assert booted.ip_address.startswith("127.21.")
    assert booted.default_password is None
    wait_until(lambda: probe(booted.ip_address or "", RDP_PORT, timeout=0.5), timeout=5)

    vultr_client.stop(created.provider_id)
    assert vultr_client.get(created.provider_id).state == MachineState.STOPPED
    wait_until(lambda: not probe(booted.ip_address or "", RDP_PORT, timeout=0.5), timeout=5)

    vultr_client.start(created.provider_id)
    assert vultr_client.get(created.provider_id).state == MachineState.RUNNING
    wait_until(lambda: probe(booted.ip_address or "", RDP_PORT, timeout=0.5), timeout=5)

    vultr_client.destroy(created.provider_id)
    with pytest.raises(MachineNotFound):
        vultr_client.get(created.provider_id)


def _found(vultr_client: VultrClient, provider_id: str) -> Machine | None:
    try:
        return vultr_client.get(provider_id)
    except MachineNotFound:
        return None


def test_default_password_is_only_in_the_create_response(
    vultr_client: VultrClient, admin: EmulatorHandle
) -> None:
    created = order(vultr_client)

    [stored] = admin.machines()
    assert created.default_password == stored["default_password"]
    assert vultr_client.get(created.provider_id).default_password is None
    assert [m.default_password for m in vultr_client.list_machines()] == [None]
    adopted = vultr_client.find_by_label("nemordp-1")
    assert adopted is not None and adopted.default_password is None


def test_the_create_sends_base64_user_data_a_hostname_and_our_tag(
    vultr_client: VultrClient, admin: EmulatorHandle
) -> None:
    order(vultr_client, label="NemoRDP_42 desk", user_data="<powershell>Write-Host é</powershell>")

    [stored] = admin.machines()
    assert stored["user_data"] == "<powershell>Write-Host é</powershell>"
    assert (stored["hostname"], stored["tags"]) == ("nemordp-42-desk", ["nemordp"])
    assert (stored["os_id"], stored["label"]) == (501, "NemoRDP_42 desk")


def test_the_os_type_picks_the_os_id_of_the_configured_image(
    make_client: Callable[..., VultrClient], admin: EmulatorHandle
) -> None:
    client = make_client(
        images={
            "windows": WantedImage("Windows Standard", "2019"),
            "linux": WantedImage("Ubuntu", "24.04"),
        }
    )

    order(client, label="win", os_type="windows")
    order(client, label="lin", os_type="linux")

    assert sorted(m["os_id"] for m in admin.machines()) == [371, 2284]
    with pytest.raises(PermanentError):
        order(client, label="bsd", os_type="freebsd")
    assert len(admin.machines()) == 2


def test_a_machine_is_ready_only_when_active_running_ok_and_addressed(
    vultr_client: VultrClient, admin: EmulatorHandle
) -> None:
    admin.settings(boot_seconds=0.2, ip_delay_seconds=1.0)
    created = order(vultr_client)

    wait_until(
        lambda: vultr_client.get(created.provider_id).state == MachineState.RUNNING, timeout=5
    )
    unaddressed = vultr_client.get(created.provider_id)
    assert (unaddressed.ip_address, unaddressed.ready) == (None, False)
    assert ready(vultr_client, created.provider_id).ip_address


def test_find_by_label_returns_the_machine_with_that_label_or_none(
    vultr_client: VultrClient,
) -> None:
    order(vultr_client, label="nemordp-1")
    wanted = order(vultr_client, label="nemordp-2")

    found = vultr_client.find_by_label("nemordp-2")

    assert found is not None and found.provider_id == wanted.provider_id
    assert vultr_client.find_by_label("nemordp-3") is None


def test_list_machines_follows_the_cursor_across_pages(
    vultr_client: VultrClient, admin: EmulatorHandle
) -> None:
    ordered = [order(vultr_client, label=f"nemordp-{n}").provider_id for n in range(7)]

    listed = [m.provider_id for m in vultr_client.list_machines(page_size=3)]

    assert listed == ordered
    assert admin.calls()["list"] == 3


def test_reboot_keeps_the_machine_running_and_rdp_comes_back(
    vultr_client: VultrClient, admin: EmulatorHandle
) -> None:
    created = order(vultr_client)
    ip = ready(vultr_client, created.provider_id).ip_address or ""
    admin.settings(restart_seconds=1.0)

    vultr_client.reboot(created.provider_id)

    assert admin.calls()["reboot"] == 1
    assert vultr_client.get(created.provider_id).state == MachineState.RUNNING
    wait_until(lambda: not probe(ip, RDP_PORT, timeout=0.5), timeout=5)  # rebooting
    wait_until(lambda: probe(ip, RDP_PORT, timeout=0.5), timeout=5)


def test_resize_moves_the_machine_to_the_bigger_plan(
    vultr_client: VultrClient, admin: EmulatorHandle
) -> None:
    created = order(vultr_client, plan="vc2-1c-1gb")
    ready(vultr_client, created.provider_id)
    admin.settings(restart_seconds=1.0)

    vultr_client.resize(created.provider_id, "vc2-4c-8gb")

    assert vultr_client.get(created.provider_id).state == MachineState.RESIZING
    resized = ready(vultr_client, created.provider_id)
    assert (resized.state, resized.plan) == (MachineState.RUNNING, "vc2-4c-8gb")


def test_shrinking_the_disk_is_a_permanent_error_with_vultrs_message(
    vultr_client: VultrClient, admin: EmulatorHandle
) -> None:
    created = order(vultr_client, plan="vcg-a100-1c-6g-4vram")

    with pytest.raises(PermanentError) as caught:
        vultr_client.resize(created.provider_id, "vc2-1c-1gb")

    assert type(caught.value) is PermanentError  # not MachineNotFound
    assert caught.value.status == 400
    assert "smaller disk" in caught.value.message
    assert vultr_client.get(created.provider_id).plan == "vcg-a100-1c-6g-4vram"


def test_reinstall_replaces_the_user_data_and_installs_again(
    vultr_client: VultrClient, admin: EmulatorHandle
) -> None:
    created = order(vultr_client)
    ready(vultr_client, created.provider_id)
    admin.settings(boot_seconds=1.0)

    password = vultr_client.reinstall(
        created.provider_id, "windows", "<powershell>v2</powershell>", "ignored"
    )

    assert password == admin.machines()[0]["default_password"] != created.default_password
    assert vultr_client.get(created.provider_id).ready is False
    assert admin.machines()[0]["user_data"] == "<powershell>v2</powershell>"
    calls = admin.calls()
    assert (calls["update"], calls["reinstall"]) == (1, 1)  # PATCH user_data, then reinstall
    assert "resize" not in calls
    assert ready(vultr_client, created.provider_id).state == MachineState.RUNNING


def test_destroy_removes_the_machine_and_destroying_it_again_is_fine(
    vultr_client: VultrClient, admin: EmulatorHandle
) -> None:
    created = order(vultr_client)

    vultr_client.destroy(created.provider_id)
    vultr_client.destroy(created.provider_id)

    assert admin.calls()["delete"] == 2
    assert admin.machines() == []
    assert list(vultr_client.list_machines()) == []
    with pytest.raises(MachineNotFound):
        vultr_client.get(created.provider_id)


def test_actions_on_an_unknown_machine_raise_machine_not_found(vultr_client: VultrClient) -> None:
    for action in (
        vultr_client.reboot,
        vultr_client.start,
        vultr_client.stop,
        vultr_client.bandwidth,
    ):
        with pytest.raises(MachineNotFound):
            action("3f0c2a56-0000-4000-8000-000000000000")


def test_bandwidth_is_daily_traffic_in_date_order(
    vultr_client: VultrClient, admin: EmulatorHandle
) -> None:
    created = order(vultr_client)
    admin.http.post(f"/machines/{created.provider_id}/backdate", json={"days": 2})

    days = vultr_client.bandwidth(created.provider_id)

    today = datetime.now(UTC).date()
    assert [d.day for d in days] == [today - timedelta(days=2), today - timedelta(days=1), today]
    assert all(d.incoming_bytes > 0 and d.outgoing_bytes > 0 for d in days)
    assert vultr_client.bandwidth(created.provider_id) == days


# -- faults ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("operation", "kind", "options", "action", "status", "retry_after"),
    [
        ("reboot", "error_500", {}, VultrClient.reboot, 500, None),
        ("halt", "rate_limit_429", {"retry_after": 7}, VultrClient.stop, 429, 7.0),
        ("start", "rate_limit_429", {}, VultrClient.start, 429, 1.0),
        ("get", "rate_limit_429", {"retry_after": 60}, VultrClient.get, 429, 60.0),
    ],
    ids=[
        "500-on-a-post",
        "429-with-retry-after",
        "429-without-retry-after-hints-one-second",
        "long-retry-after-on-a-get-is-left-to-the-caller",
    ],
)
def test_a_transient_failure_is_raised_at_once_with_the_retry_hint(
    vultr_client: VultrClient,
    admin: EmulatorHandle,
    operation: str,
    kind: str,
    options: dict[str, Any],
    action: Callable[[VultrClient, str], object],
    status: int,
    retry_after: float | None,
) -> None:
    created = order(vultr_client)
    admin.inject(operation, kind, **options)

    with pytest.raises(TransientError) as caught:
        action(vultr_client, created.provider_id)

    assert (caught.value.status, caught.value.retry_after) == (status, retry_after)
    assert admin.calls()[operation] == 1


@pytest.mark.parametrize(
    ("kind", "options"),
    [("error_500", {}), ("rate_limit_429", {"retry_after": 1})],
    ids=["500", "short-retry-after"],
)
def test_a_get_is_retried_after_a_transient_failure(
    vultr_client: VultrClient, admin: EmulatorHandle, kind: str, options: dict[str, Any]
) -> None:
    created = order(vultr_client)
    admin.inject("get", kind, **options)

    assert vultr_client.get(created.provider_id).provider_id == created.provider_id
    assert admin.calls()["get"] == 2


def test_a_get_gives_up_after_two_retries(vultr_client: VultrClient, admin: EmulatorHandle) -> None:
    created = order(vultr_client)
    admin.inject("get", "error_500", count=5)

    with pytest.raises(TransientError):
        vultr_client.get(created.provider_id)

    assert admin.calls()["get"] == 3


def test_a_timeout_is_transient(
    make_client: Callable[..., VultrClient], admin: EmulatorHandle
) -> None:
    client = make_client(timeout=0.5)
    created = order(client)
    admin.inject("reboot", "timeout")  # the emulator holds the answer for 2 s

    with pytest.raises(TransientError) as caught:
        client.reboot(created.provider_id)

    assert isinstance(caught.value.__cause__, httpx.TimeoutException)
    assert caught.value.status is None


def test_a_reset_connection_is_transient(vultr_client: VultrClient, admin: EmulatorHandle) -> None:
    created = order(vultr_client)
    admin.inject("halt", "reset")

    with pytest.raises(TransientError) as caught:
        vultr_client.stop(created.provider_id)

    assert isinstance(caught.value.__cause__, httpx.TransportError)
    assert caught.value.status is None
    assert admin.calls()["halt"] == 1


def test_a_lost_create_response_is_transient_and_the_label_adopts_the_machine(
    vultr_client: VultrClient, admin: EmulatorHandle
) -> None:
    admin.inject("create", "lost_response")

    with pytest.raises(TransientError):
        order(vultr_client, label="nemordp-77")

    assert admin.calls()["create"] == 1  # never re-sent
    [stored] = admin.machines()
    adopted = vultr_client.find_by_label("nemordp-77")
    assert adopted is not None and adopted.provider_id == stored["id"]


@pytest.mark.parametrize("api_key", ["wrong-key", ""], ids=["wrong", "missing"])
def test_a_bad_api_key_is_a_permanent_401(
    make_client: Callable[..., VultrClient], admin: EmulatorHandle, api_key: str
) -> None:
    client = make_client(api_key=api_key)

    with pytest.raises(PermanentError) as caught:
        list(client.list_machines())

    assert type(caught.value) is PermanentError
    assert caught.value.status == 401
    assert "Invalid API token" in caught.value.message


def test_neither_the_api_key_nor_the_password_reaches_the_logs(
    vultr_client: VultrClient, admin: EmulatorHandle, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    admin.inject("get", "error_500")

    created = order(vultr_client)
    vultr_client.get(created.provider_id)
    vultr_client.destroy(created.provider_id)
    vultr_client.destroy(created.provider_id)

    assert created.default_password and caplog.records
    assert API_KEY not in caplog.text and created.default_password not in caplog.text
    assert API_KEY not in repr(vultr_client)


def test_hostnames_are_valid_whatever_the_label() -> None:
    assert hostname_for("nemordp-42") == "nemordp-42"
    assert hostname_for("  Desk #1 (Paris) ") == "desk-1-paris"
    assert hostname_for("x" * 80) == "x" * 63
    assert hostname_for("___") == "nemordp"


# -- rate limit and throttle ------------------------------------------------------------------
def _burst(client: VultrClient, provider_id: str, count: int) -> list[Machine | Exception]:
    def one(_: int) -> Machine | Exception:
        try:
            return client.get(provider_id)
        except TransientError as exc:
            return exc

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(one, range(count)))


def test_an_unthrottled_burst_runs_into_the_30_per_second_limit(
    vultr_client: VultrClient, admin: EmulatorHandle
) -> None:
    created = order(vultr_client)
    admin.settings(rate_limit_per_second=30)

    _burst(vultr_client, created.provider_id, 50)

    assert admin.calls()["get"] > 50  # 429s came back and were retried


def test_the_throttle_keeps_a_burst_under_the_limit(
    make_client: Callable[..., VultrClient], admin: EmulatorHandle
) -> None:
    throttle = Throttle("20/second", f"test-{uuid.uuid4()}")
    client = make_client(throttle=throttle)
    created = order(client)
    admin.settings(rate_limit_per_second=30)

    results = _burst(client, created.provider_id, 50)

    assert all(isinstance(r, Machine) for r in results)
    assert admin.calls()["get"] == 50  # not one 429, so not one retry


def test_a_get_the_throttle_gives_no_slot_is_not_retried_inline(
    make_client: Callable[..., VultrClient], admin: EmulatorHandle
) -> None:
    client = make_client(throttle=Throttle("1/second", f"test-{uuid.uuid4()}", max_wait=0.2))
    assert list(client.list_machines()) == []  # takes the one slot of this second

    with pytest.raises(NoSlot):
        client.get(str(uuid.uuid4()))

    assert "get" not in admin.calls()


def test_a_full_throttle_gives_up_after_its_max_wait() -> None:
    throttle = Throttle("3/minute", f"test-{uuid.uuid4()}", max_wait=0.2)
    for _ in range(3):
        throttle.wait()

    with pytest.raises(TransientError) as caught:
        throttle.wait()

    assert caught.value.retry_after is not None and caught.value.retry_after > 1


def test_a_redis_throttle_is_shared_by_worker_processes() -> None:
    key, url = f"test-{uuid.uuid4()}", TestConfig.REDIS_URL
    other_process = (
        "from workers.providers.throttle import Throttle\n"
        f"throttle = Throttle('5/minute', {key!r}, {url!r})\n"
        "for _ in range(5):\n    throttle.wait()\n"
    )
    subprocess.run([sys.executable, "-c", other_process], cwd=ROOT, check=True, timeout=30)

    with pytest.raises(TransientError):
        Throttle("5/minute", key, url, max_wait=0.2).wait()
    Throttle("5/minute", key, "memory://", max_wait=0.2).wait()  # a separate window


# -- SSH keys and reinstalling with another system ------------------------------------------
def test_ssh_keys_are_registered_once_and_named_in_a_linux_order(
    vultr_client: VultrClient, admin: EmulatorHandle, caplog: pytest.LogCaptureFixture
) -> None:
    key = public_key()
    caplog.set_level(logging.DEBUG)

    first = order(vultr_client, "nemordp-1", os_type="linux", ssh_keys=(key,))
    second = order(vultr_client, "nemordp-2", os_type="linux", ssh_keys=(key,))

    registered = vultr_client._http.call("GET", "/ssh-keys").json()["ssh_keys"]
    assert [(k["name"], k["ssh_key"]) for k in registered] == [(ssh_key_name(key), key)]
    views = {m["id"]: m for m in admin.machines()}
    assert views[first.provider_id]["sshkey_ids"] == [registered[0]["id"]]
    assert views[second.provider_id]["sshkey_ids"] == [registered[0]["id"]]
    assert admin.calls()["ssh_key_create"] == 1
    assert key.split()[1] not in caplog.text  # logs name a key by its fingerprint only


def test_a_windows_order_carries_no_ssh_keys(
    vultr_client: VultrClient, admin: EmulatorHandle
) -> None:
    created = order(vultr_client, os_type="windows", ssh_keys=(public_key(),))
    assert admin.machines()[0]["sshkey_ids"] == [] and created.default_password
    assert "ssh_key_create" not in admin.calls()


def test_reinstall_with_another_system_answers_its_new_password(
    vultr_client: VultrClient, admin: EmulatorHandle
) -> None:
    created = order(vultr_client)
    ready(vultr_client, created.provider_id)

    password = vultr_client.reinstall(created.provider_id, "linux", "#cloud-config\n", "unused")

    [view] = admin.machines()
    assert password is not None and password == view["default_password"]
    assert password != created.default_password
    assert (view["os"], view["user_data"]) == ("Ubuntu 22.04 LTS x64", "#cloud-config\n")
    assert "reinstall" not in admin.calls()  # a PATCH of os_id reinstalls
    assert ready(vultr_client, created.provider_id).state == MachineState.RUNNING
