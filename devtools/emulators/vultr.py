"""Vultr API v2 emulator: the instance endpoints NemoRDP uses, with Vultr's paths, bodies,
status codes and error shape, and machines whose state moves with time.

Run it as a process (``python -m devtools.emulators.vultr --port 8701``) or in-process for
tests with ``BackgroundServer(create_app(settings))``; point the client at ``<url>/v2``.
The admin API under ``/_emulator`` (faults, settings, reset, machines) comes from the core.

Fault-injection operation names: create, get, list, reboot, start, halt, delete, reinstall,
resize (a PATCH with a plan), update (any other PATCH), bandwidth and os (the list of
operating systems, ``GET /v2/os``, whose ids are the only ones a create accepts), and
ssh_keys, ssh_key_create, ssh_key_get and ssh_key_delete (``/v2/ssh-keys``, whose ids a
create's ``sshkey_id`` must name), snapshot_create, snapshot_list, snapshot_get and
snapshot_delete (``/v2/snapshots``; a snapshot is complete after ``snapshot_seconds``) and
restore (``POST /v2/instances/{id}/restore`` from a snapshot). A reinstall (``/reinstall``,
or a PATCH of ``os_id``) generates a new password and shows it in its answer, as a create
does.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import ipaddress
import logging
import secrets
import string
import time
import uuid
from collections.abc import Callable, Collection, Mapping
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

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Plan:
    vcpu_count: int
    ram: int  # MB
    disk: int  # GB
    bandwidth: int  # GB a month


@dataclass(frozen=True)
class OperatingSystem:
    name: str
    family: str  # windows | ubuntu | debian
    arch: str = "x64"


PLANS: dict[str, Plan] = {
    "vc2-1c-1gb": Plan(vcpu_count=1, ram=1024, disk=25, bandwidth=1024),
    "vc2-1c-2gb": Plan(vcpu_count=1, ram=2048, disk=55, bandwidth=2048),
    "vc2-2c-4gb": Plan(vcpu_count=2, ram=4096, disk=80, bandwidth=3072),
    "vc2-4c-8gb": Plan(vcpu_count=4, ram=8192, disk=160, bandwidth=4096),
    "vcg-a100-1c-6g-4vram": Plan(vcpu_count=1, ram=6144, disk=70, bandwidth=1024),
}
REGIONS: dict[str, str] = {
    "ewr": "New Jersey",
    "fra": "Frankfurt",
    "ams": "Amsterdam",
    "lhr": "London",
    "sgp": "Singapore",
}
OPERATING_SYSTEMS: dict[int, OperatingSystem] = {
    501: OperatingSystem("Windows 2022 Standard x64", "windows"),
    371: OperatingSystem("Windows 2019 Standard x64", "windows"),
    1743: OperatingSystem("Ubuntu 22.04 LTS x64", "ubuntu"),
    2284: OperatingSystem("Ubuntu 24.04 LTS x64", "ubuntu"),
    2136: OperatingSystem("Debian 12 x64 (bookworm)", "debian"),
}
IMAGE_SOURCES = ("os_id", "iso_id", "snapshot_id", "app_id", "image_id")
UNASSIGNED_IP = "0.0.0.0"
DEFAULT_PER_PAGE = 100
MAX_PER_PAGE = 500
BANDWIDTH_DAYS = 31  # the endpoint reports recent days, not the whole life of a machine
PASSWORD_ALPHABET = string.ascii_letters + string.digits + "!#$%&*+-=?@^_{}[]"
DEFAULT_RATE_LIMIT = 30  # Vultr answers 429 above 30 requests a second
SSH_KEY_TYPES = (
    "ssh-ed25519",
    "ssh-rsa",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
)


@dataclass
class VultrDetails:
    """What an instance carries beyond the core's EmulatedMachine (kept in ``extra``)."""

    os_id: int
    hostname: str
    tags: list[str]
    date_created: datetime
    v6_main_ip: str  # "" unless IPv6 was enabled
    provisioned_at: float  # monotonic: the first install ends, status leaves "pending"
    installing_until: float  # monotonic: the first install or a reinstall ends
    resizing_until: float = 0.0
    sshkey_ids: list[str] = field(default_factory=list)


