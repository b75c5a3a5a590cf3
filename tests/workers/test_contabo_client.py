"""The Contabo client against the Contabo emulator, over real HTTP."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, closing
from typing import Any

import pytest

from devtools.emulators.contabo import TOKEN_PATH, ContaboEmulator, create_app
from devtools.emulators.core import EmulatorSettings
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
    Capability,
    CreateRequest,
    Machine,
    MachineNotFound,
    MachineState,
    ssh_key_name,
)
from workers.providers.contabo import ContaboClient
from workers.providers.system_images import WantedImage
from workers.providers.throttle import Throttle
from workers.rdp_probe import probe

RDP_PORT = 33892
CREDENTIALS = {
    "client_id": "nemordp-test",
    "client_secret": "client-secret-never-logged",
    "username": "api@example.com",
    "password": "api-password-never-logged",
}
DESK_PASSWORD = "Desk2024!!secret"
ClientFactory = Callable[..., ContaboClient]


def settings() -> EmulatorSettings:
    return quick_settings(
        RDP_PORT,
        "127.22",
        boot_seconds=1.2,
        restart_seconds=0.3,
        not_found_seconds=0.3,
        ip_delay_seconds=0.8,
    )


def contabo_state(server: ServedEmulator) -> ContaboEmulator:
    """The emulator's state, to read what it received (never to change its behaviour)."""
    assert isinstance(server.state, ContaboEmulator)
    return server.state


@pytest.fixture(scope="module")
def server() -> Iterator[ServedEmulator]:
    with serving(create_app(settings(), credentials=CREDENTIALS)) as server:
        yield server


@pytest.fixture(scope="module")
def short_token_server() -> Iterator[ServedEmulator]:
    """Access tokens live one second (reported as expires_in 1)."""
    with serving(create_app(settings(), token_lifetime=1.0, credentials=CREDENTIALS)) as server:
        yield server


@pytest.fixture()
def emulator(server: ServedEmulator, admin: EmulatorHandle) -> ContaboEmulator:
    return contabo_state(server)


@pytest.fixture()
def make_client(server: ServedEmulator, admin: EmulatorHandle) -> Iterator[ClientFactory]:
    with ExitStack() as clients:

        def make(url: str = server.url, **options: Any) -> ContaboClient:
            credentials = {**CREDENTIALS, **options.pop("credentials", {})}
            client = ContaboClient(
                f"{url}/v1",
                f"{url}{TOKEN_PATH}",
                credentials["client_id"],
                credentials["client_secret"],
                credentials["username"],
                credentials["password"],
                **{"timeout": 5.0, **options},
            )
            return clients.enter_context(closing(client))

        yield make


@pytest.fixture()
def contabo(make_client: ClientFactory) -> ContaboClient:
    return make_client()


def desk(label: str = "nemordp-1", os_type: str = "windows", **fields: Any) -> CreateRequest:
    values = {
        "label": label,
        "plan": "V91",
        "region": "EU",
        "os_type": os_type,
        "user_data": "#ps1_sysnative\nSet-Content C:\\nemordp.txt ok",
        "password": DESK_PASSWORD,
        **fields,
    }
    return CreateRequest(**values)


def found(contabo: ContaboClient, provider_id: str) -> Machine | None:
    try:
        return contabo.get(provider_id)
    except MachineNotFound:
        return None


def ready(contabo: ContaboClient, request: CreateRequest | None = None) -> Machine:
    machine = contabo.create(request or desk())
    ready_machine: Machine = wait_until(
        lambda: (m := found(contabo, machine.provider_id)) and m.ready and m, timeout=10
    )
    assert ready_machine.ip_address is not None
    wait_until(lambda: probe(str(ready_machine.ip_address), RDP_PORT, timeout=0.5), timeout=5)
    return ready_machine


def image_id(emulator: ContaboEmulator, name: str) -> str:
    """The emulator's own id of its standard image called ``name``."""
    [found] = [key for key, image in emulator.images.items() if image.name == name]
    return found


