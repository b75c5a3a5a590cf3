"""Contabo API v1 client.

Contabo authenticates through an OAuth2 password grant against its Keycloak realm; the
access token lives about five minutes and comes with a refresh token. Every API call must
carry a uuid4 ``x-request-id``, which is also the key to Contabo's audit log: when a create
loses its answer, the request id logged here says what happened to it.

Requests, retries and error sorting are the shared HTTP core's (`workers.providers.http_core`).
What Contabo cannot do, and what this client therefore refuses or reports instead (its
capabilities leave out resize and traffic reporting):
- change a machine's product (plan): `resize` raises `PermanentError`;
- report traffic per machine: `bandwidth` returns None (the in-guest agent measures it);
- delete: `destroy` cancels the contract, and a machine already cancelled counts as gone.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Self
from urllib.parse import quote

import httpx

from workers.outside_errors import PermanentError, TransientError
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
from workers.providers.http_core import ProviderHttp, body_message
from workers.providers.system_images import (
    TTL_SECONDS,
    ImageCatalog,
    SystemImage,
    WantedImage,
)
from workers.providers.throttle import Throttle

logger = logging.getLogger(__name__)

# Image ids differ per account and change over time: they are found by name and version in
# GET /compute/images ("windows-server-2022-se" 2022, "ubuntu-22.04" 22.04).
DEFAULT_IMAGES = {
    "windows": WantedImage("windows server", "2022"),
    "linux": WantedImage("ubuntu", "22.04"),
}
DEFAULT_USERS = {"windows": "administrator", "linux": "root"}
CONTRACT_MONTHS = 1

STATES: dict[str, MachineState] = {
    "provisioning": MachineState.PENDING,
    "installing": MachineState.PENDING,
    "pending_payment": MachineState.PENDING,
    "reset_password": MachineState.PENDING,
    "unknown": MachineState.PENDING,
    "other": MachineState.PENDING,
    "running": MachineState.RUNNING,
    "stopped": MachineState.STOPPED,
    "error": MachineState.ERROR,
    "product_not_available": MachineState.ERROR,
    "verification_required": MachineState.ERROR,
    "manual_provisioning": MachineState.ERROR,
    "rescue": MachineState.ERROR,
    "uninstalled": MachineState.GONE,
}

TOKEN_EXPIRY_MARGIN = 30.0  # seconds before the reported expiry when we renew


@dataclass(frozen=True)
class _Token:
    access: str
    refresh: str | None
    expires_at: float  # time.monotonic() after which we renew
    refresh_expires_at: float


class ContaboClient(ProviderClient):
    name = "contabo"
    title = "Contabo"
    capabilities = frozenset({Capability.REINSTALL, Capability.SNAPSHOTS})
    api_url_setting = "CONTABO_API_URL"
    settings = (
        ProviderSetting("CONTABO_API_URL", "https://api.contabo.com/v1", "Contabo API v1."),
        ProviderSetting(
            "CONTABO_AUTH_URL",
            "https://auth.contabo.com/auth/realms/contabo/protocol/openid-connect/token",
            "Contabo's OAuth2 token endpoint.",
        ),
        ProviderSetting("CONTABO_CLIENT_ID", "", "Contabo OAuth2 client id."),
        ProviderSetting("CONTABO_CLIENT_SECRET", "", "Contabo OAuth2 client secret.", secret=True),
        ProviderSetting("CONTABO_API_USER", "", "Contabo API user (an e-mail address)."),
        ProviderSetting("CONTABO_API_PASSWORD", "", "Contabo API password.", secret=True),
        ProviderSetting(
            "CONTABO_RATE_LIMIT",
            "10/second",
            "Throttle of Contabo calls, shared by every worker (Contabo publishes no limit: "
            "a cautious guess).",
            rate_limit=True,
        ),
    )
    page_size = 100  # elements per page when listing

    def __init__(
        self,
        base_url: str,
        auth_url: str,
        client_id: str,
        client_secret: str,
        username: str,
        password: str,
        *,
        timeout: float = 10.0,
        throttle: Throttle | None = None,
        images: Mapping[str, WantedImage] | None = None,
        image_cache_seconds: float = TTL_SECONDS,
    ) -> None:
        self._auth_url = auth_url
        self._client_credentials = {"client_id": client_id, "client_secret": client_secret}
        self._user_credentials = {"username": username, "password": password}
        self.images = ImageCatalog(
            self.title, self._standard_images, images or DEFAULT_IMAGES, ttl=image_cache_seconds
        )
        self._token: _Token | None = None
        self._token_lock = threading.Lock()
        self._http = ProviderHttp(
            self.title,
            base_url,
            timeout=timeout,
            headers={"Accept": "application/json", "User-Agent": "nemordp-contabo"},
            message_keys=("message",),
            throttle=throttle,
            # Every API call must carry one; it also finds a lost create in the audit log.
            request_id_header="x-request-id",
        )

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Self:
        # Shared through Redis, so all worker processes together keep to the limit.
        throttle = Throttle(
            config["CONTABO_RATE_LIMIT"], cls.name, config["REDIS_URL"], config=config
        )
        return cls(
            config[cls.api_url_setting],
            config["CONTABO_AUTH_URL"],
            config["CONTABO_CLIENT_ID"],
            config["CONTABO_CLIENT_SECRET"],
            config["CONTABO_API_USER"],
            config["CONTABO_API_PASSWORD"],
            timeout=config["PROVIDER_TIMEOUT"],
            throttle=throttle,
        )

    # -- machines ---------------------------------------------------------------------
    def create(self, request: CreateRequest) -> Machine:
        """Store the chosen password as a secret, then order the machine.

        Every field is sent explicitly: Contabo requires only ``period`` and silently
        orders (and bills) a default machine for whatever is missing.
        """
        body: dict[str, Any] = {
            "productId": _required(request.plan, "plan"),
            "region": _required(request.region, "region"),
            "displayName": _required(request.label, "label"),
            "defaultUser": _default_user(request.os_type),
            "userData": request.user_data,
            "period": CONTRACT_MONTHS,
        }
        # The password travels as a secret, never in the user data (which every process on
        # the machine can read back from the metadata service).
        password = _required(request.password or "", "password")
        body["imageId"] = self._image_id(request.os_type)
        body["rootPassword"] = self._store_password(request.label, password)
        if request.ssh_keys and request.os_type == "linux":
            body["sshKeys"] = [self._ssh_secret(key) for key in request.ssh_keys]
        created = _first(self._call_not_on_machine("POST", "/compute/instances", json=body))
        return Machine(
            provider_id=str(created["instanceId"]),
            label=request.label,
            state=STATES.get(str(created.get("status")), MachineState.PENDING),
            ready=False,
            ip_address=None,
            ipv6_address=None,
            plan=str(created.get("productId") or request.plan),
            region=str(created.get("region") or request.region),
            default_password=None,  # we chose it
        )

    def get(self, provider_id: str) -> Machine:
        return _machine(self._instance(provider_id))

    def find_by_label(self, label: str) -> Machine | None:
        """The oldest live machine whose displayName is exactly ``label``.

        Contabo's displayName filter is not an exact match, so the results are checked.
        """
        matches = [m for m in self._list({"displayName": label}) if m.label == label]
        if len(matches) > 1:
            logger.warning(
                "several Contabo machines carry one label",
                extra={"label": label, "provider_ids": [m.provider_id for m in matches]},
            )
        return min(matches, key=lambda m: int(m.provider_id), default=None)

    def list_machines(self) -> Iterator[Machine]:
        return self._list({})

    def reboot(self, provider_id: str) -> None:
        self._action(provider_id, "restart")

    def start(self, provider_id: str) -> None:
        self._action(provider_id, "start")

    def stop(self, provider_id: str) -> None:
        # ``shutdown`` is an ACPI power-button press; ``stop`` would pull the plug.
        self._action(provider_id, "shutdown")

    def resize(self, provider_id: str, plan: str) -> None:
        raise PermanentError(
            f"Contabo's API cannot change the product of a machine (wanted {plan} for "
            f"{provider_id}); order a new machine with that product and move to it instead"
        )

    def reinstall(
        self,
        provider_id: str,
        os_type: str,
        user_data: str,
        password: str,
        ssh_keys: tuple[str, ...] = (),
    ) -> None:
        path = _instance_path(provider_id)
        body: dict[str, Any] = {
            "imageId": self._image_id(os_type),
            "defaultUser": _default_user(os_type),
            "userData": user_data,
        }
        body["rootPassword"] = self._store_password(f"reinstall-{provider_id}", password)
        if ssh_keys and os_type == "linux":
            body["sshKeys"] = [self._ssh_secret(key) for key in ssh_keys]
        self._call("PUT", path, json=body)

    def destroy(self, provider_id: str) -> None:
        """Cancel the contract; an unknown or already cancelled machine is fine.

        A machine ordered moments ago can 404 before Contabo shows it by id; the listing
        tells that case apart, and it is transient rather than "already gone".
        """
        path = f"{_instance_path(provider_id)}/cancel"
        try:
            self._call("POST", path, json={})
        except MachineNotFound:
            if any(self._list({"instanceIds": provider_id})):
                raise TransientError(
                    f"Contabo cannot cancel machine {provider_id} yet: it is too new"
                ) from None
        except PermanentError as exc:
            if exc.status != 422 or not self._is_cancelled(provider_id):
                raise

    def bandwidth(self, provider_id: str) -> list[DailyTraffic] | None:
        return None  # Contabo has no traffic endpoint

    # -- snapshots ------------------------------------------------------------------------
    def create_snapshot(self, provider_id: str, name: str) -> Snapshot:
        """Contabo takes names of up to 30 letters, digits, spaces and dashes."""
        path = f"{_instance_path(provider_id)}/snapshots"
        return _snapshot(_first(self._call("POST", path, json={"name": name})))

    def list_snapshots(self, provider_id: str) -> list[Snapshot]:
        path = f"{_instance_path(provider_id)}/snapshots"
        return [_snapshot(data) for data in self._pages(path, {})]

    def get_snapshot(self, provider_id: str, snapshot_id: str) -> Snapshot:
        try:
            return _snapshot(_first(self._call("GET", _snapshot_path(provider_id, snapshot_id))))
        except MachineNotFound as exc:
            raise SnapshotNotFound(exc.message, exc.status) from exc

    def restore_snapshot(self, provider_id: str, snapshot_id: str) -> None:
        """Contabo's rollback also deletes every snapshot of the machine newer than it."""
        path = f"{_snapshot_path(provider_id, snapshot_id)}/rollback"
        self._call("POST", path, json={})

    def delete_snapshot(self, provider_id: str, snapshot_id: str) -> None:
        try:
            self._call("DELETE", _snapshot_path(provider_id, snapshot_id))
        except MachineNotFound:
            logger.info("Contabo snapshot already gone", extra={"snapshot_id": snapshot_id})

    def close(self) -> None:
        self._http.close()

    # -- helpers over the API -----------------------------------------------------------
    def _image_id(self, os_type: str) -> str:
        _default_user(os_type)  # an unknown os_type is refused before any call
        return self.images.image_id(os_type)

    def _standard_images(self) -> Iterator[SystemImage]:
        """Contabo's own images (not the account's uploads), every page."""
        for data in self._pages("/compute/images", {"standardImage": "true"}):
            yield SystemImage(
                id=str(data["imageId"]),
                name=str(data.get("name") or ""),
                version=str(data.get("version") or ""),
            )

    def _store_password(self, name: str, password: str) -> int:
        body = {"name": f"{name}-password", "value": password, "type": "password"}
        return int(_first(self._call_not_on_machine("POST", "/secrets", json=body))["secretId"])

    def _ssh_secret(self, public_key: str) -> int:
        """The secret id of this SSH key (a secret of type ``ssh`` named by its
        fingerprint), stored first if the account has none yet."""
        name = ssh_key_name(public_key)
        for secret in self._pages("/secrets", {"type": "ssh", "name": name}):
            if secret.get("name") == name:
                return int(secret["secretId"])
        body = {"name": name, "value": public_key, "type": "ssh"}
        created = _first(self._call_not_on_machine("POST", "/secrets", json=body))
        logger.info("contabo ssh key stored", extra={"ssh_key": name})
        return int(created["secretId"])

    def _instance(self, provider_id: str) -> dict[str, Any]:
        return _first(self._call("GET", _instance_path(provider_id)))

    def _is_cancelled(self, provider_id: str) -> bool:
        try:
            return _machine(self._instance(provider_id)).state is MachineState.GONE
        except MachineNotFound:
            return True

    def _action(self, provider_id: str, action: str) -> None:
        self._call("POST", f"{_instance_path(provider_id)}/actions/{action}")

    def _list(self, filters: Mapping[str, str]) -> Iterator[Machine]:
        """Live machines."""
        for data in self._pages("/compute/instances", filters):
            machine = _machine(data)
            if machine.state is not MachineState.GONE:
                yield machine

    def _pages(self, path: str, filters: Mapping[str, str]) -> Iterator[dict[str, Any]]:
        """Every item of a list, page by page (Contabo's pages count from 1)."""
        page = 1
        while True:
            params = {**filters, "page": str(page), "size": str(self.page_size)}
            body = self._call("GET", path, params=params)
            yield from body.get("data") or []
            if page >= int(body.get("_pagination", {}).get("totalPages") or 0):
                return
            page += 1

    def _call_not_on_machine(self, method: str, path: str, json: Any) -> dict[str, Any]:
        """A call whose 404 is about something it refers to (an image, a secret)."""
        try:
            return self._call(method, path, json=json)
        except MachineNotFound as exc:
            raise PermanentError(exc.message, exc.status) from exc

    # -- HTTP ---------------------------------------------------------------------------
    def _call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """One API call's JSON body; a GET that fails transiently is tried again."""
        return self._http.retrying(
            method, path, lambda: _json(self._authorized(method, path, json, params))
        )

    def _authorized(
        self, method: str, path: str, json: Any, params: Mapping[str, str] | None
    ) -> httpx.Response:
        """Send with the cached token; on 401 fetch a new token and send once more."""
        response = self._send(method, path, json, params)
        if response.status_code == 401:
            self._expire_token()
            response = self._send(method, path, json, params)
        return self._http.checked(response)

    def _send(
        self, method: str, path: str, json: Any, params: Mapping[str, str] | None
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self._access_token()}"}
        return self._http.send(method, path, json=json, params=params, headers=headers)

    # -- OAuth2 -------------------------------------------------------------------------
    def _access_token(self) -> str:
        with self._token_lock:
            token = self._token
            now = time.monotonic()
            if token is None or now >= token.expires_at:
                token = self._token = self._renew(token, now)
            return token.access

    def _expire_token(self) -> None:
        """Contabo refused our token: renew it before the next call, refresh token first."""
        with self._token_lock:
            if self._token is not None:
                self._token = replace(self._token, expires_at=0.0)

    def _renew(self, token: _Token | None, now: float) -> _Token:
        if token is not None and token.refresh and now < token.refresh_expires_at:
            try:
                return self._grant({"grant_type": "refresh_token", "refresh_token": token.refresh})
            except PermanentError:
                logger.info("Contabo refused the refresh token; logging in again")
        return self._grant({"grant_type": "password", **self._user_credentials})

    def _grant(self, form: dict[str, str]) -> _Token:
        started = time.monotonic()
        response = self._http.send(
            "POST", self._auth_url, data={**form, **self._client_credentials}
        )
        transient = self._http.transient_error(response)
        if transient is not None:
            raise transient
        if not response.is_success:
            reason = body_message(response, ("error_description", "error"))
            raise PermanentError(
                f"Contabo refused the {form['grant_type']} grant: {reason}", response.status_code
            )
        body = _json(response)
        expires_in = float(body["expires_in"])
        refresh_in = float(body.get("refresh_expires_in") or 0)
        margin = min(TOKEN_EXPIRY_MARGIN, expires_in / 5)
        return _Token(
            access=str(body["access_token"]),
            refresh=body.get("refresh_token"),
            expires_at=started + expires_in - margin,
            refresh_expires_at=started + refresh_in - margin,
        )