class VultrEmulator(Emulator):
    """The shared core plus the account's SSH keys."""

    def __init__(self, settings: EmulatorSettings) -> None:
        super().__init__("vultr", settings)
        self.ssh_keys: dict[str, dict[str, str]] = {}

    def reset(self) -> None:
        super().reset()
        with self.lock:
            self.ssh_keys.clear()

    def add_ssh_key(self, body: Mapping[str, Any]) -> dict[str, str]:
        name, key = body.get("name"), body.get("ssh_key")
        if not isinstance(name, str) or not name.strip():
            raise ProviderHttpError(400, "Invalid SSH key name.")
        if not isinstance(key, str) or key.split(" ")[0] not in SSH_KEY_TYPES:
            raise ProviderHttpError(400, "Invalid SSH key.")
        created = {
            "id": str(uuid.uuid4()),
            "date_created": datetime.now(UTC).replace(microsecond=0).isoformat(),
            "name": name,
            "ssh_key": key,
        }
        with self.lock:
            self.ssh_keys[created["id"]] = created
        return created

    def ssh_key(self, key_id: str) -> dict[str, str]:
        with self.lock:
            found = self.ssh_keys.get(key_id)
        if found is None:
            raise ProviderHttpError(404, "SSH key not found.")
        return found


def error(status: int, message: str) -> Response:
    """Vultr's error shape: ``{"error": message, "status": status}``."""
    return json_response({"error": message, "status": status}, status)


def details(machine: EmulatedMachine) -> VultrDetails:
    found: VultrDetails = machine.extra["vultr"]
    return found


# -- the instance as Vultr shows it -------------------------------------------------------
def instance_status(machine: EmulatedMachine, now: float) -> str:
    extra = details(machine)
    if now < extra.provisioned_at:
        return "pending"
    if now < extra.resizing_until:
        return "resizing"
    return "active"


def server_status(machine: EmulatedMachine, now: float) -> str:
    extra = details(machine)
    if now < extra.installing_until:
        return "installingbooting"
    if now < extra.resizing_until:
        return "locked"
    return "ok"


def describe(machine: EmulatedMachine, settings: EmulatorSettings) -> dict[str, Any]:
    """The instance object of GET /instances/{id}; never the password."""
    now = time.monotonic()
    extra = details(machine)
    plan = PLANS[machine.plan]
    has_ip = machine.ip_assigned(now, settings.ip_delay_seconds)
    v6 = extra.v6_main_ip if has_ip else ""
    return {
        "id": machine.id,
        "os": OPERATING_SYSTEMS[extra.os_id].name,
        "ram": plan.ram,
        "disk": plan.disk,
        "main_ip": machine.ip if has_ip else UNASSIGNED_IP,
        "vcpu_count": plan.vcpu_count,
        "region": machine.region,
        "plan": machine.plan,
        "date_created": extra.date_created.isoformat(timespec="seconds"),
        "status": instance_status(machine, now),
        "allowed_bandwidth": plan.bandwidth,
        "netmask_v4": "255.255.254.0" if has_ip else "",
        "gateway_v4": _gateway(machine.ip) if has_ip else UNASSIGNED_IP,
        "power_status": machine.power,
        "server_status": server_status(machine, now),
        "v6_networks": [{"network": _v6_network(v6), "main_ip": v6, "network_size": 64}]
        if v6
        else [],
        # The older flat fields, still sent beside the described ``v6_networks``.
        "v6_network": _v6_network(v6),
        "v6_main_ip": v6,
        "v6_network_size": 64 if v6 else 0,
        "label": machine.label,
        "internal_ip": "",
        "kvm": "",
        "hostname": extra.hostname,
        "os_id": extra.os_id,
        "app_id": 0,
        "image_id": "",
        "firewall_group_id": "",
        "features": ["ipv6"] if v6 else [],
        "tags": list(extra.tags),
    }


def _gateway(ip: str) -> str:
    return ".".join([*ip.split(".")[:3], "1"])


def _v6_network(address: str) -> str:
    if not address:
        return ""
    return str(ipaddress.IPv6Network(f"{address}/64", strict=False).network_address)


def _v6_address(instance_id: str) -> str:
    """A stable address in the documentation prefix, derived from the instance id."""
    digits = uuid.UUID(instance_id).hex
    return ipaddress.IPv6Address(f"2001:db8:{digits[:4]}:{digits[4:8]}::1").compressed