def machine_view(admin: EmulatorHandle, provider_id: str) -> dict[str, Any]:
    [view] = [m for m in admin.machines(include_destroyed=True) if m["id"] == provider_id]
    return view


# -- OAuth2 -----------------------------------------------------------------------------
def test_the_first_call_logs_in_with_the_password_grant(
    contabo: ContaboClient, emulator: ContaboEmulator
) -> None:
    assert list(contabo.list_machines()) == []

    assert emulator.grants == ["password"]


def test_one_token_serves_many_requests(
    contabo: ContaboClient, admin: EmulatorHandle, emulator: ContaboEmulator
) -> None:
    for _ in range(10):
        list(contabo.list_machines())

    assert admin.calls() == {"token": 1, "list": 10}
    assert emulator.grants == ["password"]


def test_an_expiring_token_is_renewed_with_the_refresh_token(
    make_client: ClientFactory, short_token_server: ServedEmulator
) -> None:
    short_lived = contabo_state(short_token_server)
    short_lived.reset()
    contabo = make_client(short_token_server.url)

    list(contabo.list_machines())
    time.sleep(1.0)
    list(contabo.list_machines())

    assert short_lived.grants == ["password", "refresh_token"]
    assert short_lived.calls["list"] == 2


def test_a_refused_token_is_replaced_and_the_call_sent_once_more(
    contabo: ContaboClient, admin: EmulatorHandle, emulator: ContaboEmulator
) -> None:
    list(contabo.list_machines())
    admin.http.post("/tokens/revoke").raise_for_status()  # the refresh token dies too

    assert list(contabo.list_machines()) == []

    assert emulator.grants == ["password", "refresh_token", "password"]
    assert admin.calls()["list"] == 2


def test_wrong_api_credentials_are_permanent_and_not_repeated_in_the_error(
    make_client: ClientFactory, admin: EmulatorHandle
) -> None:
    contabo = make_client(credentials={"password": "wrong-api-password"})

    with pytest.raises(PermanentError) as refused:
        contabo.get("202500001")

    assert refused.value.status == 401
    assert "Invalid user credentials" in refused.value.message
    assert "wrong-api-password" not in str(refused.value)
    assert "get" not in admin.calls()


def test_the_token_endpoint_failing_is_transient(
    contabo: ContaboClient, admin: EmulatorHandle
) -> None:
    admin.inject("token", "error_500")

    with pytest.raises(TransientError) as failed:
        contabo.start("202500001")

    assert failed.value.status == 500


def test_every_call_carries_its_own_uuid4_request_id(
    contabo: ContaboClient, admin: EmulatorHandle, emulator: ContaboEmulator
) -> None:
    admin.settings(not_found_seconds=0)
    machine = contabo.create(desk())
    contabo.find_by_label("nemordp-1")
    contabo.reboot(machine.provider_id)
    contabo.destroy(machine.provider_id)

    calls = admin.calls()
    api_calls = sum(calls.values()) - calls["token"]
    assert api_calls == 6  # images, secret, create, list, restart, cancel
    assert len(emulator.request_ids) == api_calls
    assert len(set(emulator.request_ids)) == api_calls
    assert all(uuid.UUID(rid).version == 4 for rid in emulator.request_ids)


# -- create -----------------------------------------------------------------------------
def test_create_stores_the_password_as_a_secret_and_orders_with_every_field(
    contabo: ContaboClient, admin: EmulatorHandle, emulator: ContaboEmulator
) -> None:
    machine = contabo.create(desk())

    assert machine.state is MachineState.PENDING
    assert not machine.ready and machine.ip_address is None
    assert machine.default_password is None  # we chose it
    assert (machine.plan, machine.region, machine.label) == ("V91", "EU", "nemordp-1")
    [secret] = emulator.secrets.values()
    assert (secret.type, secret.value) == ("password", DESK_PASSWORD)
    [audit] = emulator.audits
    assert audit["changes"]["new"] == {
        "displayName": "nemordp-1",
        "productId": "V91",
        "region": "EU",
        "imageId": image_id(emulator, "windows-server-2022-se"),
        "period": 1,
        "defaultUser": "administrator",
    }
    view = machine_view(admin, machine.provider_id)
    assert view["rootPassword"] == DESK_PASSWORD
    assert view["userData"] == "#ps1_sysnative\nSet-Content C:\\nemordp.txt ok"  # plain


