"""What the provider emulators share: machines whose state moves with time, fault
injection, a request-rate limit, an admin API for tests, RDP listeners, errors answered in
each provider's shape, and the command-line options of the settings.

Each emulated machine, once booted and powered on, listens on its own loopback address
(127.x.y.z) and answers the first step of the RDP handshake (an X.224 Connection Confirm),
so the platform's readiness probe is exercised for real.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import selectors
import socket
import struct
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any

from flask import Blueprint, Flask, Response, abort, jsonify, request
from werkzeug.exceptions import HTTPException
from werkzeug.serving import BaseWSGIServer, make_server

FAULT_KINDS = (
    "error_500",
    "rate_limit_429",
    "timeout",
    "reset",
    "lost_response",
    "slow_response",  # does the work, then holds the answer for `delay` seconds
    "permanent",
)

CALL_LOG_SIZE = 200_000  # calls kept by /_emulator/call-log

ErrorRenderer = Callable[[int, str], Response]  # (status, message) in a provider's shape


@dataclass
class EmulatorSettings:
    boot_seconds: float = 20.0  # from order to booted, also after start/reboot (shorter)
    restart_seconds: float = 3.0  # from reboot/start to RDP answering again
    not_found_seconds: float = 0.0  # a GET right after create 404s for this long
    ip_delay_seconds: float = 1.0  # the address shows as unassigned for this long
    timeout_seconds: float = 10.0  # how long a "timeout" fault holds the request
    rate_limit_per_second: int = 0  # 0: no limit
    rdp_port: int = 3389
    ip_prefix: str = "127.1"  # machines get <prefix>.x.y
    max_page_size: int = 500  # the most items a list answers per page, whatever was asked
    snapshot_seconds: float = 1.0  # from asking for a snapshot to its being complete

    def update(self, values: dict[str, Any]) -> None:
        for key, value in values.items():
            if not hasattr(self, key):
                abort(400, f"unknown setting {key}")
            setattr(self, key, type(getattr(self, key))(value))


@dataclass
class EmulatedMachine:
    id: str
    label: str
    plan: str
    region: str
    os_type: str
    ip: str
    created_at: float
    ready_at: float  # when the machine (re)finishes booting
    power: str = "running"  # running | stopped
    destroyed: bool = False
    password: str | None = None
    user_data: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def booted(self, now: float) -> bool:
        return not self.destroyed and self.power == "running" and now >= self.ready_at

    def ip_assigned(self, now: float, delay: float) -> bool:
        return now >= self.created_at + delay


@dataclass
class EmulatedSnapshot:
    """A snapshot of a machine's disk; each emulator renders it in its provider's shape."""

    id: str
    machine_id: str
    name: str
    created_at: float  # monotonic
    created_date: str  # ISO 8601, as the provider shows it
    ready_at: float  # when it is complete
    size: int  # bytes

    def complete(self, now: float) -> bool:
        return now >= self.ready_at


@dataclass
class Fault:
    operation: str
    kind: str
    remaining: int
    status: int = 500
    message: str = "injected failure"
    retry_after: float | None = None
    delay: float = 0.0


class RdpListeners:
    """Opens and closes a listening socket per booted machine; answers X.224 requests."""

    def __init__(self) -> None:
        self.selector = selectors.DefaultSelector()
        self.listening: dict[tuple[str, int], socket.socket] = {}
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._serve, name="rdp-listeners", daemon=True)
        self.thread.start()

    def sync(self, wanted: set[tuple[str, int]]) -> None:
        with self.lock:
            for address in set(self.listening) - wanted:
                sock = self.listening.pop(address)
                self.selector.unregister(sock)
                sock.close()
            for address in wanted - set(self.listening):
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    sock.bind(address)
                except OSError:
                    sock.close()
                    continue
                sock.listen(16)
                sock.setblocking(False)
                self.selector.register(sock, selectors.EVENT_READ)
                self.listening[address] = sock

    def _serve(self) -> None:
        while not self.stopped.is_set():
            with self.lock:
                events = self.selector.select(timeout=0) if self.listening else []
            for key, _ in events:
                try:
                    conn, _ = key.fileobj.accept()  # type: ignore[union-attr]
                except OSError:
                    continue
                threading.Thread(target=self._answer, args=(conn,), daemon=True).start()
            time.sleep(0.01)

    @staticmethod
    def _answer(conn: socket.socket) -> None:
        with conn:
            conn.settimeout(2)
            try:
                data = conn.recv(64)
            except OSError:
                return
            if len(data) < 11 or data[0] != 3 or data[5] & 0xF0 != 0xE0:
                return
            # Connection Confirm with an RDP_NEG_RSP selecting TLS.
            negotiation = struct.pack("<BBHI", 0x02, 0, 8, 0x00000001)
            x224 = struct.pack("!BBHHB", 6 + len(negotiation), 0xD0, 0, 0x1234, 0)
            payload = x224 + negotiation
            conn.sendall(struct.pack("!BBH", 3, 0, 4 + len(payload)) + payload)

    def close(self) -> None:
        self.sync(set())
        self.stopped.set()


class Emulator:
    """State and behaviour shared by one provider's emulator."""

    def __init__(self, name: str, settings: EmulatorSettings) -> None:
        self.name = name
        self.settings = settings
        self.lock = threading.RLock()
        self.machines: dict[str, EmulatedMachine] = {}
        self.snapshots: dict[str, EmulatedSnapshot] = {}
        self.faults: list[Fault] = []
        self.calls: Counter[str] = Counter()
        # When each call arrived (wall clock), for benchmarks timing request to provider call.
        self.call_log: deque[tuple[float, str, str]] = deque(maxlen=CALL_LOG_SIZE)
        self.recent: deque[float] = deque()
        self._ips = itertools.count(2)
        self.rdp = RdpListeners()
        self._ticker = threading.Thread(target=self._tick, name=f"{name}-ticker", daemon=True)
        self._ticker.start()

    # -- machines ---------------------------------------------------------------------
    def next_ip(self) -> str:
        n = next(self._ips)
        return f"{self.settings.ip_prefix}.{n // 250}.{n % 250 + 2}"

    def add(self, machine: EmulatedMachine) -> EmulatedMachine:
        with self.lock:
            self.machines[machine.id] = machine
        return machine

    def live(self) -> list[EmulatedMachine]:
        with self.lock:
            return [m for m in self.machines.values() if not m.destroyed]

    def lookup(self, machine_id: str) -> EmulatedMachine | None:
        """A live machine, hidden during its first not_found_seconds like the real APIs."""
        with self.lock:
            machine = self.machines.get(machine_id)
        if machine is None or machine.destroyed:
            return None
        if time.monotonic() < machine.created_at + self.settings.not_found_seconds:
            return None
        return machine

    def reboot(self, machine: EmulatedMachine, seconds: float | None = None) -> None:
        machine.power = "running"
        machine.ready_at = time.monotonic() + (
            self.settings.restart_seconds if seconds is None else seconds
        )

    def _tick(self) -> None:
        while True:
            now = time.monotonic()
            port = self.settings.rdp_port
            with self.lock:
                wanted = {(m.ip, port) for m in self.machines.values() if m.booted(now)}
            self.rdp.sync(wanted)
            time.sleep(0.05)

    # -- faults and limits --------------------------------------------------------------
    def take_fault(self, operation: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.operation in (operation, "*") and fault.remaining > 0:
                    fault.remaining -= 1
                    return fault
        return None

    def over_rate_limit(self) -> bool:
        limit = self.settings.rate_limit_per_second
        if not limit:
            return False
        now = time.monotonic()
        with self.lock:
            while self.recent and self.recent[0] <= now - 1.0:
                self.recent.popleft()
            if len(self.recent) >= limit:
                return True
            self.recent.append(now)
        return False

    def reset(self) -> None:
        with self.lock:
            self.machines.clear()
            self.snapshots.clear()
            self.faults.clear()
            self.calls.clear()
            self.call_log.clear()
            self.recent.clear()

    def operation(
        self, name: str, error: ErrorRenderer
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Wrap a provider route: count it, apply the rate limit and any injected fault.

        ``error(status, message)`` renders an error in the provider's own shape.
        """

        def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
            @wraps(view)
            def wrapped(*args: Any, **kwargs: Any) -> Any:
                with self.lock:
                    self.calls[name] += 1
                    self.call_log.append((time.time(), name, str(kwargs.get("instance_id", ""))))
                if self.over_rate_limit():
                    return error(429, "Rate limit exceeded")
                fault = self.take_fault(name)
                if fault is None:
                    return view(*args, **kwargs)
                if fault.kind == "lost_response":
                    view(*args, **kwargs)  # the work is done, the answer never arrives
                    _drop_connection()
                    return error(502, "lost")
                if fault.kind == "slow_response":
                    response = view(*args, **kwargs)
                    time.sleep(fault.delay)
                    return response
                if fault.kind == "timeout":
                    time.sleep(self.settings.timeout_seconds)
                    return error(504, "Gateway timeout")
                if fault.kind == "reset":
                    _drop_connection()
                    return error(502, "reset")
                if fault.kind == "rate_limit_429":
                    response = error(429, "Rate limit exceeded")
                    if fault.retry_after is not None:
                        response.headers["Retry-After"] = str(int(fault.retry_after))
                    return response
                return error(fault.status, fault.message)

            return wrapped

        return decorate

    # -- admin API --------------------------------------------------------------------
    def admin_blueprint(self, describe: Callable[[EmulatedMachine], dict[str, Any]]) -> Blueprint:
        blp = Blueprint(f"{self.name}_admin", __name__, url_prefix="/_emulator")

        @blp.post("/faults")
        def add_fault() -> Any:
            body = request.get_json(force=True)
            if body.get("kind") not in FAULT_KINDS:
                abort(400, f"kind must be one of {FAULT_KINDS}")
            fault = Fault(
                operation=body["operation"],
                kind=body["kind"],
                remaining=int(body.get("count", 1)),
                status=int(body.get("status", 500)),
                message=str(body.get("message", "injected failure")),
                retry_after=body.get("retry_after"),
                delay=float(body.get("delay", 0.0)),
            )
            with self.lock:
                self.faults.append(fault)
            return jsonify(fault.__dict__), 201

        @blp.delete("/faults")
        def clear_faults() -> Any:
            with self.lock:
                self.faults.clear()
            return "", 204

        @blp.get("/machines")
        def machines() -> Any:
            with self.lock:
                everything = list(self.machines.values())
            return jsonify([{**describe(m), "destroyed": m.destroyed} for m in everything])

        @blp.get("/snapshots")
        def snapshots() -> Any:
            with self.lock:
                return jsonify([snapshot.__dict__ for snapshot in self.snapshots.values()])

        @blp.get("/calls")
        def calls() -> Any:
            with self.lock:
                return jsonify(dict(self.calls))

        @blp.get("/call-log")
        def call_log() -> Any:
            """Every call (latest CALL_LOG_SIZE): epoch seconds, operation, machine id."""
            with self.lock:
                logged = list(self.call_log)
            return jsonify([{"at": at, "operation": op, "machine": m} for at, op, m in logged])

        @blp.post("/settings")
        def settings() -> Any:
            self.settings.update(request.get_json(force=True))
            return jsonify(self.settings.__dict__)

        @blp.post("/reset")
        def reset() -> Any:
            self.reset()
            return "", 204

        return blp


class ProviderHttpError(Exception):
    """Raised by a provider route; the renderer given to `render_errors` answers it."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def render_errors(app: Flask, render: ErrorRenderer) -> None:
    """Answer `ProviderHttpError`, unknown routes, wrong methods and aborts in the provider's
    error shape, which ``render(status, message)`` gives."""

    def provider_error(exc: ProviderHttpError) -> Response:
        return render(exc.status, exc.message)

    def http_error(exc: HTTPException) -> Response:
        return render(exc.code or 500, exc.description or exc.name)

    app.register_error_handler(ProviderHttpError, provider_error)
    app.register_error_handler(HTTPException, http_error)


def json_response(body: dict[str, Any], status: int) -> Response:
    """``body`` as JSON, answered with ``status`` (error bodies in the providers' shapes)."""
    response = jsonify(body)
    response.status_code = status
    return response


def json_object(invalid: str, *, required: bool = False) -> dict[str, Any]:
    """The request's JSON object; a 400 saying ``invalid`` for anything else. An empty body
    is ``{}`` unless ``required``."""
    body = request.get_json(silent=True)
    if body is None and not required and not request.get_data():
        return {}
    if not isinstance(body, dict):
        raise ProviderHttpError(400, invalid)
    return body


def add_settings_arguments(parser: argparse.ArgumentParser, defaults: EmulatorSettings) -> None:
    """A command-line option for every setting; `settings_from_args` reads them back."""
    parser.add_argument("--boot-seconds", type=float, default=defaults.boot_seconds)
    parser.add_argument("--restart-seconds", type=float, default=defaults.restart_seconds)
    parser.add_argument("--not-found-seconds", type=float, default=defaults.not_found_seconds)
    parser.add_argument("--ip-delay-seconds", type=float, default=defaults.ip_delay_seconds)
    parser.add_argument("--timeout-seconds", type=float, default=defaults.timeout_seconds)
    parser.add_argument(
        "--rate-limit",
        type=int,
        default=defaults.rate_limit_per_second,
        help="requests a second; 0: none",
    )
    parser.add_argument("--rdp-port", type=int, default=defaults.rdp_port)
    parser.add_argument("--ip-prefix", default=defaults.ip_prefix)


def settings_from_args(args: argparse.Namespace) -> EmulatorSettings:
    return EmulatorSettings(
        boot_seconds=args.boot_seconds,
        restart_seconds=args.restart_seconds,
        not_found_seconds=args.not_found_seconds,
        ip_delay_seconds=args.ip_delay_seconds,
        timeout_seconds=args.timeout_seconds,
        rate_limit_per_second=args.rate_limit,
        rdp_port=args.rdp_port,
        ip_prefix=args.ip_prefix,
    )


def _drop_connection() -> None:
    """Close the client's socket without an HTTP answer (werkzeug's dev server only)."""
    sock = request.environ.get("werkzeug.socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


class BackgroundServer:
    """Serve a WSGI app on 127.0.0.1 in a thread (tests) — `serve_forever` for processes."""

    def __init__(self, app: Flask, port: int = 0) -> None:
        self.server: BaseWSGIServer = make_server("127.0.0.1", port, app, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def start(self) -> BackgroundServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
