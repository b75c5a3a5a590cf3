"""The interface every provider client implements, and the errors and shapes it returns.

Clients speak HTTP through one pooled ``httpx.Client`` each; they sort failures into
`TransientProviderError` (timeouts, connection errors, 429, 5xx: try again later) and
`PermanentProviderError` (other 4xx: the provider said no, with its message).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from enum import StrEnum


class ProviderError(Exception):
    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class TransientProviderError(ProviderError):
    """Worth retrying; ``retry_after`` is the provider's hint in seconds, if it gave one."""

    def __init__(
        self, message: str, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message, status)
        self.retry_after = retry_after


class PermanentProviderError(ProviderError):
    """The provider refused the request; retrying the same request will not help."""


class MachineNotFound(PermanentProviderError):
    """No machine with that id (or it is gone)."""


class MachineState(StrEnum):
    """Provider states normalised to what our state machine needs."""

    PENDING = "pending"  # ordered, being created or installed
    RUNNING = "running"  # powered on (may still be booting; see Machine.ready)
    STOPPED = "stopped"
    RESIZING = "resizing"
    ERROR = "error"  # needs a human at the provider
    GONE = "gone"  # destroyed or cancelled


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


@dataclass(frozen=True)
class DailyTraffic:
    day: date
    incoming_bytes: int
    outgoing_bytes: int


class ProviderClient(ABC):
    """One provider's API. Implementations own their httpx client and auth."""

    name: str
    # True where the provider generates the machine's password and shows it only in the
    # create answer (`Machine.default_password`); False where it takes the one we choose.
    generates_password: bool = False

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

    @abstractmethod
    def reboot(self, provider_id: str) -> None: ...

    @abstractmethod
    def start(self, provider_id: str) -> None: ...

    @abstractmethod
    def stop(self, provider_id: str) -> None: ...

    @abstractmethod
    def resize(self, provider_id: str, plan: str) -> None: ...

    @abstractmethod
    def reinstall(self, provider_id: str, os_type: str, user_data: str, password: str) -> None: ...

    @abstractmethod
    def destroy(self, provider_id: str) -> None:
        """Delete (Vultr) or cancel (Contabo) the machine; a machine already gone is fine."""

    @abstractmethod
    def bandwidth(self, provider_id: str) -> list[DailyTraffic] | None:
        """Daily traffic, or None where the provider has no such endpoint."""

    @abstractmethod
    def close(self) -> None: ...
