"""The providers we can build machines at, what each can do, and one pooled client per
provider per worker process, built from the app config.

Everything outside this package learns about providers here: their names (`PROVIDERS`),
their declarations (`client_class`: capabilities, title, settings), where their APIs are
(`api_urls`) and their clients (`client_for`). The clients are found, not listed: every
module of this package that declares ``CLIENT = <its ProviderClient class>`` adds one, so a
new provider is one new module here.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Mapping
from typing import Any

from flask import current_app

from workers.providers.base import Capability, ProviderClient

PACKAGE = "workers.providers"


def discover(package: str = PACKAGE) -> dict[str, type[ProviderClient]]:
    """The client class each module of ``package`` declares as ``CLIENT``, by provider
    name, in module order. A declaration that is not a client, or a second client for one
    name, stops the import."""
    found: dict[str, type[ProviderClient]] = {}
    for module_info in pkgutil.iter_modules(importlib.import_module(package).__path__):
        module = importlib.import_module(f"{package}.{module_info.name}")
        client = getattr(module, "CLIENT", None)
        if client is None:
            continue
        if not (isinstance(client, type) and issubclass(client, ProviderClient)):
            raise TypeError(f"{module.__name__}.CLIENT is not a ProviderClient class")
        if client.name in found:
            raise ValueError(f"two clients for the provider {client.name!r}")
        found[client.name] = client
    return found


CLIENT_CLASSES = discover()
PROVIDERS = tuple(CLIENT_CLASSES)

_clients: dict[str, ProviderClient] = {}


def client_class(name: str) -> type[ProviderClient]:
    try:
        return CLIENT_CLASSES[name]
    except KeyError:
        raise ValueError(f"unknown provider {name!r}") from None


def supports(name: str, capability: Capability) -> bool:
    """Whether the provider called ``name`` declares ``capability``."""
    return client_class(name).can(capability)


def api_urls(config: Mapping[str, Any]) -> dict[str, str]:
    """Each provider's API root URL, by provider name."""
    return {name: config[client.api_url_setting] for name, client in CLIENT_CLASSES.items()}


def client_for(name: str) -> ProviderClient:
    if name not in _clients:
        _clients[name] = client_class(name).from_config(current_app.config)
    return _clients[name]


def reset() -> None:
    """Close every client (after a fork, or when the configuration changes)."""
    for client in _clients.values():
        client.close()
    _clients.clear()