def test_a_linux_machine_is_ordered_with_ubuntu_and_the_root_user(
    contabo: ContaboClient, admin: EmulatorHandle, emulator: ContaboEmulator
) -> None:
    machine = contabo.create(desk(os_type="linux", user_data="#cloud-config\n"))

    view = machine_view(admin, machine.provider_id)
    assert (view["imageId"], view["defaultUser"]) == (image_id(emulator, "ubuntu-22.04"), "root")


def test_configured_images_replace_the_defaults(
    make_client: ClientFactory, admin: EmulatorHandle
) -> None:
    contabo = make_client(images={"windows": WantedImage("ubuntu", "22.04")})

    with pytest.raises(PermanentError, match="defaultUser"):
        contabo.create(desk())  # Ubuntu refuses the administrator user: the id was used


def test_a_password_breaking_contabos_rules_is_permanent_and_names_the_rule(
    contabo: ContaboClient, admin: EmulatorHandle
) -> None:
    with pytest.raises(PermanentError) as refused:
        contabo.create(desk(password="lowercase-only-1!!"))

    assert refused.value.status == 400
    assert "upper case" in refused.value.message
    assert "lowercase-only-1!!" not in refused.value.message
    assert "create" not in admin.calls()
    assert admin.machines() == []


@pytest.mark.parametrize("missing", ["plan", "region", "label"])
def test_an_order_missing_a_field_is_refused_before_reaching_contabo(
    contabo: ContaboClient, admin: EmulatorHandle, missing: str
) -> None:
    # Contabo would accept it and order a default machine: only `period` is required there.
    with pytest.raises(PermanentError, match=missing):
        contabo.create(desk(**{missing: ""}))

    assert admin.calls() == {}


def test_an_unknown_os_type_is_refused_before_reaching_contabo(
    contabo: ContaboClient, admin: EmulatorHandle
) -> None:
    with pytest.raises(PermanentError, match="os_type"):
        contabo.create(desk(os_type="bsd"))

    assert admin.calls() == {}


# -- lifecycle --------------------------------------------------------------------------
def test_a_new_machine_is_not_found_at_first_then_pending_without_ip_then_ready(
    contabo: ContaboClient,
) -> None:
    machine = contabo.create(desk())

    with pytest.raises(MachineNotFound):
        contabo.get(machine.provider_id)
    pending: Machine = wait_until(lambda: found(contabo, machine.provider_id), timeout=5)
    assert pending.state is MachineState.PENDING
    assert (pending.ready, pending.ip_address) == (False, None)
    assert not probe("127.22.0.4", RDP_PORT, timeout=0.3)

    up: Machine = wait_until(
        lambda: (m := contabo.get(machine.provider_id)).ready and m, timeout=10
    )

    assert up.state is MachineState.RUNNING
    assert up.ip_address is not None and up.ip_address.startswith("127.22.")
    assert up.ipv6_address
    wait_until(lambda: probe(str(up.ip_address), RDP_PORT, timeout=0.5), timeout=5)


def test_stop_shuts_down_gracefully_and_start_brings_rdp_back(
    contabo: ContaboClient, admin: EmulatorHandle
) -> None:
    machine = ready(contabo)
    ip = str(machine.ip_address)

    contabo.stop(machine.provider_id)

    assert contabo.get(machine.provider_id).state is MachineState.STOPPED
    wait_until(lambda: not probe(ip, RDP_PORT, timeout=0.5), timeout=5)
    assert admin.calls()["shutdown"] == 1  # ACPI, not the hard `stop`
    assert "stop" not in admin.calls()

    contabo.start(machine.provider_id)

    assert contabo.get(machine.provider_id).state is MachineState.RUNNING
    wait_until(lambda: probe(ip, RDP_PORT, timeout=0.5), timeout=5)


