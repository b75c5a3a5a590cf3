"""The providers we can build machines at, what each can do, and one pooled client per
provider per worker process, built from the app config.

Everything outside this package learns about providers here: their names (`PROVIDERS`),
their declarations (`client_class`: capabilities, title), where their APIs are (`api_urls`)
and their clients (`client_for`). A new provider is one more class in `CLIENT_CLASSES`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import current_app

from workers.providers.base import Capability, ProviderClient
from workers.providers.contabo import ContaboClient
from workers.providers.vultr import VultrClient

CLIENT_CLASSES: dict[str, type[ProviderClient]] = {
    client.name: client for client in (VultrClient, ContaboClient)
}
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
