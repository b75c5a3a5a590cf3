"""One pooled client per provider per worker process, built from the app config."""

from __future__ import annotations

from flask import current_app

from workers.providers.base import ProviderClient
from workers.providers.contabo import ContaboClient
from workers.providers.throttle import Throttle
from workers.providers.vultr import VultrClient

PROVIDERS = ("vultr", "contabo")

_clients: dict[str, ProviderClient] = {}


def client_for(name: str) -> ProviderClient:
    if name not in _clients:
        _clients[name] = _build(name)
    return _clients[name]


def _build(name: str) -> ProviderClient:
    config = current_app.config
    timeout = config["PROVIDER_TIMEOUT"]
    if name == "vultr":
        # Shared through Redis, so all worker processes together stay under Vultr's limit.
        throttle = Throttle(config["VULTR_RATE_LIMIT"], "vultr", config["REDIS_URL"])
        return VultrClient(
            config["VULTR_API_URL"], config["VULTR_API_KEY"], timeout=timeout, throttle=throttle
        )
    if name == "contabo":
        return ContaboClient(
            config["CONTABO_API_URL"],
            config["CONTABO_AUTH_URL"],
            config["CONTABO_CLIENT_ID"],
            config["CONTABO_CLIENT_SECRET"],
            config["CONTABO_API_USER"],
            config["CONTABO_API_PASSWORD"],
            timeout=timeout,
        )
    raise ValueError(f"unknown provider {name!r}")


def reset() -> None:
    """Close every client (after a fork, or when the configuration changes)."""
    for client in _clients.values():
        client.close()
    _clients.clear()