def test_reboot_restarts_the_machine(contabo: ContaboClient, admin: EmulatorHandle) -> None:
    machine = ready(contabo)
    admin.settings(restart_seconds=1.0)

    contabo.reboot(machine.provider_id)

    assert admin.calls()["restart"] == 1
    wait_until(lambda: not probe(str(machine.ip_address), RDP_PORT, timeout=0.3), timeout=2)
    wait_until(lambda: probe(str(machine.ip_address), RDP_PORT, timeout=0.5), timeout=5)


def test_reinstall_installs_the_image_with_a_new_password_and_user_data(
    contabo: ContaboClient, admin: EmulatorHandle, emulator: ContaboEmulator
) -> None:
    machine = ready(contabo)

    contabo.reinstall(machine.provider_id, "linux", "#cloud-config\nruncmd: []", "New2024!!pass")

    assert contabo.get(machine.provider_id).state is MachineState.PENDING
    view = machine_view(admin, machine.provider_id)
    assert (view["imageId"], view["defaultUser"]) == (image_id(emulator, "ubuntu-22.04"), "root")
    assert view["rootPassword"] == "New2024!!pass"
    assert view["userData"] == "#cloud-config\nruncmd: []"
    assert admin.calls()["reinstall"] == 1
    wait_until(lambda: contabo.get(machine.provider_id).ready, timeout=10)


def test_actions_on_an_unknown_machine_raise_machine_not_found(contabo: ContaboClient) -> None:
    for action in (contabo.start, contabo.stop, contabo.reboot, contabo.get):
        with pytest.raises(MachineNotFound):
            action("123456")


def test_an_id_that_is_not_a_contabo_id_is_not_found_without_a_call(
    contabo: ContaboClient, admin: EmulatorHandle
) -> None:
    with pytest.raises(MachineNotFound):
        contabo.get("../secrets")

    assert admin.calls() == {}


# -- finding and listing ----------------------------------------------------------------
def test_find_by_label_matches_the_whole_display_name_only(contabo: ContaboClient) -> None:
    first = contabo.create(desk("nemordp-1"))
    tenth = contabo.create(desk("nemordp-10"))

    one = contabo.find_by_label("nemordp-1")
    ten = contabo.find_by_label("nemordp-10")

    assert one is not None and one.provider_id == first.provider_id
    assert ten is not None and ten.provider_id == tenth.provider_id
    assert contabo.find_by_label("nemordp-2") is None
    assert contabo.find_by_label("nemordp") is None


def test_find_by_label_skips_a_cancelled_machine(
    contabo: ContaboClient, admin: EmulatorHandle
) -> None:
    admin.settings(not_found_seconds=0)
    machine = contabo.create(desk())
    contabo.destroy(machine.provider_id)

    assert contabo.find_by_label("nemordp-1") is None


def test_list_machines_follows_the_pages(contabo: ContaboClient, admin: EmulatorHandle) -> None:
    contabo.page_size = 2
    ids = [contabo.create(desk(f"nemordp-{n}")).provider_id for n in range(5)]

    listed = [m.provider_id for m in contabo.list_machines()]

    assert listed == ids
    assert admin.calls()["list"] == 3


# -- destroy, resize, bandwidth ---------------------------------------------------------
def test_destroy_cancels_and_a_second_destroy_is_fine(
    contabo: ContaboClient, admin: EmulatorHandle
) -> None:
    machine = ready(contabo)

    contabo.destroy(machine.provider_id)
    contabo.destroy(machine.provider_id)

    assert contabo.get(machine.provider_id).state is MachineState.GONE
    assert list(contabo.list_machines()) == []
    assert admin.calls()["cancel"] == 2
    wait_until(lambda: not probe(str(machine.ip_address), RDP_PORT, timeout=0.5), timeout=5)


