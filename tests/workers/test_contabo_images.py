"""Contabo's image ids, found by name and version in the account's own image list."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import ExitStack, closing
from typing import Any

import pytest

from devtools.emulators.contabo import TOKEN_PATH, ContaboEmulator, create_app
from tests.support.emulators import EmulatorHandle, ServedEmulator, quick_settings, serving
from workers.outside_errors import PermanentError
from workers.providers.base import CreateRequest
from workers.providers.contabo import ContaboClient
from workers.providers.system_images import SystemImage, WantedImage

ClientFactory = Callable[..., ContaboClient]
PASSWORD = "Desk2024!!secret"


@pytest.fixture(scope="module")
def server() -> Iterator[ServedEmulator]:
    with serving(create_app(quick_settings(33894, "127.24"))) as server:
        yield server


@pytest.fixture()
def make_client(server: ServedEmulator, admin: EmulatorHandle) -> Iterator[ClientFactory]:
    with ExitStack() as clients:

        def make(url: str = server.url, **options: Any) -> ContaboClient:
            client = ContaboClient(
                f"{url}/v1", f"{url}{TOKEN_PATH}", "id", "secret", "user", "pw", **options
            )
            return clients.enter_context(closing(client))

        yield make


def order(client: ContaboClient, label: str, os_type: str = "windows") -> None:
    client.create(CreateRequest(label, "V91", "EU", os_type, "#cloud-config\n", PASSWORD))


def image_names(server: ServedEmulator, admin: EmulatorHandle) -> dict[str, str]:
    """Each machine's image, by name, as the emulator that built it calls it."""
    state = server.state
    assert isinstance(state, ContaboEmulator)
    return {m["displayName"]: state.images[m["imageId"]].name for m in admin.machines()}


def test_each_account_orders_with_the_image_ids_of_its_own_list(
    make_client: ClientFactory, server: ServedEmulator, admin: EmulatorHandle
) -> None:
    with serving(create_app(quick_settings(33895, "127.25"))) as other:
        other_state = other.state
        assert isinstance(other_state, ContaboEmulator)
        assert not set(other_state.images) & set(server.state.images)  # type: ignore[attr-defined]

        order(make_client(), "here", "windows")
        order(make_client(other.url), "there", "linux")

        [there] = other.admin.machines()
        assert other_state.images[there["imageId"]].name == "ubuntu-22.04"
    assert image_names(server, admin) == {"here": "windows-server-2022-se"}


def test_the_image_list_is_read_once_and_kept_for_every_order(
    make_client: ClientFactory, server: ServedEmulator, admin: EmulatorHandle
) -> None:
    client = make_client()

    order(client, "one", "windows")
    order(client, "two", "linux")
    two = client.find_by_label("two")
    assert two is not None
    client.reinstall(two.provider_id, "linux", "#cloud-config\n", PASSWORD)

    assert admin.calls()["images"] == 1
    assert image_names(server, admin) == {"one": "windows-server-2022-se", "two": "ubuntu-22.04"}


def test_the_image_list_is_read_again_once_the_cache_expires(
    make_client: ClientFactory, admin: EmulatorHandle
) -> None:
    client = make_client(image_cache_seconds=0.0)

    order(client, "one")
    order(client, "two")

    assert admin.calls()["images"] == 2


def test_the_image_list_is_followed_across_pages(
    make_client: ClientFactory, server: ServedEmulator, admin: EmulatorHandle
) -> None:
    admin.settings(max_page_size=2)

    order(make_client(), "win")  # windows-server-2022-se is the last of six

    assert admin.calls()["images"] == 3
    assert image_names(server, admin) == {"win": "windows-server-2022-se"}


def test_an_image_contabo_does_not_list_is_a_permanent_error_naming_it(
    make_client: ClientFactory, admin: EmulatorHandle
) -> None:
    client = make_client(images={"windows": WantedImage("windows server", "2031")})

    with pytest.raises(PermanentError, match=re.escape("'windows server' with version '2031'")):
        order(client, "nope")

    assert "create" not in admin.calls() and "secret" not in admin.calls()


def test_an_unknown_os_type_is_a_permanent_error_before_any_call(
    make_client: ClientFactory, admin: EmulatorHandle
) -> None:
    with pytest.raises(PermanentError, match="'beos'"):
        order(make_client(), "nope", "beos")

    assert "images" not in admin.calls()


@pytest.mark.parametrize(
    ("image", "matches"),
    [
        (SystemImage("1", "windows-server-2022-se", "2022"), True),
        (SystemImage("2", "windows-server-2019-se", "2019"), False),
        (SystemImage("3", "windows-10-pro", "2022"), False),  # not a server
        (SystemImage("4", "Windows 2022 Standard x64"), False),  # no "server" word
        (SystemImage("5", "Windows Server 2022 Standard x64"), True),  # version in the name
        (SystemImage("6", "windows-server-20223", ""), False),  # a whole word, not a prefix
    ],
)
def test_an_image_matches_by_every_word_of_the_name_and_the_version(
    image: SystemImage, matches: bool
) -> None:
    assert WantedImage("Windows Server", "2022").matches(image) is matches
