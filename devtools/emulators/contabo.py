"""Contabo API v1 emulator: the subset NemoRDP uses, with Contabo's paths, bodies, status
codes and error shape ``{"statusCode": int, "message": str}``.

It also plays Contabo's Keycloak token endpoint on the same server, so a client points its
API URL at ``<server>/v1`` and its token URL at ``<server>`` + `TOKEN_PATH`.

Behaviour kept on purpose because it bites real clients:
- ``period`` is the only required field of a create; a body with nothing else orders a
  default machine (V92, EU, Ubuntu 22.04).
- ``x-request-id`` is required on every API call, and every create is recorded in the
  instance audit log under it, so a create whose answer was lost can be looked up.
- Image ids are this emulator's own, drawn afresh for each instance of it (as they differ
  per Contabo account): clients find them in ``GET /v1/compute/images``.
- A GET right after a create 404s for ``not_found_seconds``; the address stays empty for
  ``ip_delay_seconds``; the status goes provisioning → installing → running.
- There is no endpoint to change a machine's product, and no traffic endpoint.
- Snapshots (``/compute/instances/{id}/snapshots``: fault operations snapshots,
  snapshot_create, snapshot_get, snapshot_delete, rollback) show no state or size, and a
  rollback deletes every newer snapshot of the instance.
- A cancelled machine is treated as gone at once: status ``uninstalled``, out of listings,
  and cancelling it again is 422.

Run it: ``python -m devtools.emulators.contabo --port 8702 --boot-seconds 20``.
"""

from __future__ import annotations

import argparse
import itertools
import re
import secrets
import string
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import Blueprint, Flask, Response, jsonify, request
from werkzeug.serving import make_server

from devtools.emulators import Emulates
from devtools.emulators.core import (
    EmulatedMachine,
    EmulatedSnapshot,
    Emulator,
    EmulatorSettings,
    ProviderHttpError,
    add_settings_arguments,
    json_object,
    json_response,
    render_errors,
    settings_from_args,
)

TOKEN_PATH = "/auth/realms/contabo/protocol/openid-connect/token"
TENANT_ID = "DE"
CUSTOMER_ID = "54321"
REFRESH_LIFETIME_FACTOR = 6  # Keycloak's defaults: 5 min access token, 30 min session

# The pattern Contabo publishes for x-request-id (a uuid, version digit 0-5).
REQUEST_ID = re.compile(
    r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-5][0-9A-Fa-f]{3}-[089abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}$"
)
PASSWORD_SPECIALS = "!@#$^&*?_~"
SNAPSHOT_NAME = re.compile(r"^[A-Za-z0-9 -]{1,30}$")  # letters, digits, spaces, dashes
SNAPSHOT_LIFETIME = timedelta(days=30)  # Contabo deletes a snapshot by itself after this
PERIODS = (1, 3, 6, 12)
ALLOWED_USERS = {"Windows": ("admin", "administrator"), "Linux": ("admin", "root")}


@dataclass(frozen=True)
class Product:
    name: str
    product_type: str
    cpu_cores: int
    ram_mb: int
    disk_mb: int


PRODUCTS = {
    "V91": Product("VPS 10 NVMe", "nvme", 4, 8192, 75 * 1024),
    "V92": Product("VPS 10 SSD", "ssd", 4, 8192, 150 * 1024),  # the API's default
    "V94": Product("VPS 20 NVMe", "nvme", 6, 12288, 100 * 1024),
    "V97": Product("VPS 30 NVMe", "nvme", 8, 24576, 200 * 1024),
}
REGIONS = {
    "EU": ("European Union", "European Union 1"),
    "US-central": ("United States (Central)", "United States Central 1"),
    "US-east": ("United States (East)", "United States East 1"),
    "US-west": ("United States (West)", "United States West 1"),
    "SIN": ("Asia (Singapore)", "Asia (Singapore) 1"),
    "UK": ("United Kingdom", "United Kingdom 1"),
    "AUS": ("Australia (Sydney)", "Australia (Sydney) 1"),
    "JPN": ("Asia (Japan)", "Asia (Tokyo) 1"),
    "IND": ("Asia (India)", "Asia (Mumbai) 1"),
}
DEFAULT_ORDER = {"productId": "V92", "region": "EU"}  # and the default image


@dataclass(frozen=True)
class Image:
    name: str
    version: str
    os_type: str  # Linux | Windows
    size_mb: int


STANDARD_IMAGES = (
    Image("ubuntu-22.04", "22.04", "Linux", 2_360),  # the API's default image
    Image("ubuntu-24.04", "24.04", "Linux", 2_510),
    Image("debian-12", "12", "Linux", 2_020),
    Image("rockylinux-9", "9", "Linux", 2_150),
    Image("windows-server-2019-se", "2019", "Windows", 11_780),
    Image("windows-server-2022-se", "2022", "Windows", 12_940),
)
IMAGE_DATE = "2024-05-02T10:00:00.000Z"


@dataclass
class Secret:
    secret_id: int
    name: str
    type: str
    value: str
    created_at: str