def _instance_path(provider_id: str) -> str:
    if not provider_id.isdigit():
        raise MachineNotFound(f"{provider_id!r} is not a Contabo instance id")
    return f"/compute/instances/{provider_id}"


def _snapshot_path(provider_id: str, snapshot_id: str) -> str:
    return f"{_instance_path(provider_id)}/snapshots/{quote(snapshot_id, safe='')}"


def _snapshot(data: Mapping[str, Any]) -> Snapshot:
    """Contabo reports neither a snapshot's state nor its size: one it lists is usable."""
    created = str(data.get("createdDate") or "")
    return Snapshot(
        provider_snapshot_id=str(data["snapshotId"]),
        name=str(data.get("name") or ""),
        created_at=datetime.fromisoformat(created) if created else None,
        size=None,
        status=SnapshotState.AVAILABLE,
    )


def _default_user(os_type: str) -> str:
    try:
        return DEFAULT_USERS[os_type]
    except KeyError:
        raise PermanentError(f"unknown os_type {os_type!r} (windows or linux)") from None


def _required(value: str, what: str) -> str:
    if not value:
        # A missing field would not fail at Contabo: it would order a default machine.
        raise PermanentError(f"a Contabo order needs a {what}")
    return value


def _machine(data: Mapping[str, Any]) -> Machine:
    """Normalise an instance; a cancelled contract counts as gone (we asked for it)."""
    status = str(data.get("status") or "unknown")
    state = STATES.get(status, MachineState.PENDING)
    if data.get("cancelDate"):
        state = MachineState.GONE
    ip_config = data.get("ipConfig") or {}
    ipv4 = (ip_config.get("v4") or {}).get("ip") or None
    ipv6 = (ip_config.get("v6") or {}).get("ip") or None
    return Machine(
        provider_id=str(data["instanceId"]),
        label=str(data.get("displayName") or ""),
        state=state,
        ready=state is MachineState.RUNNING and ipv4 is not None,
        ip_address=ipv4,
        ipv6_address=ipv6,
        plan=str(data.get("productId") or ""),
        region=str(data.get("region") or ""),
    )


def _first(body: Mapping[str, Any]) -> dict[str, Any]:
    data = body.get("data") or []
    if not data:
        raise TransientError("Contabo answered without data")
    return dict(data[0])


def _json(response: httpx.Response) -> dict[str, Any]:
    if response.status_code == 204:  # a delete answers with no body
        return {}
    try:
        body = response.json()
    except ValueError as exc:
        raise TransientError(
            f"Contabo answered {response.status_code} with a body that is not JSON"
        ) from exc
    return body if isinstance(body, dict) else {}


# Found by the registry: the client this module adds.
CLIENT = ContaboClient
