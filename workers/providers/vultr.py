"""Vultr API v2 client.

``base_url`` is the versioned API root: ``https://api.vultr.com/v2`` (or an emulator's
``http://127.0.0.1:8701/v2``). Requests, retries and error sorting are the shared HTTP core's
(`workers.providers.http_core`); a create is never re-sent (callers look the label up first,
since Vultr has no idempotency key).
"""

from __future__ import annotations

import base64
import logging
import re
from collections.abc import Iterator, Mapping
from datetime import date, datetime
from typing import Any, Self
from urllib.parse import quote

from workers.outside_errors import PermanentError
from workers.providers.base import (
    Capability,
    CreateRequest,
    DailyTraffic,
    Machine,
    MachineNotFound,
    MachineState,
    ProviderClient,
    ProviderSetting,
    Snapshot,
    SnapshotNotFound,
    SnapshotState,
    ssh_key_name,
)
from workers.providers.http_core import ProviderHttp
from workers.providers.system_images import (
    TTL_SECONDS,
    ImageCatalog,
    SystemImage,
    WantedImage,
)
from workers.providers.throttle import Throttle

logger = logging.getLogger(__name__)

# Found by name in GET /os ("Windows 2022 Standard x64", "Ubuntu 22.04 LTS x64").
DEFAULT_IMAGES = {
    "windows": WantedImage("Windows Standard", "2022"),
    "linux": WantedImage("Ubuntu", "22.04"),
}
PAGE_SIZE = 500  # Vultr's maximum per_page
TAG = "nemordp"
UNASSIGNED_IP = "0.0.0.0"
RATE_LIMIT_RETRY_AFTER = 1.0  # Vultr sends no Retry-After; its window is one second

STATES = {
    "pending": MachineState.PENDING,
    "resizing": MachineState.RESIZING,
    "suspended": MachineState.ERROR,  # held by Vultr (billing, abuse): needs a human
}