# -- bandwidth ---------------------------------------------------------------------------
def daily_traffic(instance_id: str, created: date, today: date) -> dict[str, dict[str, int]]:
    """Plausible, deterministic daily byte counts for the recent days since creation."""
    first = max(created, today - timedelta(days=BANDWIDTH_DAYS - 1))
    days = [first + timedelta(days=n) for n in range((today - first).days + 1)]
    return {day.isoformat(): _traffic(instance_id, day) for day in days}


def _traffic(instance_id: str, day: date) -> dict[str, int]:
    digest = hashlib.sha256(f"{instance_id}:{day.isoformat()}".encode()).digest()
    # A remote desktop sends far more than it receives.
    incoming = 20_000_000 + int.from_bytes(digest[:4], "big") % 300_000_000
    outgoing = incoming * (2 + digest[4] % 5) + int.from_bytes(digest[5:9], "big") % 50_000_000
    return {"incoming_bytes": incoming, "outgoing_bytes": outgoing}


# -- request validation ------------------------------------------------------------------
def json_body(required: bool = True) -> dict[str, Any]:
    return json_object("Invalid JSON body.", required=required)


def optional_str(body: Mapping[str, Any], key: str, default: str = "") -> str:
    value = body.get(key, default)
    if not isinstance(value, str):
        raise ProviderHttpError(400, f"Invalid {key}: must be a string.")
    return value


def optional_tags(body: Mapping[str, Any]) -> list[str]:
    tags = body.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
        raise ProviderHttpError(400, "Invalid tags: must be a list of strings.")
    return tags


def known_id(body: Mapping[str, Any], key: str, known: Collection[str]) -> str:
    """A required ``plan`` or ``region``, one of ``known``."""
    value = body.get(key)
    if not value:
        raise ProviderHttpError(400, f"Missing {key}.")
    if value not in known:
        raise ProviderHttpError(400, f"Invalid {key}: {value}.")
    return str(value)


def os_id(body: Mapping[str, Any]) -> int:
    """Exactly one image source; this emulator deploys from ``os_id`` only."""
    given = [key for key in IMAGE_SOURCES if body.get(key) not in (None, "", 0)]
    if len(given) != 1:
        raise ProviderHttpError(400, f"Choose exactly one of {', '.join(IMAGE_SOURCES)}.")
    if given != ["os_id"]:
        raise ProviderHttpError(400, f"{given[0]} is not supported by this emulator; use os_id.")
    value = body["os_id"]
    if isinstance(value, bool) or not isinstance(value, int) or value not in OPERATING_SYSTEMS:
        raise ProviderHttpError(400, "Invalid operating system.")
    return value


