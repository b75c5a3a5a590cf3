"""The interface every provider client implements, what each declares it can do, and the
shapes it returns.

Clients speak HTTP through the shared core in `workers.providers.http`, which sorts failures
into the outside-service pair of `workers.outside_errors`: `TransientError` (timeouts,
connection errors, 429, 5xx: try again later) and `PermanentError` (other 4xx: the provider
said no, with its message), with `MachineNotFound` for a machine that does not exist.
"""

from __future__ import annotations

import base64
import hashlib
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any, ClassVar, Self

from workers.outside_errors import PermanentError


class MachineNotFound(PermanentError):
    """No machine with that id (or it is gone)."""


class SnapshotNotFound(PermanentError):
    """No snapshot with that id (or it is gone)."""


class Capability(StrEnum):
    """What a provider's API lets us do beyond what every client does (order, look up, list,
    power on and off, reboot, destroy). Code outside this package asks for a capability and
    never for a provider by name; a feature only some providers offer adds a member here."""

    RESIZE = "resize"  # move a machine to another plan in place
    SHRINK_DISK = "shrink_disk"  # ... including a plan with a smaller disk
    TRAFFIC_REPORTING = "traffic_reporting"  # daily traffic per machine (`bandwidth`)
    REINSTALL = "reinstall"  # reinstall the system with fresh user data
    SNAPSHOTS = "snapshots"  # take, list, restore and delete snapshots of a machine's disk


class MachineState(StrEnum):
    """Provider states normalised to what our state machine needs."""

    PENDING = "pending"  # ordered, being created or installed
    RUNNING = "running"  # powered on (may still be booting; see Machine.ready)
    STOPPED = "stopped"
    RESIZING = "resizing"
    ERROR = "error"  # needs a human at the provider
    GONE = "gone"  # destroyed or cancelled


@dataclass(frozen=True)
class ProviderSetting:
    """A setting a client reads (its API's URL, credentials, throttle): `settings.py` adds
    it to the platform's settings, so it is typed, documented in ``.env.example``, shown by
    ``flask config show`` and, when ``secret``, masked and readable from ``<NAME>_FILE``."""

    name: str  # upper case, starting with the provider's name: ACME_API_KEY
    default: str
    description: str
    secret: bool = False
    rate_limit: bool = False  # checked as a rate limit ("25/second")


@dataclass(frozen=True)
class Machine:
    provider_id: str
    label: str
    state: MachineState
    ready: bool  # the provider reports it fully up, with an address
    ip_address: str | None  # IPv4, or None until assigned
    ipv6_address: str | None
    plan: str
    region: str
    # Vultr reveals the generated password only in the create response.
    default_password: str | None = None


@dataclass(frozen=True)
class CreateRequest:
    label: str  # deterministic (nemordp-<instance id>); a retried create looks it up first
    plan: str  # the provider's plan id
    region: str  # the provider's region id
    os_type: str  # windows | linux
    user_data: str  # cloud-init / PowerShell text, plain, never a password
    # Our chosen password, handed over through the provider's own password facility
    # (Contabo's secrets); None where the provider generates it (Vultr).
    password: str | None
    # OpenSSH public keys to install (Linux only); each client registers them its own way.
    ssh_keys: tuple[str, ...] = ()


class SnapshotState(StrEnum):
    """Provider snapshot states normalised."""

    PENDING = "pending"  # being taken
    AVAILABLE = "available"  # complete: it can be restored
    GONE = "gone"  # deleted


@dataclass(frozen=True)
class Snapshot:
    provider_snapshot_id: str
    name: str  # what we named it at the provider (the lookup key of a retried create)
    created_at: datetime | None
    size: int | None  # bytes, where the provider says
    status: SnapshotState


@dataclass(frozen=True)
class DailyTraffic:
    day: date
    incoming_bytes: int
    outgoing_bytes: int


