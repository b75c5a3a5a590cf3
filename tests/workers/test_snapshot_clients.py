"""Both clients' snapshots against their emulators over real HTTP: take, list, restore,
delete, and the errors a provider's refusal or failure becomes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass

import pytest

from devtools.emulators import contabo, vultr
from tests.support.emulators import EmulatorHandle, ServedEmulator, quick_settings, serving
from tests.support.emulators import wait_until as until
from workers.outside_errors import PermanentError, TransientError
from workers.providers.base import (
    Capability,
    CreateRequest,
    ProviderClient,
    SnapshotNotFound,
    SnapshotState,
)
from workers.providers.contabo import ContaboClient
from workers.providers.vultr import VultrClient

PASSWORD = "Desk2024!!secret"


@dataclass
class Provider:
    """One provider's emulator, a client of it, and how it orders a machine."""

    admin: EmulatorHandle
    client: ProviderClient
    request: CreateRequest


@pytest.fixture(scope="module")
def vultr_server() -> Iterator[ServedEmulator]:
    with serving(vultr.create_app(quick_settings(33911, "127.41", snapshot_seconds=0.5))) as s:
        yield s


@pytest.fixture(scope="module")
def contabo_server() -> Iterator[ServedEmulator]:
    with serving(contabo.create_app(quick_settings(33912, "127.42"))) as server:
        yield server


def _vultr(server: ServedEmulator) -> ProviderClient:
    return VultrClient(f"{server.url}/v2", "key", timeout=5.0)


def _contabo(server: ServedEmulator) -> ProviderClient:
    url = server.url
    return ContaboClient(f"{url}/v1", f"{url}{contabo.TOKEN_PATH}", "c", "s", "u", "p", timeout=5.0)


def _request(plan: str, region: str) -> CreateRequest:
    return CreateRequest(
        label="nemordp-snap-1",
        plan=plan,
        region=region,
        os_type="windows",
        user_data="",
        password=PASSWORD,
    )


def _provider(request: pytest.FixtureRequest, name: str) -> Iterator[Provider]:
    server: ServedEmulator = request.getfixturevalue(f"{name}_server")
    make: Callable[[ServedEmulator], ProviderClient]
    make, order = {
        "vultr": (_vultr, _request("vc2-2c-4gb", "ewr")),
        "contabo": (_contabo, _request("V91", "EU")),
    }[name]
    with closing(make(server)) as client:
        yield Provider(server.fresh(), client, order)


@pytest.fixture(params=["vultr", "contabo"])
def provider(request: pytest.FixtureRequest) -> Iterator[Provider]:
    yield from _provider(request, request.param)


@pytest.fixture()
def at_vultr(request: pytest.FixtureRequest) -> Iterator[Provider]:
    yield from _provider(request, "vultr")


@pytest.fixture()
def at_contabo(request: pytest.FixtureRequest) -> Iterator[Provider]:
    yield from _provider(request, "contabo")


def _ready_machine(provider: Provider) -> str:
    machine = provider.client.create(provider.request)
    until(lambda: _looks_ready(provider.client, machine.provider_id), 10)
    return machine.provider_id


def _looks_ready(client: ProviderClient, provider_id: str) -> bool:
    try:
        return client.get(provider_id).ready
    except PermanentError:
        return False  # not visible yet right after the order


def test_both_clients_declare_snapshots() -> None:
    assert VultrClient.can(Capability.SNAPSHOTS) and ContaboClient.can(Capability.SNAPSHOTS)


def test_a_snapshot_is_taken_listed_restored_and_deleted(provider: Provider) -> None:
    client = provider.client
    machine_id = _ready_machine(provider)

    taken = client.create_snapshot(machine_id, "testsuite-s1")
    assert taken.name == "testsuite-s1" and taken.provider_snapshot_id
    snapshot_id = taken.provider_snapshot_id
    complete = until(
        lambda: (
            (s := client.get_snapshot(machine_id, snapshot_id)).status is SnapshotState.AVAILABLE
            and s
        ),
        5,
    )
    assert complete.created_at is not None
    assert [s.provider_snapshot_id for s in client.list_snapshots(machine_id)] == [snapshot_id]

    client.restore_snapshot(machine_id, snapshot_id)
    assert not client.get(machine_id).ready  # it boots into the restored disk
    until(lambda: client.get(machine_id).ready, 10)

    client.delete_snapshot(machine_id, snapshot_id)
    with pytest.raises(SnapshotNotFound):
        client.get_snapshot(machine_id, snapshot_id)
    client.delete_snapshot(machine_id, snapshot_id)  # already gone is fine
    assert client.list_snapshots(machine_id) == []
    assert provider.admin.snapshots() == []


def test_vultr_reports_the_size_once_complete(at_vultr: Provider) -> None:
    provider = at_vultr
    machine_id = _ready_machine(provider)
    taken = provider.client.create_snapshot(machine_id, "testsuite-s2")
    assert (taken.status, taken.size) == (SnapshotState.PENDING, None)
    complete = until(
        lambda: (
            (s := provider.client.get_snapshot(machine_id, taken.provider_snapshot_id)).size and s
        ),
        5,
    )
    assert complete.size == 80 * 2**30 and complete.status is SnapshotState.AVAILABLE


def test_a_contabo_rollback_drops_the_newer_snapshots(at_contabo: Provider) -> None:
    client = at_contabo.client
    machine_id = _ready_machine(at_contabo)
    older = client.create_snapshot(machine_id, "testsuite-s3")
    newer = client.create_snapshot(machine_id, "testsuite-s4")
    assert [s.name for s in client.list_snapshots(machine_id)] == [older.name, newer.name]

    client.restore_snapshot(machine_id, older.provider_snapshot_id)

    assert [s.name for s in client.list_snapshots(machine_id)] == [older.name]


def test_a_refused_snapshot_is_permanent_and_a_failed_one_transient_and_never_resent(
    provider: Provider,
) -> None:
    client, admin = provider.client, provider.admin
    machine_id = _ready_machine(provider)
    admin.inject("snapshot_create", "permanent", status=400, message="snapshot limit reached")
    with pytest.raises(PermanentError, match="snapshot limit reached"):
        client.create_snapshot(machine_id, "testsuite-s5")
    admin.inject("snapshot_create", "error_500")
    with pytest.raises(TransientError):
        client.create_snapshot(machine_id, "testsuite-s5")
    assert admin.snapshots() == []
    assert admin.calls()["snapshot_create"] == 2  # a create is never sent twice by the client


def test_an_unknown_snapshot_is_not_found_and_cannot_be_restored(provider: Provider) -> None:
    client = provider.client
    machine_id = _ready_machine(provider)
    with pytest.raises(SnapshotNotFound):
        client.get_snapshot(machine_id, "snap0000000000")
    with pytest.raises(PermanentError):
        client.restore_snapshot(machine_id, "snap0000000000")