def decoded_user_data(body: Mapping[str, Any]) -> str:
    encoded = optional_str(body, "user_data")
    try:
        return base64.b64decode(encoded, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise ProviderHttpError(400, "Invalid user_data: must be base64 encoded.") from exc


def per_page(raw: str | None, most: int = MAX_PER_PAGE) -> int:
    if raw is None:
        return DEFAULT_PER_PAGE
    try:
        value = int(raw)
    except ValueError as exc:
        raise ProviderHttpError(400, "Invalid per_page: must be an integer.") from exc
    if value < 1:
        raise ProviderHttpError(400, "Invalid per_page: must be at least 1.")
    return min(value, most)


def encode_cursor(direction: str, offset: int) -> str:
    return base64.urlsafe_b64encode(f"{direction}__{offset}".encode()).decode()


def decode_cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        _, _, offset = base64.urlsafe_b64decode(cursor.encode()).decode().partition("__")
        return max(int(offset), 0)
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise ProviderHttpError(400, "Invalid cursor.") from exc


def page_meta(total: int, offset: int, size: int) -> dict[str, Any]:
    following = encode_cursor("next", offset + size) if offset + size < total else ""
    previous = encode_cursor("prev", max(offset - size, 0)) if offset > 0 else ""
    return {"total": total, "links": {"next": following, "prev": previous}}


def matches_filters(
    machine: EmulatedMachine, args: Mapping[str, str], settings: EmulatorSettings
) -> bool:
    if "label" in args and machine.label != args["label"]:
        return False
    if "tag" in args and args["tag"] not in details(machine).tags:
        return False
    if "region" in args and machine.region != args["region"]:
        return False
    return "main_ip" not in args or describe(machine, settings)["main_ip"] == args["main_ip"]


# -- state changes -----------------------------------------------------------------------
def new_machine(emulator: VultrEmulator, body: Mapping[str, Any]) -> EmulatedMachine:
    """Validate a create body and build the machine it orders."""
    region, plan = known_id(body, "region", REGIONS), known_id(body, "plan", PLANS)
    os = os_id(body)
    label, hostname = optional_str(body, "label"), optional_str(body, "hostname")
    tags, user_data = optional_tags(body), decoded_user_data(body)
    family = OPERATING_SYSTEMS[os].family
    if body.get("sshkey_id") and family == "windows":
        raise ProviderHttpError(400, "SSH keys cannot be installed on Windows.")
    sshkey_ids = body.get("sshkey_id") or []
    if not isinstance(sshkey_ids, list):
        raise ProviderHttpError(400, "sshkey_id must be an array of SSH key ids.")
    unknown = [key_id for key_id in sshkey_ids if str(key_id) not in emulator.ssh_keys]
    if unknown:
        raise ProviderHttpError(400, f"Invalid SSH key id: {unknown[0]}")
    now = time.monotonic()
    booted_at = now + emulator.settings.boot_seconds
    instance_id = str(uuid.uuid4())
    extra = VultrDetails(
        os_id=os,
        hostname=hostname or "vultr.guest",
        tags=tags,
        date_created=datetime.now(UTC).replace(microsecond=0),
        v6_main_ip=_v6_address(instance_id) if body.get("enable_ipv6") is True else "",
        provisioned_at=booted_at,
        installing_until=booted_at,
        sshkey_ids=[str(key_id) for key_id in sshkey_ids],
    )
    return EmulatedMachine(
        id=instance_id,
        label=label,
        plan=plan,
        region=region,
        os_type="windows" if family == "windows" else "linux",
        ip=emulator.next_ip(),
        created_at=now,
        ready_at=booted_at,
        password=new_password(),
        user_data=user_data,
        extra={"vultr": extra},
    )


def new_password() -> str:
    return "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(16))


def power_on(emulator: Emulator, machine: EmulatedMachine) -> None:
    """Start or reboot; a machine still installing keeps booting until the install ends."""
    installing_until = details(machine).installing_until
    emulator.reboot(machine)
    machine.ready_at = max(machine.ready_at, installing_until)


def start(emulator: Emulator, machine: EmulatedMachine) -> None:
    if machine.power != "running":
        power_on(emulator, machine)


def halt(emulator: Emulator, machine: EmulatedMachine) -> None:
    machine.power = "stopped"


def destroy(emulator: Emulator, machine: EmulatedMachine) -> None:
    machine.destroyed = True


# The routes that change a machine and answer 204: (method, path, operation, change).
POWER_ROUTES: tuple[tuple[str, str, str, Callable[[Emulator, EmulatedMachine], None]], ...] = (
    ("DELETE", "/instances/<instance_id>", "delete", destroy),
    ("POST", "/instances/<instance_id>/reboot", "reboot", power_on),
    ("POST", "/instances/<instance_id>/start", "start", start),
    ("POST", "/instances/<instance_id>/halt", "halt", halt),
)


def reinstall(emulator: Emulator, machine: EmulatedMachine, hostname: str) -> None:
    extra = details(machine)
    extra.installing_until = time.monotonic() + emulator.settings.boot_seconds
    if hostname:
        extra.hostname = hostname
    machine.power = "running"
    machine.ready_at = extra.installing_until
    machine.password = new_password()  # the old one no longer opens the machine


def change_plan(emulator: Emulator, machine: EmulatedMachine, plan: str) -> None:
    """Vultr grows disks but cannot shrink them; a resize reboots the machine."""
    current, wanted = PLANS[machine.plan], PLANS[plan]
    if wanted.disk < current.disk:
        raise ProviderHttpError(
            400,
            f"Unable to change plan: {plan} has a smaller disk ({wanted.disk} GB) than "
            f"the current plan ({current.disk} GB). Disks cannot be shrunk.",
        )
    machine.plan = plan
    extra = details(machine)
    extra.resizing_until = time.monotonic() + emulator.settings.restart_seconds
    if machine.power == "running":
        machine.ready_at = max(machine.ready_at, extra.resizing_until)


def update(emulator: Emulator, machine: EmulatedMachine, body: Mapping[str, Any]) -> None:
    """PATCH /instances/{id}: plan, label, tags and user_data; a new os_id reinstalls."""
    new_os = os_id(body) if "os_id" in body else None
    plan = known_id(body, "plan", PLANS) if "plan" in body else None
    label = optional_str(body, "label") if "label" in body else None
    tags = optional_tags(body) if "tags" in body else None
    user_data = decoded_user_data(body) if "user_data" in body else None
    if plan is not None and plan != machine.plan:
        change_plan(emulator, machine, plan)
    if label is not None:
        machine.label = label
    if tags is not None:
        details(machine).tags = tags
    if user_data is not None:
        machine.user_data = user_data
    if new_os is not None and new_os != details(machine).os_id:
        details(machine).os_id = new_os
        family = OPERATING_SYSTEMS[new_os].family
        machine.os_type = "windows" if family == "windows" else "linux"
        reinstall(emulator, machine, "")


# -- snapshots ---------------------------------------------------------------------------
def new_snapshot(
    emulator: Emulator, machine: EmulatedMachine, description: str
) -> EmulatedSnapshot:
    """Start a snapshot of the machine's disk; it is complete after ``snapshot_seconds``."""
    now = time.monotonic()
    snapshot = EmulatedSnapshot(
        id=str(uuid.uuid4()),
        machine_id=machine.id,
        name=description,
        created_at=now,
        created_date=datetime.now(UTC).replace(microsecond=0).isoformat(),
        ready_at=now + emulator.settings.snapshot_seconds,
        size=PLANS[machine.plan].disk * 2**30,
    )
    with emulator.lock:
        emulator.snapshots[snapshot.id] = snapshot
    return snapshot


def describe_snapshot(emulator: Emulator, snapshot: EmulatedSnapshot) -> dict[str, Any]:
    """A snapshot as GET /snapshots/{id} shows it: sizes are 0 until it is complete."""
    complete = snapshot.complete(time.monotonic())
    machine = emulator.machines.get(snapshot.machine_id)
    return {
        "id": snapshot.id,
        "date_created": snapshot.created_date,
        "description": snapshot.name,
        "size": snapshot.size if complete else 0,
        "compressed_size": snapshot.size // 20 if complete else 0,
        "status": "complete" if complete else "pending",
        "os_id": details(machine).os_id if machine is not None else 0,
        "app_id": 0,
    }


def restore(emulator: Emulator, machine: EmulatedMachine, snapshot: EmulatedSnapshot) -> None:
    """Overwrite the disk with a complete snapshot; the machine boots into it."""
    if not snapshot.complete(time.monotonic()):
        raise ProviderHttpError(400, "Unable to restore: the snapshot is not complete.")
    extra = details(machine)
    extra.installing_until = time.monotonic() + emulator.settings.boot_seconds
    machine.power = "running"
    machine.ready_at = extra.installing_until


# -- the app -----------------------------------------------------------------------------
def api_blueprint(emulator: VultrEmulator, api_key: str | None) -> Blueprint:
    """The ``/v2`` routes; each is wrapped so faults and the rate limit apply to it."""
    blp = Blueprint("vultr_v2", __name__, url_prefix="/v2")
    settings = emulator.settings

    def op(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        return emulator.operation(name, error)

    def page_window() -> tuple[int, int]:
        """The page size asked for (within the caps) and the offset the cursor points at."""
        most = min(MAX_PER_PAGE, settings.max_page_size)
        return per_page(request.args.get("per_page"), most), decode_cursor(
            request.args.get("cursor")
        )

    def found(instance_id: str) -> EmulatedMachine:
        machine = emulator.lookup(instance_id)
        if machine is None:
            raise ProviderHttpError(404, "Instance not found.")
        return machine

    @blp.before_request
    def authenticate() -> Response | None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return error(401, "Invalid API token.")
        if api_key is not None and not secrets.compare_digest(token, api_key):
            return error(401, "Invalid API token.")
        return None

    @blp.post("/instances")
    @op("create")
    def create_instance() -> Any:
        """Order an instance; the only answer that carries its password."""
        machine = emulator.add(new_machine(emulator, json_body()))
        instance = {**describe(machine, settings), "server_status": "none"}
        return jsonify(instance={**instance, "default_password": machine.password}), 202

    @blp.get("/instances")
    @op("list")
    def list_instances() -> Any:
        size, offset = page_window()
        machines = [m for m in emulator.live() if matches_filters(m, request.args, settings)]
        page = machines[offset : offset + size]
        return jsonify(
            instances=[describe(m, settings) for m in page],
            meta=page_meta(len(machines), offset, size),
        )

    @blp.get("/os")
    @op("os")
    def list_operating_systems() -> Any:
        size, offset = page_window()
        systems = list(OPERATING_SYSTEMS.items())[offset : offset + size]
        return jsonify(
            os=[
                {"id": os, "name": system.name, "arch": system.arch, "family": system.family}
                for os, system in systems
            ],
            meta=page_meta(len(OPERATING_SYSTEMS), offset, size),
        )

    @blp.get("/instances/<instance_id>")
    @op("get")
    def get_instance(instance_id: str) -> Any:
        return jsonify(instance=describe(found(instance_id), settings))

    def patch_instance(instance_id: str) -> Any:
        machine, body = found(instance_id), json_body()
        with emulator.lock:
            before = machine.password
            update(emulator, machine, body)
        instance = describe(machine, settings)
        if machine.password != before:  # reinstalled: the answer shows the new password
            instance["default_password"] = machine.password
        return jsonify(instance=instance), 202

    resize_instance = op("resize")(patch_instance)
    edit_instance = op("update")(patch_instance)

    @blp.patch("/instances/<instance_id>")
    def update_instance(instance_id: str) -> Any:
        """A new plan is operation "resize"; label, tags or user_data alone are "update"."""
        body = request.get_json(silent=True)
        changes_plan = isinstance(body, dict) and "plan" in body
        return (resize_instance if changes_plan else edit_instance)(instance_id)

    def power_view(change: Callable[[Emulator, EmulatedMachine], None]) -> Callable[..., Any]:
        def view(instance_id: str) -> Any:
            machine = found(instance_id)
            with emulator.lock:
                change(emulator, machine)
            return "", 204

        return view

    for method, path, operation, change in POWER_ROUTES:
        blp.add_url_rule(
            path,
            endpoint=f"{operation}_instance",
            view_func=op(operation)(power_view(change)),
            methods=[method],
        )

    @blp.post("/instances/<instance_id>/reinstall")
    @op("reinstall")
    def reinstall_instance(instance_id: str) -> Any:
        machine, body = found(instance_id), json_body(required=False)
        hostname = optional_str(body, "hostname")
        with emulator.lock:
            reinstall(emulator, machine, hostname)
        instance = {**describe(machine, settings), "default_password": machine.password}
        return jsonify(instance=instance), 202

    @blp.get("/ssh-keys")
    @op("ssh_keys")
    def list_ssh_keys() -> Any:
        size, offset = page_window()
        with emulator.lock:
            keys = list(emulator.ssh_keys.values())
        return jsonify(
            ssh_keys=keys[offset : offset + size], meta=page_meta(len(keys), offset, size)
        )

    @blp.post("/ssh-keys")
    @op("ssh_key_create")
    def create_ssh_key() -> Any:
        return jsonify(ssh_key=emulator.add_ssh_key(json_body())), 201

    @blp.get("/ssh-keys/<key_id>")
    @op("ssh_key_get")
    def get_ssh_key(key_id: str) -> Any:
        return jsonify(ssh_key=emulator.ssh_key(key_id))

    @blp.delete("/ssh-keys/<key_id>")
    @op("ssh_key_delete")
    def delete_ssh_key(key_id: str) -> Any:
        with emulator.lock:
            emulator.ssh_key(key_id)
            del emulator.ssh_keys[key_id]
        return "", 204

    @blp.get("/instances/<instance_id>/bandwidth")
    @op("bandwidth")
    def instance_bandwidth(instance_id: str) -> Any:
        machine = found(instance_id)
        created = details(machine).date_created.date()
        today = datetime.now(UTC).date()
        return jsonify(bandwidth=daily_traffic(machine.id, created, today))

    def snapshot_found(snapshot_id: str) -> EmulatedSnapshot:
        with emulator.lock:
            snapshot = emulator.snapshots.get(snapshot_id)
        if snapshot is None:
            raise ProviderHttpError(404, "Snapshot not found.")
        return snapshot

    @blp.post("/snapshots")
    @op("snapshot_create")
    def create_snapshot() -> Any:
        body = json_body()
        instance_id = optional_str(body, "instance_id")
        machine = emulator.lookup(instance_id) if instance_id else None
        if machine is None:
            raise ProviderHttpError(400, "Invalid instance_id.")
        snapshot = new_snapshot(emulator, machine, optional_str(body, "description"))
        return jsonify(snapshot=describe_snapshot(emulator, snapshot)), 201

    @blp.get("/snapshots")
    @op("snapshot_list")
    def list_snapshots() -> Any:
        size, offset = page_window()
        description = request.args.get("description")
        with emulator.lock:
            found = [
                snapshot
                for snapshot in emulator.snapshots.values()
                if description is None or snapshot.name == description
            ]
        return jsonify(
            snapshots=[describe_snapshot(emulator, s) for s in found[offset : offset + size]],
            meta=page_meta(len(found), offset, size),
        )

    @blp.get("/snapshots/<snapshot_id>")
    @op("snapshot_get")
    def get_snapshot(snapshot_id: str) -> Any:
        return jsonify(snapshot=describe_snapshot(emulator, snapshot_found(snapshot_id)))

    @blp.delete("/snapshots/<snapshot_id>")
    @op("snapshot_delete")
    def delete_snapshot(snapshot_id: str) -> Any:
        snapshot = snapshot_found(snapshot_id)
        with emulator.lock:
            emulator.snapshots.pop(snapshot.id, None)
        return "", 204

    @blp.post("/instances/<instance_id>/restore")
    @op("restore")
    def restore_instance(instance_id: str) -> Any:
        """Restore from a snapshot (``snapshot_id``); backups are not emulated."""
        machine, body = found(instance_id), json_body()
        snapshot_id = optional_str(body, "snapshot_id")
        with emulator.lock:
            snapshot = emulator.snapshots.get(snapshot_id)
        if snapshot is None:
            raise ProviderHttpError(400, "Invalid snapshot_id.")
        with emulator.lock:
            restore(emulator, machine, snapshot)
        status = {"restore_type": "snapshot_id", "restore_id": snapshot_id, "status": "pending"}
        return jsonify(status=status), 202

    return blp


def admin_blueprint(emulator: VultrEmulator) -> Blueprint:
    """The core's admin API, showing secrets too (tests check what the platform stored)."""

    def admin_view(machine: EmulatedMachine) -> dict[str, Any]:
        return {
            **describe(machine, emulator.settings),
            "default_password": machine.password,
            "user_data": machine.user_data,
            "sshkey_ids": list(details(machine).sshkey_ids),
        }

    blp = emulator.admin_blueprint(admin_view)

    @blp.post("/machines/<instance_id>/backdate")
    def backdate(instance_id: str) -> Any:
        """Move ``date_created`` back ``days`` days, so bandwidth covers several days."""
        body = request.get_json(force=True)
        with emulator.lock:
            machine = emulator.machines.get(instance_id)
            if machine is None:
                return error(404, "Instance not found.")
            details(machine).date_created -= timedelta(days=int(body["days"]))
        return jsonify(admin_view(machine))

    return blp


def create_app(settings: EmulatorSettings | None = None, *, api_key: str | None = None) -> Flask:
    """The emulator app; with ``api_key`` only that bearer token is accepted, else any."""
    emulator = VultrEmulator(settings or EmulatorSettings())
    app = Flask(__name__)
    app.extensions["emulator"] = emulator
    app.register_blueprint(api_blueprint(emulator, api_key))
    app.register_blueprint(admin_blueprint(emulator))
    render_errors(app, error)
    return app


def client_settings(url: str, credentials: str) -> dict[str, str]:
    """Point the Vultr client at this emulator served at ``url``."""
    return {"VULTR_API_URL": f"{url}/v2", "VULTR_API_KEY": f"{credentials}-vultr-key"}


EMULATES = Emulates("vultr", 8701, client_settings, options=("--ip-prefix", "127.1"))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Vultr API v2 emulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=EMULATES.port)
    add_settings_arguments(parser, EmulatorSettings(rate_limit_per_second=DEFAULT_RATE_LIMIT))
    parser.add_argument("--api-key", default=None, help="accept only this key (default: any)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    app = create_app(settings_from_args(args), api_key=args.api_key)
    server = make_server(args.host, args.port, app, threaded=True)
    logger.info("Vultr emulator on http://%s:%s/v2", args.host, server.server_port)
    server.serve_forever()


if __name__ == "__main__":
    main()