class ProviderClient(ABC):
    """One provider's API. Implementations own their HTTP core and auth, and declare who
    they are and what they can do; the registry builds them from the settings."""

    name: ClassVar[str]  # as stored on instances and in the catalogue: lower case
    title: ClassVar[str]  # as people write it, for messages
    capabilities: ClassVar[frozenset[Capability]]
    api_url_setting: ClassVar[str]  # the setting holding the API's root URL
    settings: ClassVar[tuple[ProviderSetting, ...]]  # every setting `from_config` reads
    # True where the provider generates the machine's password and shows it only in the
    # create answer (`Machine.default_password`); False where it takes the one we choose.
    generates_password: ClassVar[bool] = False

    @classmethod
    def can(cls, capability: Capability) -> bool:
        return capability in cls.capabilities

    @classmethod
    @abstractmethod
    def from_config(cls, config: Mapping[str, Any]) -> Self:
        """The client the settings describe (URLs, credentials, timeout, throttle)."""

    @abstractmethod
    def create(self, request: CreateRequest) -> Machine:
        """Order a machine. Never retried blindly: callers look the label up first."""

    @abstractmethod
    def get(self, provider_id: str) -> Machine:
        """The machine now; raises MachineNotFound when it does not exist."""

    @abstractmethod
    def find_by_label(self, label: str) -> Machine | None:
        """The live machine carrying this label, if any."""

    @abstractmethod
    def list_machines(self) -> Iterator[Machine]:
        """Every live machine on the account, following the provider's pagination."""

    def list_ours(self) -> Iterator[Machine]:
        """The live machines this platform ordered, filtered at the provider where its API
        allows (else every machine on the account), following the pagination."""
        return self.list_machines()

    @abstractmethod
    def reboot(self, provider_id: str) -> None: ...

    @abstractmethod
    def start(self, provider_id: str) -> None: ...

    @abstractmethod
    def stop(self, provider_id: str) -> None: ...

    @abstractmethod
    def resize(self, provider_id: str, plan: str) -> None:
        """Move the machine to ``plan`` (`Capability.RESIZE`; without it, PermanentError)."""

    @abstractmethod
    def reinstall(
        self,
        provider_id: str,
        os_type: str,
        user_data: str,
        password: str,
        ssh_keys: tuple[str, ...] = (),
    ) -> str | None:
        """Reinstall ``os_type``'s system with fresh user data, erasing the disk
        (`Capability.REINSTALL`). The password the provider generated for it where it
        generates them (`generates_password`), else None: ``password`` is the new one."""

    @abstractmethod
    def destroy(self, provider_id: str) -> None:
        """Delete (Vultr) or cancel (Contabo) the machine; a machine already gone is fine."""

    @abstractmethod
    def bandwidth(self, provider_id: str) -> list[DailyTraffic] | None:
        """Daily traffic, or None without `Capability.TRAFFIC_REPORTING`."""

    @abstractmethod
    def create_snapshot(self, provider_id: str, name: str) -> Snapshot:
        """Start a snapshot of the machine's disk named ``name`` (`Capability.SNAPSHOTS`).
        Never retried blindly: callers look the name up first."""

    @abstractmethod
    def list_snapshots(self, provider_id: str) -> list[Snapshot]:
        """The snapshots the provider keeps of the machine (where its API does not tell
        whose a snapshot is, every snapshot on the account)."""

    @abstractmethod
    def get_snapshot(self, provider_id: str, snapshot_id: str) -> Snapshot:
        """One snapshot now; `SnapshotNotFound` when it does not exist."""

    @abstractmethod
    def restore_snapshot(self, provider_id: str, snapshot_id: str) -> None:
        """Overwrite the machine's disk with the snapshot; the machine reboots into it."""

    @abstractmethod
    def delete_snapshot(self, provider_id: str, snapshot_id: str) -> None:
        """Delete the snapshot; one already gone is fine."""

    @abstractmethod
    def close(self) -> None: ...


def ssh_key_name(public_key: str) -> str:
    """The name a client registers an OpenSSH public key under at a provider, from its
    SHA-256 fingerprint (as ``ssh-keygen -l`` shows it), so a key is registered once."""
    blob = base64.b64decode(public_key.split()[1])
    digest = base64.b64encode(hashlib.sha256(blob).digest()).decode("ascii").rstrip("=")
    return f"nemordp-SHA256:{digest}"
