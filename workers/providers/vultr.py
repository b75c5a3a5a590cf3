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
from datetime import date
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
        {Capability.RESIZE, Capability.TRAFFIC_REPORTING, Capability.REINSTALL}
    )
    api_url_setting = "VULTR_API_URL"
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
        throttle = Throttle(config["VULTR_RATE_LIMIT"], cls.name, config["REDIS_URL"])
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

    def reinstall(self, provider_id: str, os_type: str, user_data: str, password: str) -> None:
        """Reinstall the machine's current OS with fresh user data.

        Vultr cannot set a password (a new one is generated and not returned), so
        ``password`` is unused, and the reinstall keeps the OS the machine has: ``os_type``
        is only checked to be one we know.
        """
        if not self.images.knows(os_type):
            raise PermanentError(f"no Vultr image for os_type {os_type!r}")
        path = _instance(provider_id)
        self._http.call("PATCH", path, json={"user_data": _base64(user_data)})
        self._http.call("POST", f"{path}/reinstall", json={})

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


def hostname_for(label: str) -> str:
    """A valid hostname (RFC 1123 label, at most 63 characters) derived from the label."""
    name = re.sub(r"[^a-z0-9-]+", "-", label.lower()).strip("-")[:63].rstrip("-")
    return name or "nemordp"


def _base64(text: str) -> str:
    return base64.b64encode(text.encode()).decode("ascii")


def _instance(provider_id: str) -> str:
    return f"/instances/{quote(provider_id, safe='')}"