@dataclass
class ContaboMachine(EmulatedMachine):
    """An instance; ``installed_at`` ends the (re)install, ``provisioned_at`` its first half."""

    instance_id: int = 0
    image_id: str = ""
    default_user: str = "admin"
    provisioned_at: float = 0.0
    installed_at: float = 0.0
    created_date: str = ""
    cancel_date: str = ""
    ssh_keys: list[int] = field(default_factory=list)
    status_override: str | None = None  # set through the admin API to model failures
    error_message: str = ""


class ContaboEmulator(Emulator):
    """Contabo's state on top of the shared core: tokens, secrets, audits."""

    def __init__(self, settings: EmulatorSettings, token_lifetime: float) -> None:
        super().__init__("contabo", settings)
        self.token_lifetime = token_lifetime
        self.credentials: dict[str, str] | None = None  # None: any credentials log in
        self.access_tokens: dict[str, float] = {}  # token -> monotonic expiry
        self.refresh_tokens: dict[str, float] = {}
        self.secrets: dict[int, Secret] = {}
        self.audits: list[dict[str, Any]] = []
        self.grants: list[str] = []  # grant types asked for, in order (for tests)
        self.request_ids: list[str] = []  # every accepted x-request-id (for tests)
        self._instance_ids = itertools.count(202_500_001)
        self._secret_ids = itertools.count(1001)
        self._audit_ids = itertools.count(1)
        # imageId -> image: ids of this emulator alone, like one account's at Contabo.
        self.images = {str(uuid.uuid4()): image for image in STANDARD_IMAGES}
        self.default_image_id = next(iter(self.images))

    def reset(self) -> None:
        """Forget machines, secrets and audits; issued tokens stay valid."""
        super().reset()
        with self.lock:
            self.secrets.clear()
            self.audits.clear()
            self.grants.clear()
            self.request_ids.clear()

    # -- OAuth2 -------------------------------------------------------------------------
    def grant(self, form: dict[str, str]) -> dict[str, Any]:
        grant_type = form.get("grant_type", "")
        with self.lock:
            self.grants.append(grant_type)
        self._check_client(form)
        if grant_type == "password":
            self._check_user(form)
        elif grant_type == "refresh_token":
            self._check_refresh(form.get("refresh_token", ""))
        else:
            raise OAuthError(400, "unsupported_grant_type", "Unsupported grant_type")
        return self._issue()

    def _check_client(self, form: dict[str, str]) -> None:
        if "client_id" not in form:
            raise OAuthError(400, "invalid_request", "Missing parameter: client_id")
        wanted = self.credentials
        if wanted is not None and (
            form.get("client_id") != wanted["client_id"]
            or form.get("client_secret") != wanted["client_secret"]
        ):
            raise OAuthError(401, "unauthorized_client", "Invalid client or client credentials")

    def _check_user(self, form: dict[str, str]) -> None:
        if "username" not in form or "password" not in form:
            raise OAuthError(400, "invalid_request", "Missing parameter: username or password")
        wanted = self.credentials
        if wanted is not None and (
            form["username"] != wanted["username"] or form["password"] != wanted["password"]
        ):
            raise OAuthError(401, "invalid_grant", "Invalid user credentials")

    def _check_refresh(self, token: str) -> None:
        with self.lock:
            expiry = self.refresh_tokens.get(token)
        if expiry is None or time.monotonic() >= expiry:
            raise OAuthError(400, "invalid_grant", "Token is not active")

    def _issue(self) -> dict[str, Any]:
        access, refresh = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        now = time.monotonic()
        refresh_lifetime = self.token_lifetime * REFRESH_LIFETIME_FACTOR
        with self.lock:
            self.access_tokens[access] = now + self.token_lifetime
            self.refresh_tokens[refresh] = now + refresh_lifetime
        return {
            "access_token": access,
            "expires_in": max(1, round(self.token_lifetime)),
            "refresh_expires_in": max(1, round(refresh_lifetime)),
            "refresh_token": refresh,
            "token_type": "Bearer",
            "not-before-policy": 0,
            "session_state": str(uuid.uuid4()),
            "scope": "profile email",
        }

    def authorized(self, header: str) -> bool:
        scheme, _, token = header.partition(" ")
        with self.lock:
            expiry = self.access_tokens.get(token)
        return scheme.lower() == "bearer" and expiry is not None and time.monotonic() < expiry

    def revoke_tokens(self) -> None:
        with self.lock:
            self.access_tokens.clear()
            self.refresh_tokens.clear()

    # -- secrets ------------------------------------------------------------------------
    def create_secret(self, body: dict[str, Any]) -> Secret:
        name, kind, value = body.get("name"), body.get("type"), body.get("value")
        if not isinstance(name, str) or not 1 <= len(name) <= 255:
            raise ProviderHttpError(400, "name must be a string of 1 to 255 characters")
        if kind not in ("password", "ssh"):
            raise ProviderHttpError(400, "type must be one of password, ssh")
        if not isinstance(value, str) or not 1 <= len(value) <= 500:
            raise ProviderHttpError(400, "value must be a string of 1 to 500 characters")
        if kind == "password" and (problem := password_problem(value)):
            raise ProviderHttpError(400, f"value: the password {problem}")
        with self.lock:
            secret = Secret(next(self._secret_ids), name, kind, value, _now_iso())
            self.secrets[secret.secret_id] = secret
        return secret

    def _secret(self, secret_id: Any, kind: str) -> Secret:
        if not isinstance(secret_id, int) or isinstance(secret_id, bool):
            raise ProviderHttpError(400, f"secret ids must be integers, got {secret_id!r}")
        with self.lock:
            secret = self.secrets.get(secret_id)
        if secret is None or secret.type != kind:
            raise ProviderHttpError(404, f"Entry Secret not found by secretId: {secret_id}")
        return secret

    # -- instances ----------------------------------------------------------------------
    def create_instance(self, body: dict[str, Any], request_id: str) -> ContaboMachine:
        order = _validated_order(body, self.default_image_id)
        image_id = order["imageId"]
        os_type = self.image_os(image_id)
        default_user = _default_user(body.get("defaultUser", "admin"), os_type)
        password = self._root_password(body.get("rootPassword"))
        ssh_keys = self._ssh_keys(body.get("sshKeys", []))
        now = time.monotonic()
        boot = self.settings.boot_seconds
        instance_id = next(self._instance_ids)
        machine = ContaboMachine(
            id=str(instance_id),
            label=order["displayName"],
            plan=order["productId"],
            region=order["region"],
            os_type=os_type,
            ip=self.next_ip(),
            created_at=now,
            ready_at=now + boot,
            password=password,
            user_data=order["userData"],
            instance_id=instance_id,
            image_id=image_id,
            default_user=default_user,
            provisioned_at=now + boot / 2,
            installed_at=now + boot,
            created_date=_now_iso(),
            ssh_keys=ssh_keys,
            extra={"period": order["period"]},
        )
        self.add(machine)
        self.audit(machine, "CREATED", request_id, {"new": _audited(order, default_user)})
        return machine

    def _root_password(self, secret_id: Any) -> str | None:
        return None if secret_id is None else self._secret(secret_id, "password").value

    def _ssh_keys(self, secret_ids: Any) -> list[int]:
        if not isinstance(secret_ids, list):
            raise ProviderHttpError(400, "sshKeys must be an array of secret ids")
        return [self._secret(key, "ssh").secret_id for key in secret_ids]

    def instance(self, instance_id: int, *, cancelled: bool = False) -> ContaboMachine:
        """The instance, or 404; during its first ``not_found_seconds`` it is not found."""
        with self.lock:
            machine = self.machines.get(str(instance_id))
        hidden = machine is not None and (
            time.monotonic() < machine.created_at + self.settings.not_found_seconds
        )
        if (
            not isinstance(machine, ContaboMachine)
            or hidden
            or (machine.destroyed and not cancelled)
        ):
            raise ProviderHttpError(404, f"Entry Instances not found by instanceId: {instance_id}")
        return machine

    # -- images -------------------------------------------------------------------------
    def image_os(self, image_id: Any) -> str:
        if image_id not in self.images:
            raise ProviderHttpError(404, f"Entry Image not found by imageId: {image_id}")
        return self.images[image_id].os_type

    def listed_images(self, filters: Mapping[str, str]) -> list[tuple[str, Image]]:
        """Images filtered as GET /v1/compute/images does (every one here is standard)."""
        name = filters.get("name", "").lower()
        search = filters.get("search", "").lower()
        standard = filters.get("standardImage", "true").lower()
        return [
            (image_id, image)
            for image_id, image in self.images.items()
            if name in image.name.lower()
            and (search in image.name.lower() or search in image.os_type.lower())
            and standard != "false"
        ]

    def render_image(self, item: tuple[str, Image]) -> dict[str, Any]:
        image_id, image = item
        return {
            "imageId": image_id,
            "tenantId": TENANT_ID,
            "customerId": CUSTOMER_ID,
            "name": image.name,
            "description": f"{image.name} (standard image)",
            "url": "",
            "sizeMb": image.size_mb,
            "uploadedSizeMb": 0,
            "osType": image.os_type,
            "version": image.version,
            "format": "qcow2",
            "status": "downloaded",
            "errorMessage": "",
            "standardImage": True,
            "tags": [],
            "creationDate": IMAGE_DATE,
            "lastModifiedDate": IMAGE_DATE,
        }

    def listed(self, filters: dict[str, str]) -> list[ContaboMachine]:
        machines = [m for m in self.live() if isinstance(m, ContaboMachine)]
        now = time.monotonic()
        return sorted(
            (m for m in machines if _matches(m, filters, self.status(m, now))),
            key=lambda m: m.instance_id,
        )

    def act(self, machine: ContaboMachine, action: str) -> None:
        with self.lock:
            if action == "restart" or (action == "start" and machine.power == "stopped"):
                self.reboot(machine)
            elif action in ("stop", "shutdown"):
                machine.power = "stopped"

    def reinstall(self, machine: ContaboMachine, body: dict[str, Any], request_id: str) -> None:
        image_id = body.get("imageId")
        if not isinstance(image_id, str):
            raise ProviderHttpError(400, "imageId is required")
        os_type = self.image_os(image_id)
        default_user = _default_user(body.get("defaultUser", "admin"), os_type)
        password = self._root_password(body.get("rootPassword"))
        ssh_keys = self._ssh_keys(body.get("sshKeys", []))
        user_data = _user_data(body.get("userData", ""))
        now = time.monotonic()
        with self.lock:
            machine.image_id, machine.os_type = image_id, os_type
            machine.default_user, machine.password = default_user, password
            machine.ssh_keys, machine.user_data = ssh_keys, user_data
            machine.power = "running"
            machine.provisioned_at = now
            machine.installed_at = machine.ready_at = now + self.settings.boot_seconds
        self.audit(machine, "UPDATED", request_id, {"new": {"imageId": image_id}})

    def cancel(self, machine: ContaboMachine, body: dict[str, Any], request_id: str) -> str:
        """Cancel the contract; the emulator lets the machine go at once."""
        cancel_date = _cancel_date(body.get("cancelDate"))
        with self.lock:
            if machine.destroyed:
                raise ProviderHttpError(422, f"Instance {machine.instance_id} is not cancellable")
            machine.cancel_date = cancel_date
            machine.destroyed = True
            machine.power = "stopped"
        self.audit(machine, "UPDATED", request_id, {"new": {"cancelDate": cancel_date}})
        return cancel_date

    def status(self, machine: ContaboMachine, now: float) -> str:
        if machine.destroyed:
            return "uninstalled"
        if machine.status_override:
            return machine.status_override
        if now < machine.provisioned_at:
            return "provisioning"
        if now < machine.installed_at:
            return "installing"
        return "running" if machine.power == "running" else "stopped"

    # -- snapshots ----------------------------------------------------------------------
    def snapshots_of(self, machine: ContaboMachine) -> list[EmulatedSnapshot]:
        with self.lock:
            found = [s for s in self.snapshots.values() if s.machine_id == machine.id]
        return sorted(found, key=lambda snapshot: snapshot.created_at)

    def snapshot(self, machine: ContaboMachine, snapshot_id: str) -> EmulatedSnapshot:
        with self.lock:
            found = self.snapshots.get(snapshot_id)
        if found is None or found.machine_id != machine.id:
            raise ProviderHttpError(404, f"Entry Snapshot not found by snapshotId: {snapshot_id}")
        return found

    def take_snapshot(self, machine: ContaboMachine, body: dict[str, Any]) -> EmulatedSnapshot:
        name, description = body.get("name"), body.get("description", "")
        if not isinstance(name, str) or not SNAPSHOT_NAME.match(name):
            raise ProviderHttpError(400, "name must be 1 to 30 letters, numbers, spaces or dashes")
        if not isinstance(description, str) or len(description) > 255:
            raise ProviderHttpError(400, "description must be a string of at most 255 characters")
        now = time.monotonic()
        snapshot = EmulatedSnapshot(
            id=f"snap{uuid.uuid4().int % 10**10:010d}",
            machine_id=machine.id,
            name=name,
            created_at=now,
            created_date=_now_iso(),
            ready_at=now,  # Contabo shows no progress: a listed snapshot is usable
            size=PRODUCTS[machine.plan].disk_mb * 2**20,
        )
        with self.lock:
            self.snapshots[snapshot.id] = snapshot
        return snapshot

    def rollback(self, machine: ContaboMachine, snapshot: EmulatedSnapshot) -> None:
        now = time.monotonic()
        with self.lock:
            for newer in self.snapshots_of(machine):
                if newer.created_at > snapshot.created_at:
                    del self.snapshots[newer.id]
            machine.power = "running"
            machine.provisioned_at = now
            machine.installed_at = machine.ready_at = now + self.settings.boot_seconds

    # -- audits -------------------------------------------------------------------------
    def audit(
        self, machine: ContaboMachine, action: str, request_id: str, changes: dict[str, Any]
    ) -> None:
        with self.lock:
            self.audits.append(
                {
                    "id": next(self._audit_ids),
                    "action": action,
                    "timestamp": _now_iso(),
                    "tenantId": TENANT_ID,
                    "customerId": CUSTOMER_ID,
                    "changedBy": "emulated-api-user",
                    "username": "api-user",
                    "requestId": request_id,
                    "traceId": request.headers.get("x-trace-id", ""),
                    "instanceId": machine.instance_id,
                    "changes": changes,
                }
            )

    def audits_matching(self, request_id: str | None, instance_id: int | None) -> list[Any]:
        with self.lock:
            entries = list(self.audits)
        return [
            entry
            for entry in entries
            if (request_id is None or entry["requestId"].lower() == request_id.lower())
            and (instance_id is None or entry["instanceId"] == instance_id)
        ]

    # -- rendering ----------------------------------------------------------------------
    def render(self, machine: ContaboMachine) -> dict[str, Any]:
        """The instance as GET /v1/compute/instances/{id} shows it."""
        now = time.monotonic()
        product = PRODUCTS[machine.plan]
        region_name, data_center = REGIONS[machine.region]
        assigned = machine.ip_assigned(now, self.settings.ip_delay_seconds)
        return {
            "tenantId": TENANT_ID,
            "customerId": CUSTOMER_ID,
            "additionalIps": [],
            "name": f"vmi{machine.instance_id}",
            "displayName": machine.label,
            "instanceId": machine.instance_id,
            "dataCenter": data_center,
            "region": machine.region,
            "regionName": region_name,
            "productId": machine.plan,
            "imageId": machine.image_id,
            "ipConfig": _ip_config(machine, assigned),
            "macAddress": _mac(machine.instance_id),
            "ramMb": product.ram_mb,
            "cpuCores": product.cpu_cores,
            "osType": machine.os_type,
            "diskMb": product.disk_mb,
            "sshKeys": machine.ssh_keys,
            "createdDate": machine.created_date,
            "cancelDate": machine.cancel_date,
            "status": self.status(machine, now),
            "vHostId": 70000 + machine.instance_id % 1000,
            "vHostNumber": 1000 + machine.instance_id % 1000,
            "vHostName": f"m{1000 + machine.instance_id % 1000}",
            "addOns": [],
            "errorMessage": machine.error_message,
            "productType": product.product_type,
            "productName": product.name,
            "defaultUser": machine.default_user,
        }


