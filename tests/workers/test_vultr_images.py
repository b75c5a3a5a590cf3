"""Vultr's os_id and IPv6 address, read from what Vultr's API lists and describes."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import ExitStack, closing
from typing import Any

import pytest

from devtools.emulators.vultr import create_app
from tests.support.emulators import (
    EmulatorHandle,
    ServedEmulator,
    quick_settings,
    serving,
    wait_until,
)
from workers.outside_errors import PermanentError
from workers.providers.base import CreateRequest, Machine
from workers.providers.system_images import WantedImage
from workers.providers.vultr import VultrClient, to_machine

ClientFactory = Callable[..., VultrClient]
DEBIAN_12 = 2136  # the emulator's id, last of its list


@pytest.fixture(scope="module")
def server() -> Iterator[ServedEmulator]:
    with serving(create_app(quick_settings(33893, "127.23"))) as server:
        yield server


@pytest.fixture()
def make_client(server: ServedEmulator, admin: EmulatorHandle) -> Iterator[ClientFactory]:
    with ExitStack() as clients:

        def make(**options: Any) -> VultrClient:
            client = VultrClient(f"{server.url}/v2", "key", timeout=5.0, **options)
            return clients.enter_context(closing(client))

        yield make


def order(client: VultrClient, label: str, os_type: str = "linux") -> Machine:
    request = CreateRequest(label, "vc2-1c-1gb", "ewr", os_type, "#cloud-config\n", None)
    return client.create(request)


def os_ids(admin: EmulatorHandle) -> dict[str, int]:
    return {m["label"]: m["os_id"] for m in admin.machines()}


def test_the_os_list_is_read_once_and_kept_for_every_order(
    make_client: ClientFactory, admin: EmulatorHandle
) -> None:
    client = make_client()

    order(client, "one", "windows")
    order(client, "two", "linux")

    assert admin.calls()["os"] == 1
    assert os_ids(admin) == {"one": 501, "two": 1743}  # Windows 2022 Standard, Ubuntu 22.04


def test_the_os_list_is_read_again_once_the_cache_expires(
    make_client: ClientFactory, admin: EmulatorHandle
) -> None:
    client = make_client(image_cache_seconds=0.0)

    order(client, "one")
    order(client, "two")

    assert admin.calls()["os"] == 2


def test_the_os_list_is_followed_across_pages(
    make_client: ClientFactory, admin: EmulatorHandle
) -> None:
    admin.settings(max_page_size=2)
    client = make_client(images={"linux": WantedImage("Debian", "12")})

    order(client, "deb")

    assert admin.calls()["os"] == 3
    assert os_ids(admin) == {"deb": DEBIAN_12}


def test_an_image_vultr_does_not_list_is_a_permanent_error_naming_it(
    make_client: ClientFactory, admin: EmulatorHandle
) -> None:
    client = make_client(images={"linux": WantedImage("Ubuntu", "30.04")})

    with pytest.raises(PermanentError, match=re.escape("'Ubuntu' with version '30.04'")):
        order(client, "nope")

    assert "create" not in admin.calls()


def test_the_ipv6_address_is_the_main_ip_of_the_described_v6_networks() -> None:
    instance = {
        "id": "a1b2",
        "status": "active",
        "power_status": "running",
        "main_ip": "192.0.2.10",
        "v6_networks": [
            {"network": "2001:db8:5::", "main_ip": "2001:db8:5::7", "network_size": 64}
        ],
    }

    assert to_machine(instance).ipv6_address == "2001:db8:5::7"


def test_the_older_v6_main_ip_is_read_when_v6_networks_is_absent() -> None:
    instance = {"id": "a1b2", "status": "pending", "v6_main_ip": "2001:db8:6::9"}

    assert to_machine(instance).ipv6_address == "2001:db8:6::9"
    assert to_machine({**instance, "v6_main_ip": "", "v6_networks": []}).ipv6_address is None


def test_a_machine_with_ipv6_shows_the_address_the_emulator_lists(
    make_client: ClientFactory, admin: EmulatorHandle
) -> None:
    client = make_client()
    created = order(client, "six")

    networks = wait_until(lambda: admin.machines()[0]["v6_networks"], timeout=5)

    [network] = networks
    assert network["network_size"] == 64
    assert client.get(created.provider_id).ipv6_address == network["main_ip"]