class VultrClient(ProviderClient):
    name = "vultr"
    title = "Vultr"
    # No SHRINK_DISK: Vultr refuses (400) a plan whose disk is smaller than the current one.
    capabilities = frozenset(
        {
            Capability.RESIZE,
            Capability.TRAFFIC_REPORTING,
            Capability.REINSTALL,
            Capability.SNAPSHOTS,
        }
    )
    api_url_setting = "VULTR_API_URL"
    settings = (
        ProviderSetting("VULTR_API_URL", "https://api.vultr.com/v2", "Vultr API v2."),
        ProviderSetting("VULTR_API_KEY", "", "Vultr API key.", secret=True),
        ProviderSetting(
            "VULTR_RATE_LIMIT",
            "25/second",
            "Throttle of Vultr calls, shared by every worker (Vultr allows 30/s).",
            rate_limit=True,
        ),
    )
    generates_password = True

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 10.0,
        throttle: Throttle | None = None,
        images: Mapping[str, WantedImage] | None = None,
        image_cache_seconds: float = TTL_SECONDS,
    ) -> None:
        self.images = ImageCatalog(
            self.title, self._operating_systems, images or DEFAULT_IMAGES, ttl=image_cache_seconds
        )
        headers = {"Accept": "application/json"}
        if api_key.strip():  # without one, Vultr's 401 says what is wrong
            headers["Authorization"] = f"Bearer {api_key.strip()}"
        self._http = ProviderHttp(
            self.title,
            base_url.rstrip("/"),
            timeout=timeout,
            headers=headers,
            message_keys=("error",),
            throttle=throttle,
            rate_limit_retry_after=RATE_LIMIT_RETRY_AFTER,
        )

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Self:
        # Shared through Redis, so all worker processes together stay under Vultr's limit.
        throttle = Throttle(
            config["VULTR_RATE_LIMIT"], cls.name, config["REDIS_URL"], config=config
        )
        return cls(
            config[cls.api_url_setting],
            config["VULTR_API_KEY"],
            timeout=config["PROVIDER_TIMEOUT"],
            throttle=throttle,
        )

    def __repr__(self) -> str:  # never show the key
        return f"VultrClient({self._http.base_url!r})"

    # -- machines ---------------------------------------------------------------------
    def create(self, request: CreateRequest) -> Machine:
        """Order the machine; the answer is the only place Vultr shows its password."""
        os_id = int(self.images.image_id(request.os_type))
        body = {
            "region": request.region,
            "plan": request.plan,
            "os_id": os_id,
            "label": request.label,
            "hostname": hostname_for(request.label),
            "tags": [TAG],
            "user_data": _base64(request.user_data),
            "enable_ipv6": True,
            "backups": "disabled",
            "activation_email": False,
        }
        if request.ssh_keys and request.os_type == "linux":
            body["sshkey_id"] = [self._registered_key(key) for key in request.ssh_keys]
        data = self._http.call("POST", "/instances", json=body).json()["instance"]
        logger.info(
            "vultr instance ordered", extra={"provider_id": data["id"], "label": request.label}
        )
        return to_machine(data, default_password=data.get("default_password") or None)

    def get(self, provider_id: str) -> Machine:
        return to_machine(self._http.call("GET", _instance(provider_id)).json()["instance"])

    def find_by_label(self, label: str) -> Machine | None:
        found = [m for m in self._instances({"label": label}, PAGE_SIZE) if m.label == label]
        if len(found) > 1:
            logger.warning(
                "several vultr instances carry one label",
                extra={"label": label, "provider_ids": [m.provider_id for m in found]},
            )
        return found[0] if found else None

    def list_machines(self, *, page_size: int = PAGE_SIZE) -> Iterator[Machine]:
        return self._instances({}, page_size)

    def list_ours(self) -> Iterator[Machine]:
        return self._instances({"tag": TAG}, PAGE_SIZE)

    def _instances(self, filters: Mapping[str, str], page_size: int) -> Iterator[Machine]:
        for data in self._pages("/instances", "instances", filters, page_size):
            yield to_machine(data)

    def _operating_systems(self) -> Iterator[SystemImage]:
        for data in self._pages("/os", "os", {}, PAGE_SIZE):
            yield SystemImage(id=str(data["id"]), name=str(data.get("name") or ""))

    def _pages(
        self, path: str, key: str, filters: Mapping[str, str], page_size: int
    ) -> Iterator[dict[str, Any]]:
        """Every item of a list, following the cursor until ``meta.links.next`` is empty."""
        cursor, seen = "", set()
        while True:
            params = {**filters, "per_page": str(page_size)}
            if cursor:
                params["cursor"] = cursor
            page = self._http.call("GET", path, params=params).json()
            yield from page[key]
            cursor = page.get("meta", {}).get("links", {}).get("next") or ""
            if not cursor or cursor in seen:
                return
            seen.add(cursor)

    # -- actions ------------------------------------------------------------------------
    def reboot(self, provider_id: str) -> None:
        self._http.call("POST", f"{_instance(provider_id)}/reboot")

    def start(self, provider_id: str) -> None:
        self._http.call("POST", f"{_instance(provider_id)}/start")

    def stop(self, provider_id: str) -> None:
        self._http.call("POST", f"{_instance(provider_id)}/halt")

    def resize(self, provider_id: str, plan: str) -> None:
        """Vultr refuses (400) a plan whose disk is smaller than the current one."""
        self._http.call("PATCH", _instance(provider_id), json={"plan": plan})

    def reinstall(
        self,
        provider_id: str,
        os_type: str,
        user_data: str,
        password: str,
        ssh_keys: tuple[str, ...] = (),
    ) -> str | None:
        """Reinstall with fresh user data: the same OS through ``/reinstall``, another one
        by a PATCH of ``os_id`` (which Vultr answers by reinstalling). Vultr cannot set a
        password (``password`` is unused): it generates a new one, shown in the answer.
        Neither call takes SSH keys: root's are gone, and the desktop user has
        ``ssh_keys`` from the Linux user data (`workers.cloud_init`)."""
        if not self.images.knows(os_type):
            raise PermanentError(f"no Vultr image for os_type {os_type!r}")
        os_id = int(self.images.image_id(os_type))
        path = _instance(provider_id)
        current = self._http.call("GET", path).json()["instance"]
        if current.get("os_id") == os_id:
            self._http.call("PATCH", path, json={"user_data": _base64(user_data)})
            answer = self._http.call("POST", f"{path}/reinstall", json={})
        else:
            body = {"os_id": os_id, "user_data": _base64(user_data)}
            answer = self._http.call("PATCH", path, json=body)
        logger.info("vultr instance reinstalled", extra={"provider_id": provider_id})
        return answer.json()["instance"].get("default_password") or None

    def _registered_key(self, public_key: str) -> str:
        """The id of the account's SSH key with this key's name, registered first if new."""
        name = ssh_key_name(public_key)
        for key in self._pages("/ssh-keys", "ssh_keys", {}, PAGE_SIZE):
            if key.get("name") == name:
                return str(key["id"])
        body = {"name": name, "ssh_key": public_key}
        created = self._http.call("POST", "/ssh-keys", json=body).json()["ssh_key"]
        logger.info("vultr ssh key registered", extra={"ssh_key": name})
        return str(created["id"])

    def destroy(self, provider_id: str) -> None:
        try:
            self._http.call("DELETE", _instance(provider_id))
        except MachineNotFound:
            logger.info("vultr instance already gone", extra={"provider_id": provider_id})

    def bandwidth(self, provider_id: str) -> list[DailyTraffic]:
        days = self._http.call("GET", f"{_instance(provider_id)}/bandwidth").json()["bandwidth"]
        return sorted(
            (
                DailyTraffic(
                    day=date.fromisoformat(day),
                    incoming_bytes=int(counts.get("incoming_bytes", 0)),
                    outgoing_bytes=int(counts.get("outgoing_bytes", 0)),
                )
                for day, counts in days.items()
            ),
            key=lambda traffic: traffic.day,
        )

    # -- snapshots ------------------------------------------------------------------------
    def create_snapshot(self, provider_id: str, name: str) -> Snapshot:
        """Vultr keeps the name as the snapshot's description."""
        body = {"instance_id": provider_id, "description": name}
        return to_snapshot(self._http.call("POST", "/snapshots", json=body).json()["snapshot"])

    def list_snapshots(self, provider_id: str) -> list[Snapshot]:
        """Every snapshot on the account: Vultr's do not say which machine they came from."""
        return [to_snapshot(data) for data in self._pages("/snapshots", "snapshots", {}, PAGE_SIZE)]

    def get_snapshot(self, provider_id: str, snapshot_id: str) -> Snapshot:
        try:
            return to_snapshot(self._http.call("GET", _snapshot(snapshot_id)).json()["snapshot"])
        except MachineNotFound as exc:
            raise SnapshotNotFound(exc.message, exc.status) from exc

    def restore_snapshot(self, provider_id: str, snapshot_id: str) -> None:
        path = f"{_instance(provider_id)}/restore"
        self._http.call("POST", path, json={"snapshot_id": snapshot_id})

    def delete_snapshot(self, provider_id: str, snapshot_id: str) -> None:
        try:
            self._http.call("DELETE", _snapshot(snapshot_id))
        except MachineNotFound:
            logger.info("vultr snapshot already gone", extra={"snapshot_id": snapshot_id})

    def close(self) -> None:
        self._http.close()