class OAuthError(Exception):
    """Rendered as Keycloak's error body."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description


def password_problem(value: str) -> str | None:
    """Which of Contabo's password rules ``value`` breaks, if any."""
    if len(value) < 8:
        return "must be at least 8 characters long"
    if not (set(value) & set(string.ascii_uppercase) and set(value) & set(string.ascii_lowercase)):
        return "must contain at least one upper case and one lower case letter"
    digits = sum(c in string.digits for c in value)
    specials = sum(c in PASSWORD_SPECIALS for c in value)
    if (digits >= 1 and specials >= 2) or (digits >= 3 and specials >= 1):
        return None
    return (
        f"must contain either one number and two special characters of {PASSWORD_SPECIALS} "
        "or three numbers and one of those special characters"
    )


# -- validation helpers -------------------------------------------------------------------
def _validated_order(body: dict[str, Any], default_image_id: str) -> dict[str, Any]:
    """The create body with Contabo's defaults filled in; only ``period`` is required."""
    period = body.get("period")
    if period is None:
        raise ProviderHttpError(400, "period is required")
    if period not in PERIODS or isinstance(period, bool):
        raise ProviderHttpError(400, f"period must be one of {', '.join(map(str, PERIODS))}")
    defaults = {**DEFAULT_ORDER, "imageId": default_image_id}
    order = {**defaults, **{k: body[k] for k in defaults if k in body}}
    if order["region"] not in REGIONS:
        raise ProviderHttpError(400, f"region must be one of {', '.join(REGIONS)}")
    if order["productId"] not in PRODUCTS:
        raise ProviderHttpError(400, f"productId {order['productId']} is not available")
    display_name = body.get("displayName", "")
    if not isinstance(display_name, str) or len(display_name) > 255:
        raise ProviderHttpError(400, "displayName must be a string of at most 255 characters")
    return {
        **order,
        "period": period,
        "displayName": display_name,
        "userData": _user_data(body.get("userData", "")),
    }