def test_destroying_an_unknown_machine_is_fine(contabo: ContaboClient) -> None:
    contabo.destroy("123456")


def test_destroying_a_machine_contabo_does_not_show_by_id_yet_is_transient(
    contabo: ContaboClient, admin: EmulatorHandle
) -> None:
    admin.settings(not_found_seconds=0.5)
    machine = contabo.create(desk())

    with pytest.raises(TransientError, match="too new"):
        contabo.destroy(machine.provider_id)  # a 404 here must not count as "gone"

    assert admin.machines()[0]["cancelDate"] == ""
    time.sleep(0.5)
    contabo.destroy(machine.provider_id)
    assert contabo.get(machine.provider_id).state is MachineState.GONE


def test_a_422_on_cancel_for_a_live_machine_is_not_swallowed(
    contabo: ContaboClient, admin: EmulatorHandle
) -> None:
    machine = contabo.create(desk())
    wait_until(lambda: found(contabo, machine.provider_id), timeout=5)
    admin.inject("cancel", "permanent", status=422, message="Instance is locked")

    with pytest.raises(PermanentError) as refused:
        contabo.destroy(machine.provider_id)

    assert (refused.value.status, refused.value.message) == (422, "Instance is locked")


def test_resize_is_refused_as_permanent_without_calling_contabo(
    contabo: ContaboClient, admin: EmulatorHandle
) -> None:
    with pytest.raises(PermanentError, match="cannot change the product"):
        contabo.resize("202500001", "V97")

    assert admin.calls() == {}
    assert not ContaboClient.can(Capability.RESIZE)  # so plan changes are refused up front


def test_bandwidth_is_none_because_contabo_has_no_traffic_endpoint(
    contabo: ContaboClient, admin: EmulatorHandle
) -> None:
    assert contabo.bandwidth("202500001") is None
    assert admin.calls() == {}
    assert not ContaboClient.can(Capability.TRAFFIC_REPORTING)  # the usage API says so


@pytest.mark.parametrize(
    ("status", "state"),
    [
        ("provisioning", MachineState.PENDING),
        ("installing", MachineState.PENDING),
        ("pending_payment", MachineState.PENDING),
        ("reset_password", MachineState.PENDING),
        ("unknown", MachineState.PENDING),
        ("other", MachineState.PENDING),
        ("running", MachineState.RUNNING),
        ("stopped", MachineState.STOPPED),
        ("error", MachineState.ERROR),
        ("product_not_available", MachineState.ERROR),
        ("verification_required", MachineState.ERROR),
        ("manual_provisioning", MachineState.ERROR),
        ("rescue", MachineState.ERROR),
        ("uninstalled", MachineState.GONE),
    ],
)
def test_contabo_statuses_map_to_our_states(
    contabo: ContaboClient, admin: EmulatorHandle, status: str, state: MachineState
) -> None:
    admin.settings(not_found_seconds=0, ip_delay_seconds=0)
    machine = contabo.create(desk())
    admin.http.post(f"/instances/{machine.provider_id}/status", json={"status": status})

    seen = contabo.get(machine.provider_id)

    assert seen.state is state
    assert seen.ready is (state is MachineState.RUNNING)


def test_running_without_an_address_is_not_ready(
    contabo: ContaboClient, admin: EmulatorHandle
) -> None:
    admin.settings(not_found_seconds=0, ip_delay_seconds=30)
    machine = contabo.create(desk())
    admin.http.post(f"/instances/{machine.provider_id}/status", json={"status": "running"})

    seen = contabo.get(machine.provider_id)

    assert (seen.state, seen.ready, seen.ip_address) == (MachineState.RUNNING, False, None)


