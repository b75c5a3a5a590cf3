"""Settings that list networks (CIDRs, comma-separated), and whether an address is in one."""

from __future__ import annotations

import ipaddress

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse(setting: str) -> list[Network]:
    """The networks of a setting; ValueError for an entry that is not a network."""
    return [ipaddress.ip_network(part.strip()) for part in setting.split(",") if part.strip()]


def contains(networks: list[Network], address: str | None) -> bool:
    """Whether ``address`` (a peer's, possibly missing or malformed) is in one of them."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    return any(ip in network for network in networks)