def _default_user(value: Any, os_type: str) -> str:
    allowed = ALLOWED_USERS[os_type]
    if value not in allowed:
        raise ProviderHttpError(
            400, f"defaultUser for {os_type} must be one of {', '.join(allowed)}"
        )
    return str(value)


def _user_data(value: Any) -> str:
    if not isinstance(value, str):
        raise ProviderHttpError(400, "userData must be a string")
    return value


def _cancel_date(value: Any) -> str:
    if value is None:
        return date.today().isoformat()
    try:
        return datetime.fromisoformat(str(value)).date().isoformat()
    except ValueError as exc:
        raise ProviderHttpError(400, "cancelDate must be a date-time") from exc


def _audited(order: dict[str, Any], default_user: str) -> dict[str, Any]:
    fields = ("displayName", "productId", "region", "imageId", "period")
    return {**{k: order[k] for k in fields}, "defaultUser": default_user}


def _matches(machine: ContaboMachine, filters: dict[str, str], status: str) -> bool:
    """Contabo's list filters; ``displayName`` and ``search`` match parts, case-insensitively."""
    display_name = filters.get("displayName")
    if display_name and display_name.lower() not in machine.label.lower():
        return False
    search = filters.get("search")
    haystack = f"{machine.label} vmi{machine.instance_id} {machine.ip}".lower()
    if search and search.lower() not in haystack:
        return False
    ids = filters.get("instanceIds")
    if ids and str(machine.instance_id) not in {i.strip() for i in ids.split(",")}:
        return False
    statuses = filters.get("status")
    if statuses and status not in {s.strip() for s in statuses.split(",")}:
        return False
    return not (filters.get("region") and filters["region"] != machine.region)