# -- mapping ----------------------------------------------------------------------------------
def to_machine(data: Mapping[str, Any], default_password: str | None = None) -> Machine:
    status, power = data.get("status", ""), data.get("power_status", "")
    ip = data.get("main_ip") or None
    ip = None if ip == UNASSIGNED_IP else ip
    return Machine(
        provider_id=data["id"],
        label=data.get("label", ""),
        state=machine_state(status, power),
        ready=status == "active"
        and power == "running"
        and data.get("server_status") == "ok"
        and ip is not None,
        ip_address=ip,
        ipv6_address=ipv6_address(data),
        plan=data.get("plan", ""),
        region=data.get("region", ""),
        default_password=default_password,
    )


def ipv6_address(data: Mapping[str, Any]) -> str | None:
    """The main address of the first IPv6 network (``v6_networks``, as Vultr describes the
    instance), else the older ``v6_main_ip``."""
    for network in data.get("v6_networks") or []:
        if network.get("main_ip"):
            return str(network["main_ip"])
    return data.get("v6_main_ip") or None


def machine_state(status: str, power_status: str) -> MachineState:
    if status == "active":
        return MachineState.RUNNING if power_status == "running" else MachineState.STOPPED
    if status in STATES:
        return STATES[status]
    logger.warning("unknown vultr status %r", status)
    return MachineState.ERROR


SNAPSHOT_STATES = {
    "pending": SnapshotState.PENDING,
    "complete": SnapshotState.AVAILABLE,
    "deleted": SnapshotState.GONE,
}


def to_snapshot(data: Mapping[str, Any]) -> Snapshot:
    created = data.get("date_created") or None
    return Snapshot(
        provider_snapshot_id=str(data["id"]),
        name=str(data.get("description") or ""),
        created_at=datetime.fromisoformat(created) if created else None,
        size=int(data["size"]) if data.get("size") else None,
        status=SNAPSHOT_STATES.get(str(data.get("status")), SnapshotState.PENDING),
    )


def hostname_for(label: str) -> str:
    """A valid hostname (RFC 1123 label, at most 63 characters) derived from the label."""
    name = re.sub(r"[^a-z0-9-]+", "-", label.lower()).strip("-")[:63].rstrip("-")
    return name or "nemordp"


def _base64(text: str) -> str:
    return base64.b64encode(text.encode()).decode("ascii")


def _instance(provider_id: str) -> str:
    return f"/instances/{quote(provider_id, safe='')}"


def _snapshot(snapshot_id: str) -> str:
    return f"/snapshots/{quote(snapshot_id, safe='')}"


# Found by the registry: the client this module adds.
CLIENT = VultrClient