# -- failures ---------------------------------------------------------------------------
def list_all(contabo: ContaboClient, _provider_id: str) -> list[Machine]:
    return list(contabo.list_machines())


def test_a_get_gives_up_after_two_retries(contabo: ContaboClient, admin: EmulatorHandle) -> None:
    admin.inject("list", "error_500", count=5)

    with pytest.raises(TransientError):
        list(contabo.list_machines())

    assert admin.calls()["list"] == 3


@pytest.mark.parametrize(
    ("kind", "options", "wait"),
    [("error_500", {}, 0.0), ("rate_limit_429", {"retry_after": 1}, 1.0)],
    ids=["server-error", "short-retry-after-waited-out"],
)
def test_a_get_is_retried_after_a_transient_failure(
    contabo: ContaboClient, admin: EmulatorHandle, kind: str, options: dict[str, Any], wait: float
) -> None:
    admin.inject("list", kind, **options)
    started = time.monotonic()

    assert list(contabo.list_machines()) == []

    assert time.monotonic() - started >= wait
    assert admin.calls()["list"] == 2


@pytest.mark.parametrize(
    ("operation", "kind", "options", "action", "status", "retry_after"),
    [
        ("start", "error_500", {}, ContaboClient.start, 500, None),
        # No hammering: the caller waits 7 s, not us.
        ("list", "rate_limit_429", {"retry_after": 7}, list_all, 429, 7.0),
        ("restart", "rate_limit_429", {}, ContaboClient.reboot, 429, None),
    ],
    ids=["server-error-on-a-post", "429-with-a-long-retry-after", "429-without-retry-after"],
)
def test_a_transient_failure_is_raised_at_once_with_the_retry_hint(
    contabo: ContaboClient,
    admin: EmulatorHandle,
    operation: str,
    kind: str,
    options: dict[str, Any],
    action: Callable[[ContaboClient, str], object],
    status: int,
    retry_after: float | None,
) -> None:
    machine = contabo.create(desk())
    admin.inject(operation, kind, **options)

    with pytest.raises(TransientError) as failed:
        action(contabo, machine.provider_id)

    assert (failed.value.status, failed.value.retry_after) == (status, retry_after)
    assert admin.calls()[operation] == 1


def test_a_timeout_is_transient(make_client: ClientFactory, admin: EmulatorHandle) -> None:
    impatient = make_client(timeout=0.5)
    machine = impatient.create(desk())
    admin.inject("start", "timeout")
    started = time.monotonic()

    with pytest.raises(TransientError, match="timed out"):
        impatient.start(machine.provider_id)

    assert time.monotonic() - started < 1.5
    assert admin.calls()["start"] == 1


def test_a_reset_connection_is_transient(contabo: ContaboClient, admin: EmulatorHandle) -> None:
    machine = contabo.create(desk())
    admin.inject("shutdown", "reset")

    with pytest.raises(TransientError, match="no answer"):
        contabo.stop(machine.provider_id)


def test_a_failed_create_is_not_retried(contabo: ContaboClient, admin: EmulatorHandle) -> None:
    admin.inject("create", "error_500")

    with pytest.raises(TransientError):
        contabo.create(desk())

    assert admin.calls()["create"] == 1
    assert admin.machines() == []


def test_a_create_whose_answer_is_lost_is_found_by_label_and_in_the_audit_log(
    contabo: ContaboClient, admin: EmulatorHandle, emulator: ContaboEmulator
) -> None:
    admin.inject("create", "lost_response")

    with pytest.raises(TransientError) as lost:
        contabo.create(desk("nemordp-7"))

    assert admin.calls()["create"] == 1
    adopted = contabo.find_by_label("nemordp-7")
    assert adopted is not None
    request_id = re.search(r"x-request-id is ([0-9a-f-]{36})", lost.value.message)
    assert request_id is not None
    [audit] = emulator.audits_matching(request_id.group(1), None)
    assert str(audit["instanceId"]) == adopted.provider_id