def _ip_config(machine: ContaboMachine, assigned: bool) -> dict[str, Any]:
    if not assigned:
        return {
            "v4": {"ip": "", "netmaskCidr": 0, "gateway": ""},
            "v6": {"ip": "", "netmaskCidr": 0, "gateway": ""},
        }
    gateway = machine.ip.rsplit(".", 1)[0] + ".1"
    return {
        "v4": {"ip": machine.ip, "netmaskCidr": 24, "gateway": gateway},
        "v6": {
            "ip": f"2a02:c207:2{machine.instance_id % 10000:04x}::1",
            "netmaskCidr": 64,
            "gateway": "fe80::1",
        },
    }


def _mac(instance_id: int) -> str:
    return "F2:65:" + ":".join(f"{b:02X}" for b in instance_id.to_bytes(4, "big"))


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _positive_int(name: str, default: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise ProviderHttpError(400, f"{name} must be a positive integer")
    return int(raw)


def _paginated(
    items: list[Any], path: str, render: Callable[[Any], Any], max_size: int
) -> dict[str, Any]:
    """One page of ``items`` with Contabo's ``_pagination`` and ``_links`` (pages from 1)."""
    page, size = _positive_int("page", 1), min(_positive_int("size", 10), max_size)
    total_pages = max(1, -(-len(items) // size))
    params = {k: v for k, v in request.args.items() if k not in ("page", "size")}
    query = "".join(f"&{k}={v}" for k, v in params.items())

    def link(number: int) -> str:
        return f"{path}?page={number}&size={size}{query}"

    links = {"self": link(page), "first": link(1), "last": link(total_pages)}
    if page > 1:
        links["previous"] = link(page - 1)
    if page < total_pages:
        links["next"] = link(page + 1)
    return {
        "_pagination": {
            "size": size,
            "totalElements": len(items),
            "totalPages": total_pages,
            "page": page,
        },
        "data": [render(item) for item in items[(page - 1) * size : page * size]],
        "_links": links,
    }


def _secret_view(secret: Secret) -> dict[str, Any]:
    return {
        "tenantId": TENANT_ID,
        "customerId": CUSTOMER_ID,
        "secretId": secret.secret_id,
        "name": secret.name,
        "type": secret.type,
        "value": secret.value,
        "createdAt": secret.created_at,
        "updatedAt": secret.created_at,
    }


def _json_body() -> dict[str, Any]:
    return json_object("the request body must be a JSON object")


# -- HTTP ---------------------------------------------------------------------------------
def api_error(status: int, message: str) -> Response:
    """Contabo's error shape: ``{"statusCode": status, "message": message}``."""
    return json_response({"statusCode": status, "message": message}, status)


def oauth_error(status: int, message: str) -> Response:
    """Keycloak's error shape, for faults injected into the token endpoint."""
    error = "temporarily_unavailable" if status in (429, 502, 503, 504) else "server_error"
    return json_response({"error": error, "error_description": message}, status)


def _auth_blueprint(emulator: ContaboEmulator) -> Blueprint:
    blp = Blueprint("contabo_auth", __name__)

    @blp.post(TOKEN_PATH)
    @emulator.operation("token", oauth_error)
    def token() -> Any:
        """Keycloak's token endpoint: password and refresh_token grants."""
        try:
            return jsonify(emulator.grant(request.form.to_dict()))
        except OAuthError as exc:
            response = jsonify(error=exc.error, error_description=exc.description)
            return response, exc.status

    return blp


def _api_blueprint(emulator: ContaboEmulator) -> Blueprint:
    blp = Blueprint("contabo_api", __name__, url_prefix="/v1")

    def op(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        return emulator.operation(name, api_error)

    def max_size() -> int:
        return emulator.settings.max_page_size

    @blp.before_request
    def authenticate() -> Response | None:
        """Bearer token first (401), then a well-formed x-request-id (400)."""
        if not emulator.authorized(request.headers.get("Authorization", "")):
            return api_error(401, "Unauthorized")
        request_id = request.headers.get("x-request-id", "")
        if not REQUEST_ID.match(request_id):
            return api_error(400, "x-request-id header must be a uuid4")
        with emulator.lock:
            emulator.request_ids.append(request_id)
        return None

    @blp.post("/secrets")
    @op("secret")
    def create_secret() -> Any:
        """Store a password or ssh key; the answer repeats it, as Contabo's does."""
        secret = emulator.create_secret(_json_body())
        data = _secret_view(secret)
        return {"data": [data], "_links": {"self": f"/v1/secrets/{secret.secret_id}"}}, 201

    @blp.get("/secrets")
    @op("secrets")
    def list_secrets() -> Any:
        """The account's secrets, filtered by ``type`` and by ``name`` (a substring)."""
        kind, name = request.args.get("type"), request.args.get("name", "")
        with emulator.lock:
            found = [
                secret
                for secret in emulator.secrets.values()
                if (kind is None or secret.type == kind) and name in secret.name
            ]
        return _paginated(found, "/v1/secrets", _secret_view, max_size())

    @blp.post("/compute/instances")
    @op("create")
    def create_instance() -> Any:
        """Order an instance (period is the only required field)."""
        machine = emulator.create_instance(_json_body(), request.headers["x-request-id"])
        return _created(emulator, machine), 201

    @blp.get("/compute/instances")
    @op("list")
    def list_instances() -> Any:
        """Live instances, filtered, one 1-based page at a time."""
        machines = emulator.listed(request.args.to_dict())
        return _paginated(machines, "/v1/compute/instances", emulator.render, max_size())

    @blp.get("/compute/instances/<int:instance_id>")
    @op("get")
    def get_instance(instance_id: int) -> Any:
        """One instance; a cancelled one still answers, as ``uninstalled``."""
        machine = emulator.instance(instance_id, cancelled=True)
        return {"data": [emulator.render(machine)], "_links": _self(instance_id)}

    @blp.put("/compute/instances/<int:instance_id>")
    @op("reinstall")
    def reinstall_instance(instance_id: int) -> Any:
        """Reinstall with a new image, password and user data."""
        machine = emulator.instance(instance_id)
        emulator.reinstall(machine, _json_body(), request.headers["x-request-id"])
        return {"data": [_stamp(machine)], "_links": _self(instance_id)}

    @blp.post("/compute/instances/<int:instance_id>/cancel")
    @op("cancel")
    def cancel_instance(instance_id: int) -> Any:
        """Cancel the contract; a second cancel is 422."""
        machine = emulator.instance(instance_id, cancelled=True)
        cancel_date = emulator.cancel(machine, _json_body(), request.headers["x-request-id"])
        data = {**_stamp(machine), "cancelDate": cancel_date}
        del data["createdDate"]
        return {"data": [data], "_links": _self(instance_id)}, 201

    for action in ("start", "stop", "shutdown", "restart"):
        blp.add_url_rule(
            f"/compute/instances/<int:instance_id>/actions/{action}",
            endpoint=f"action_{action}",
            view_func=op(action)(_action_view(emulator, action)),
            methods=["POST"],
        )

    @blp.get("/compute/instances/<int:instance_id>/snapshots")
    @op("snapshots")
    def list_snapshots(instance_id: int) -> Any:
        """The instance's snapshots, oldest first, filtered by ``name`` (a substring)."""
        machine, name = emulator.instance(instance_id), request.args.get("name", "")
        found = [s for s in emulator.snapshots_of(machine) if name in s.name]
        path = f"/v1/compute/instances/{instance_id}/snapshots"
        return _paginated(found, path, _snapshot_view(emulator, machine), max_size())

    @blp.post("/compute/instances/<int:instance_id>/snapshots")
    @op("snapshot_create")
    def create_snapshot(instance_id: int) -> Any:
        machine = emulator.instance(instance_id)
        snapshot = emulator.take_snapshot(machine, _json_body())
        data = _snapshot_view(emulator, machine)(snapshot)
        return {"data": [data], "_links": _snapshot_self(instance_id, snapshot.id)}, 201

    @blp.get("/compute/instances/<int:instance_id>/snapshots/<snapshot_id>")
    @op("snapshot_get")
    def get_snapshot(instance_id: int, snapshot_id: str) -> Any:
        machine = emulator.instance(instance_id)
        snapshot = emulator.snapshot(machine, snapshot_id)
        data = _snapshot_view(emulator, machine)(snapshot)
        return {"data": [data], "_links": _snapshot_self(instance_id, snapshot_id)}

    @blp.delete("/compute/instances/<int:instance_id>/snapshots/<snapshot_id>")
    @op("snapshot_delete")
    def delete_snapshot(instance_id: int, snapshot_id: str) -> Any:
        snapshot = emulator.snapshot(emulator.instance(instance_id), snapshot_id)
        with emulator.lock:
            emulator.snapshots.pop(snapshot.id, None)
        return "", 204

    @blp.post("/compute/instances/<int:instance_id>/snapshots/<snapshot_id>/rollback")
    @op("rollback")
    def rollback_snapshot(instance_id: int, snapshot_id: str) -> Any:
        """Restore the snapshot; every newer snapshot of the instance is deleted."""
        machine = emulator.instance(instance_id)
        emulator.rollback(machine, emulator.snapshot(machine, snapshot_id))
        return {"_links": _snapshot_self(instance_id, snapshot_id)}

    @blp.get("/compute/instances/audits")
    @op("audits")
    def instance_audits() -> Any:
        """The instance history, e.g. what the create with a given x-request-id did."""
        instance_id = request.args.get("instanceId")
        entries = emulator.audits_matching(
            request.args.get("requestId"), int(instance_id) if instance_id else None
        )
        return _paginated(entries, "/v1/compute/instances/audits", lambda entry: entry, max_size())

    @blp.get("/compute/images")
    @op("images")
    def list_images() -> Any:
        """The standard images, with this emulator's own ids."""
        images = emulator.listed_images(request.args.to_dict())
        return _paginated(images, "/v1/compute/images", emulator.render_image, max_size())

    return blp


def _action_view(emulator: ContaboEmulator, action: str) -> Callable[[int], Any]:
    def view(instance_id: int) -> Any:
        machine = emulator.instance(instance_id)
        emulator.act(machine, action)
        data = {
            "tenantId": TENANT_ID,
            "customerId": CUSTOMER_ID,
            "instanceId": instance_id,
            "action": action,
        }
        links = {"self": f"/v1/compute/instances/{instance_id}/actions/{action}"}
        return {"data": [data], "_links": links}, 201

    return view


def _created(emulator: ContaboEmulator, machine: ContaboMachine) -> dict[str, Any]:
    data = {
        "tenantId": TENANT_ID,
        "customerId": CUSTOMER_ID,
        "instanceId": machine.instance_id,
        "createdDate": machine.created_date,
        "imageId": machine.image_id,
        "productId": machine.plan,
        "region": machine.region,
        "addOns": [],
        "osType": machine.os_type,
        "status": emulator.status(machine, time.monotonic()),
        "sshKeys": machine.ssh_keys,
    }
    return {"data": [data], "_links": _self(machine.instance_id)}


def _stamp(machine: ContaboMachine) -> dict[str, Any]:
    return {
        "tenantId": TENANT_ID,
        "customerId": CUSTOMER_ID,
        "instanceId": machine.instance_id,
        "createdDate": machine.created_date,
    }


def _snapshot_view(
    emulator: ContaboEmulator, machine: ContaboMachine
) -> Callable[[EmulatedSnapshot], dict[str, Any]]:
    """How the instance's snapshots are shown (SnapshotResponse)."""
    image = emulator.images.get(machine.image_id)

    def view(snapshot: EmulatedSnapshot) -> dict[str, Any]:
        created = datetime.fromisoformat(snapshot.created_date.replace("Z", "+00:00"))
        auto_delete = (created + SNAPSHOT_LIFETIME).isoformat(timespec="milliseconds")
        return {
            "tenantId": TENANT_ID,
            "customerId": CUSTOMER_ID,
            "snapshotId": snapshot.id,
            "name": snapshot.name,
            "description": "",
            "instanceId": machine.instance_id,
            "createdDate": snapshot.created_date,
            "autoDeleteDate": auto_delete.replace("+00:00", "Z"),
            "imageId": machine.image_id,
            "imageName": image.name if image is not None else "",
        }

    return view


def _snapshot_self(instance_id: int, snapshot_id: str) -> dict[str, str]:
    return {"self": f"/v1/compute/instances/{instance_id}/snapshots/{snapshot_id}"}


def _self(instance_id: int) -> dict[str, str]:
    return {"self": f"/v1/compute/instances/{instance_id}"}


def _extra_admin_blueprint(emulator: ContaboEmulator) -> Blueprint:
    """Test controls beyond the shared admin API."""
    blp = Blueprint("contabo_admin_extra", __name__, url_prefix="/_emulator")

    @blp.post("/tokens/revoke")
    def revoke_tokens() -> Any:
        """Invalidate every access and refresh token, as a Keycloak session purge would."""
        emulator.revoke_tokens()
        return "", 204

    @blp.post("/instances/<int:instance_id>/status")
    def override_status(instance_id: int) -> Any:
        """Pin a status such as ``error`` (with ``errorMessage``); null lifts the pin."""
        body = request.get_json(force=True)
        machine = emulator.instance(instance_id, cancelled=True)
        with emulator.lock:
            machine.status_override = body.get("status")
            machine.error_message = body.get("errorMessage") or ""
        return emulator.render(machine)

    return blp


def _describe(emulator: ContaboEmulator) -> Callable[[EmulatedMachine], dict[str, Any]]:
    """The admin view of a machine: the API's fields plus what only the emulator knows."""

    def describe(machine: EmulatedMachine) -> dict[str, Any]:
        assert isinstance(machine, ContaboMachine)
        return {
            "id": machine.id,
            **emulator.render(machine),
            "rootPassword": machine.password,
            "userData": machine.user_data,
            "power": machine.power,
            "booted": machine.booted(time.monotonic()),
            "period": machine.extra.get("period"),
        }

    return describe


def create_app(
    settings: EmulatorSettings | None = None,
    token_lifetime: float = 300.0,
    *,
    credentials: Mapping[str, str] | None = None,
) -> Flask:
    """The emulator; its state is ``app.extensions["emulator"]`` (a `ContaboEmulator`).

    ``credentials`` (client_id, client_secret, username, password) makes the token endpoint
    refuse any others; without it every login succeeds.
    """
    emulator = ContaboEmulator(settings or EmulatorSettings(), token_lifetime)
    emulator.credentials = dict(credentials) if credentials is not None else None
    app = Flask(__name__)
    app.extensions["emulator"] = emulator
    app.register_blueprint(_auth_blueprint(emulator))
    app.register_blueprint(_api_blueprint(emulator))
    app.register_blueprint(emulator.admin_blueprint(_describe(emulator)))
    app.register_blueprint(_extra_admin_blueprint(emulator))
    render_errors(app, api_error)
    return app


def client_settings(url: str, credentials: str) -> dict[str, str]:
    """Point the Contabo client at this emulator (API and token endpoint) served at ``url``."""
    return {
        "CONTABO_API_URL": f"{url}/v1",
        "CONTABO_AUTH_URL": f"{url}{TOKEN_PATH}",
        "CONTABO_CLIENT_ID": f"{credentials}-client",
        "CONTABO_CLIENT_SECRET": f"{credentials}-client-secret",
        "CONTABO_API_USER": "api@example.com",
        "CONTABO_API_PASSWORD": f"{credentials}-api-password",
    }


EMULATES = Emulates("contabo", 8702, client_settings, options=("--ip-prefix", "127.2"))


def _arguments(argv: Iterable[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Serve the Contabo API v1 emulator.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=EMULATES.port)
    add_settings_arguments(parser, EmulatorSettings(ip_prefix="127.2"))
    parser.add_argument("--token-lifetime", type=float, default=300.0)
    return parser.parse_args(None if argv is None else list(argv))


def main(argv: Iterable[str] | None = None) -> None:
    args = _arguments(argv)
    app = create_app(settings_from_args(args), token_lifetime=args.token_lifetime)
    base = f"http://{args.host}:{args.port}"
    print(f"Contabo emulator: API {base}/v1, token URL {base}{TOKEN_PATH}", flush=True)
    make_server(args.host, args.port, app, threaded=True).serve_forever()


if __name__ == "__main__":
    main()
