"""Hosts as Linux network namespaces on this machine, joined by one switch (a bridge in a
namespace of its own) through a veth link each, on 10.213.0.0/24. This machine's own
namespace joins the switch too (10.213.0.1), as the client of the cluster. Nothing is
routed anywhere else: traffic never leaves this machine.

Every namespace and link made here carries the prefix ``nrc``; `cleanup` removes them all
(and SIGKILLs whatever still runs in them), also what an earlier, interrupted run left.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from dataclasses import dataclass

PREFIX = "nrc"
SWITCH = f"{PREFIX}-switch"
BRIDGE = "br0"
NETWORK = "10.213.0"
CLIENT_ADDRESS = f"{NETWORK}.1"
CLIENT_LINK = f"{PREFIX}-client"
# The provider emulators give machines addresses in MACHINES (a /16 each); they listen for
# Remote Desktop on the provider host, which every other host reaches them through.
MACHINES = "10.216.0.0/13"


def machines_prefix(number: int) -> str:
    """The first two bytes of the addresses of the ``number``th emulator's machines."""
    return f"10.{216 + number}"


def ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], check=check, capture_output=True, text=True)


@dataclass(frozen=True)
class Host:
    """One namespace ``nrc-<name>`` with ``address``; its link's switch end is
    ``nrc-<name>`` in the switch namespace, its own end ``eth0``."""

    name: str
    address: str

    @property
    def namespace(self) -> str:
        return f"{PREFIX}-{self.name}"

    @property
    def link(self) -> str:
        return f"{PREFIX}-{self.name}"

    @property
    def prefix(self) -> list[str]:
        """Run a command on this host."""
        return ["ip", "netns", "exec", self.namespace]

    def create(self, machines_via: str) -> None:
        """The namespace, its link to the switch, its address; Remote Desktop addresses of
        machines routed through ``machines_via`` (or served here when it is this host)."""
        ns = self.namespace
        ip("netns", "add", ns)
        ip("-n", ns, "link", "set", "lo", "up")
        ip("link", "add", "eth0", "netns", ns, "type", "veth", "peer", self.link, "netns", SWITCH)
        ip("-n", SWITCH, "link", "set", self.link, "master", BRIDGE, "up")
        ip("-n", ns, "addr", "add", f"{self.address}/24", "dev", "eth0")
        ip("-n", ns, "link", "set", "eth0", "up")
        if machines_via == self.address:
            ip("-n", ns, "route", "add", "local", MACHINES, "dev", "lo")
        else:
            ip("-n", ns, "route", "add", MACHINES, "via", machines_via)

    def link_up(self, up: bool) -> None:
        """Plug or unplug this host's cable at the switch."""
        ip("-n", SWITCH, "link", "set", self.link, "up" if up else "down")

    def kill_everything(self) -> None:
        """SIGKILL every process running on this host, as when it loses power."""
        kill_processes(self.namespace)


def create_switch() -> None:
    """The switch, and this machine's own link to it."""
    ip("netns", "add", SWITCH)
    ip("-n", SWITCH, "link", "add", BRIDGE, "type", "bridge")
    ip("-n", SWITCH, "link", "set", BRIDGE, "up")
    ip("link", "add", CLIENT_LINK, "type", "veth", "peer", f"{PREFIX}-uplink", "netns", SWITCH)
    ip("-n", SWITCH, "link", "set", f"{PREFIX}-uplink", "master", BRIDGE, "up")
    ip("addr", "add", f"{CLIENT_ADDRESS}/24", "dev", CLIENT_LINK)
    ip("link", "set", CLIENT_LINK, "up")


def kill_processes(namespace: str) -> None:
    for pid in ip("netns", "pids", namespace, check=False).stdout.split():
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(pid), signal.SIGKILL)


def ours() -> list[str]:
    """The namespaces of a cluster, this run's or a leftover."""
    listed = ip("netns", "list", check=False).stdout.splitlines()
    return [line.split()[0] for line in listed if line.startswith(f"{PREFIX}-")]


def cleanup() -> None:
    """Every process in our namespaces killed, every namespace and link removed."""
    namespaces = ours()
    for namespace in namespaces:
        kill_processes(namespace)
    for namespace in namespaces:
        ip("netns", "delete", namespace, check=False)  # its links go with it
    ip("link", "delete", CLIENT_LINK, check=False)
