"""A new provider is its client, its emulator and its plans in the catalogue: the registry,
the settings and the stack's stand-ins find it, so none of them names a provider.

The last test drops a third provider, Acme, into `workers/providers` and
`devtools/emulators` (a temporary directory added to each package's path) and follows it
through the registry, the settings (typed, secret, read from a file), the stand-ins' settings
and processes, to its client talking to its emulator over HTTP.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import create_model

import devtools.emulators
import settings
import workers.providers
from devtools.emulators.core import BackgroundServer
from devtools.stack import stand_ins
from devtools.stack.group import Group
from devtools.stack.ports import free_port
from tests.architecture.test_provider_names import NAMED
from tests.support.emulators import quick_settings
from workers.providers import registry
from workers.providers.base import ProviderSetting
from workers.providers.vultr import VultrClient

ROOT = Path(__file__).resolve().parents[2]
# Where the list of providers used to be written out by hand.
PROVIDER_FREE = (
    "workers/providers/registry.py",
    "settings.py",
    "devtools/stack/stand_ins.py",
    "devtools/stack/run.py",
)

ACME_CLIENT = '''
"""Acme's API: Vultr's, served by another company."""

from collections.abc import Mapping
from typing import Any, Self

from workers.providers.base import ProviderSetting
from workers.providers.vultr import VultrClient


class AcmeClient(VultrClient):
    name = "acme"
    title = "Acme"
    api_url_setting = "ACME_API_URL"
    settings = (
        ProviderSetting("ACME_API_URL", "https://api.acme.example/v2", "Acme API."),
        ProviderSetting("ACME_API_TOKEN", "", "Acme API token.", secret=True),
        ProviderSetting("ACME_RATE_LIMIT", "5/second", "Throttle of Acme calls.", rate_limit=True),
    )

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Self:
        return cls(config["ACME_API_URL"], config["ACME_API_TOKEN"], timeout=5.0)


CLIENT = AcmeClient
'''

ACME_EMULATOR = '''
"""Acme's API emulator: Vultr's, under another name."""

from devtools.emulators import Emulates
from devtools.emulators.vultr import create_app, main


def client_settings(url: str, credentials: str) -> dict[str, str]:
    return {"ACME_API_URL": f"{url}/v2", "ACME_API_TOKEN": f"{credentials}-acme-token"}


EMULATES = Emulates("acme", 8799, client_settings, options=("--ip-prefix", "127.9"))

if __name__ == "__main__":
    main()
'''


def test_the_registry_the_settings_and_the_stand_ins_name_no_provider() -> None:
    for path in PROVIDER_FREE:
        found = sorted(set(NAMED.findall((ROOT / path).read_text())))
        assert found == [], f"{path} names {found}"


@pytest.mark.parametrize("module", ["settings", "config", "workers.providers.registry"])
def test_each_imports_first_in_a_fresh_interpreter(module: str) -> None:
    """The settings read the clients' declarations: no client may need the app to load."""
    env = {**os.environ, "NEMORDP_ENV": "test"}
    run = subprocess.run(
        [sys.executable, "-c", f"import {module}"], cwd=ROOT, env=env, capture_output=True
    )
    assert run.returncode == 0, run.stderr.decode()


def test_every_client_has_its_settings_and_an_emulator_and_every_catalogue_offer_a_client() -> None:
    emulated = stand_ins.emulated()
    assert set(emulated) == set(registry.PROVIDERS)
    for name, client in registry.CLIENT_CLASSES.items():
        declared = {setting.name for setting in client.settings}
        assert declared <= set(settings.Settings.model_fields), name
        assert client.api_url_setting in declared, name
        assert set(emulated[name].client_settings("http://emulator", "x")) <= declared, name
    plans = json.loads((ROOT / "app" / "data" / "catalog.json").read_text())["plans"]
    assert {provider for plan in plans for provider in plan["offers"]} <= set(registry.PROVIDERS)


def test_the_stand_ins_start_every_emulator_and_each_client_reaches_its_own() -> None:
    ports = {name: free_port() for name in stand_ins.emulated()}
    env = {f"{name.upper()}_EMULATOR_PORT": str(port) for name, port in ports.items()}
    urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    config = {
        **settings.load(settings.TestSettings, None).model_dump(),
        **stand_ins.emulator_settings(urls, free_port(), "architecture"),
    }
    with Group() as group:
        for emulator in stand_ins.local_emulators(free_port(), env=env):
            group.add(emulator).start()
        for name, client_class in registry.CLIENT_CLASSES.items():
            client = client_class.from_config(config)
            try:
                assert list(client.list_machines()) == [], name
            finally:
                client.close()


def test_a_client_setting_must_start_with_its_providers_name() -> None:
    class Stray(VultrClient):
        settings = (ProviderSetting("SECRET_KEY", "", "Takes the place of another setting."),)

    with pytest.raises(ValueError, match="SECRET_KEY"):
        settings.provider_fields([Stray])


@pytest.fixture
def acme(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Acme's client and emulator modules, found in their packages for this test only."""
    packages = (workers.providers, devtools.emulators)
    for package, source in zip(packages, (ACME_CLIENT, ACME_EMULATOR), strict=True):
        directory = tmp_path / package.__name__
        directory.mkdir()
        (directory / "acme.py").write_text(textwrap.dedent(source))
        monkeypatch.setattr(package, "__path__", [*package.__path__, str(directory)])
    importlib.invalidate_caches()
    yield
    for package in packages:
        sys.modules.pop(f"{package.__name__}.acme", None)
        vars(package).pop("acme", None)


@pytest.mark.usefixtures("acme")
def test_a_third_provider_is_found_configured_stood_in_for_and_served(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clients = registry.discover()
    assert set(clients) == {*registry.PROVIDERS, "acme"}
    assert set(stand_ins.emulated()) == set(clients)

    # Its settings join the others': typed, documented, a secret readable from a file.
    fields = settings.provider_fields([clients["acme"]])
    assert list(fields) == ["ACME_API_URL", "ACME_API_TOKEN", "ACME_RATE_LIMIT"]
    with_acme = create_model("WithAcme", __base__=settings.TestSettings, **fields)
    token = tmp_path / "token"
    token.write_text("from-a-file\n")
    monkeypatch.setenv("ACME_API_TOKEN_FILE", str(token))
    monkeypatch.setenv("ACME_RATE_LIMIT", "fast")
    with pytest.raises(settings.SettingsError, match="ACME_RATE_LIMIT: not a rate limit"):
        settings.load(with_acme, None)
    monkeypatch.setenv("ACME_RATE_LIMIT", "2/second")
    assert settings.load(with_acme, None).ACME_API_TOKEN == "from-a-file"

    # The stand-ins start its emulator with the others and point its client at it.
    processes = {process.label: process for process in stand_ins.local_emulators(3389, env={})}
    assert set(processes) == set(clients)
    assert processes["acme"].port == 8799
    assert processes["acme"].command[-2:] == ["--ip-prefix", "127.9"]
    assert "devtools.emulators.acme" in processes["acme"].command
    emulator = importlib.import_module("devtools.emulators.acme")
    server = BackgroundServer(emulator.create_app(quick_settings(3389, "127.9"))).start()
    try:
        config = stand_ins.emulator_settings({"acme": server.url}, 3389, "test")
        assert config["ACME_API_TOKEN"] == "test-acme-token"
        client = clients["acme"].from_config(config)
        try:
            assert list(client.list_machines()) == []
        finally:
            client.close()
    finally:
        server.stop()