def test_another_4xx_is_permanent_with_contabos_message(
    contabo: ContaboClient, admin: EmulatorHandle
) -> None:
    machine = contabo.create(desk())
    admin.inject("start", "permanent", status=402, message="Payment required")

    with pytest.raises(PermanentError) as refused:
        contabo.start(machine.provider_id)

    assert type(refused.value) is PermanentError
    assert (refused.value.status, refused.value.message) == (402, "Payment required")


def test_secrets_and_tokens_never_reach_the_logs(
    contabo: ContaboClient,
    admin: EmulatorHandle,
    emulator: ContaboEmulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    admin.settings(not_found_seconds=0)

    machine = contabo.create(desk(label="nemordp-2"))
    admin.inject("create", "error_500")
    with pytest.raises(TransientError):
        contabo.create(desk(label="nemordp-3"))  # a failure logs the most
    tokens = set(emulator.access_tokens) | set(emulator.refresh_tokens)
    admin.http.post("/tokens/revoke").raise_for_status()
    contabo.reinstall(machine.provider_id, "windows", "", DESK_PASSWORD)

    tokens |= set(emulator.access_tokens) | set(emulator.refresh_tokens)
    assert caplog.records  # the test would pass vacuously otherwise
    logged = "\n".join(f"{record.getMessage()} {record.__dict__}" for record in caplog.records)
    for secret in [DESK_PASSWORD, CREDENTIALS["client_secret"], CREDENTIALS["password"]]:
        assert secret not in logged
    assert emulator.grants == ["password", "refresh_token", "password"]
    assert not any(token in logged for token in tokens)


# -- throttle ---------------------------------------------------------------------------------
def test_the_throttle_keeps_a_burst_under_the_limit(
    make_client: ClientFactory, admin: EmulatorHandle
) -> None:
    contabo = make_client(throttle=Throttle("10/second", f"test-{uuid.uuid4()}"))
    list(contabo.list_machines())  # the token first
    admin.settings(rate_limit_per_second=20)

    def one(_: int) -> list[Machine] | Exception:
        try:
            return list(contabo.list_machines())
        except TransientError as exc:
            return exc

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(one, range(40)))

    assert all(isinstance(r, list) for r in results)
    assert admin.calls()["list"] == 41  # not one 429, so not one retry


# -- SSH keys ---------------------------------------------------------------------------------
def test_ssh_keys_are_stored_once_as_ssh_secrets_and_named_in_a_linux_order(
    contabo: ContaboClient,
    admin: EmulatorHandle,
    emulator: ContaboEmulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    key = public_key()
    caplog.set_level(logging.DEBUG)

    first = contabo.create(desk("nemordp-1", "linux", user_data="", ssh_keys=(key,)))
    second = contabo.create(desk("nemordp-2", "linux", user_data="", ssh_keys=(key,)))

    ssh = [s for s in emulator.secrets.values() if s.type == "ssh"]
    assert [(s.name, s.value) for s in ssh] == [(ssh_key_name(key), key)]
    for machine in (first, second):
        assert machine_view(admin, machine.provider_id)["sshKeys"] == [ssh[0].secret_id]
    assert key.split()[1] not in caplog.text


def test_a_reinstall_installs_the_keys_again_and_windows_gets_none(
    contabo: ContaboClient, admin: EmulatorHandle, emulator: ContaboEmulator
) -> None:
    machine = ready(contabo, desk(ssh_keys=(public_key(),)))  # Windows: keys left out
    assert machine_view(admin, machine.provider_id)["sshKeys"] == []
    key = public_key()

    answer = contabo.reinstall(machine.provider_id, "linux", "", "New2024!!pass", (key,))

    assert answer is None  # the password is ours
    [secret] = [s for s in emulator.secrets.values() if s.type == "ssh"]
    view = machine_view(admin, machine.provider_id)
    assert (view["sshKeys"], view["rootPassword"]) == ([secret.secret_id], "New2024!!pass")
